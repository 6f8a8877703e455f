"""Structured logs: one JSON line per request (and per error, with its traceback), tagged with the
request id that the response returns in X-Request-ID."""

import io
import json
import logging

import pytest
import structlog
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from policyhub.roles import VIEWER, assign_role

pytestmark = pytest.mark.django_db


@pytest.fixture
def log_lines():
    """The JSON lines the console handler writes during the test."""
    handler = next(
        h for h in logging.getLogger().handlers if isinstance(h.formatter, structlog.stdlib.ProcessorFormatter)
    )
    buffer = io.StringIO()
    previous = handler.setStream(buffer)

    def lines() -> list[dict]:
        return [json.loads(line) for line in buffer.getvalue().splitlines() if line.strip()]

    yield lines
    handler.setStream(previous)


@pytest.fixture
def reader(django_user_model):
    user = django_user_model.objects.create_user("reader", password="pw-reader-123")
    assign_role(user=user, role=VIEWER)
    return user


def test_each_request_writes_one_json_line_with_its_id(reader, log_lines, demo):
    client = Client()
    client.force_login(reader)
    response = client.get("/codes/93590/", HTTP_X_REQUEST_ID="lb-7f3a.42")
    assert response["X-Request-ID"] == "lb-7f3a.42"
    (line,) = [line for line in log_lines() if line["event"] == "request"]
    assert line["request_id"] == "lb-7f3a.42"
    assert (line["method"], line["path"], line["status"], line["user_id"]) == ("GET", "/codes/93590/", 200, reader.pk)
    assert line["level"] == "info" and line["time"].endswith("Z")
    assert line["duration_ms"] > 0 and line["query_count"] > 0


def test_a_request_id_is_made_when_none_or_a_bad_one_is_sent(log_lines):
    client = Client()
    made = client.get("/health/live")["X-Request-ID"]
    refused = client.get("/health/live", HTTP_X_REQUEST_ID='bad id"\n{}')["X-Request-ID"]
    assert len(made) == 32 and len(refused) == 32 and made != refused
    assert [line["request_id"] for line in log_lines() if line["event"] == "request"] == [made, refused]


def test_an_error_logs_its_traceback_with_the_request_id(reader, log_lines, monkeypatch):
    from payers.views import PayerListView

    monkeypatch.setattr(PayerListView, "get", lambda self, request: 1 / 0)
    client = Client(raise_request_exception=False)
    client.force_login(reader)
    response = client.get("/payers/", HTTP_X_REQUEST_ID="req-500")
    assert response.status_code == 500
    lines = [line for line in log_lines() if line.get("request_id") == "req-500"]
    error = next(line for line in lines if line["level"] == "error" and line["event"] != "request")
    assert "ZeroDivisionError" in json.dumps(error["exception"])
    request_line = next(line for line in lines if line["event"] == "request")
    assert request_line["status"] == 500 and request_line["level"] == "error"


def test_an_error_is_logged_without_its_frames_local_values(reader, log_lines, monkeypatch):
    """The traceback names files, lines and functions only. Its frames' local values would put
    whatever they held in the logs (an API token, a password being checked) and would run again every
    queryset they held (printing a queryset evaluates it): behind a lock or in an outage, each
    one waited out the statement timeout again before the error's answer could be sent."""
    from payers.models import Payer
    from payers.views import PayerListView

    def failing_get(self, request):
        token = "tok-secret-4711"  # noqa: S105 - what must not reach the log
        payers = Payer.objects.filter(name__contains=token)
        return payers.get.nonexistent  # AttributeError, with both locals in its frame

    monkeypatch.setattr(PayerListView, "get", failing_get)
    client = Client(raise_request_exception=False)
    client.force_login(reader)
    with CaptureQueriesContext(connection) as queries:
        response = client.get("/payers/", HTTP_X_REQUEST_ID="req-locals")
    assert response.status_code == 500
    lines = [line for line in log_lines() if line.get("request_id") == "req-locals"]
    error = next(line for line in lines if line["level"] == "error" and line["event"] != "request")
    frames = error["exception"][0]["frames"]
    assert any(frame["name"] == "failing_get" for frame in frames)
    assert "tok-secret-4711" not in json.dumps(lines)
    assert not [query for query in queries.captured_queries if Payer._meta.db_table in query["sql"]]


def test_a_password_reset_token_stays_out_of_the_request_log(log_lines):
    """A reset link's token sets the user's password until it is used or expires: the request line
    names the page, not the token. Django's next step (`set-password`) holds none and is kept."""
    token = "cx1b2p-5f0a9e8d7c6b5a4f3e2d1c0b9a8f7e6d"
    client = Client()
    client.get(f"/accounts/reset/MQ/{token}/")
    client.get("/accounts/reset/MQ/set-password/")
    paths = [line["path"] for line in log_lines() if line["event"] == "request"]
    assert paths == ["/accounts/reset/MQ/[token]/", "/accounts/reset/MQ/set-password/"]
    assert token not in json.dumps(log_lines())


def test_a_password_reset_token_stays_out_of_every_log_line(log_lines, rf):
    """Whatever writes the line: Django's "Internal Server Error: <path>" with the request attached,
    as it logs a failed page, goes through the same JSON lines."""
    token = "cx1b2p-5f0a9e8d7c6b5a4f3e2d1c0b9a8f7e6d"
    request = rf.get(f"/accounts/reset/MQ/{token}/")
    logging.getLogger("django.request").error("Internal Server Error: %s", request.path, extra={"request": request})
    (line,) = [line for line in log_lines() if line["logger"] == "django.request"]
    assert line["event"] == "Internal Server Error: /accounts/reset/MQ/[token]/"
    assert "/accounts/reset/MQ/[token]/" in line["request"]
    assert token not in json.dumps(line)
