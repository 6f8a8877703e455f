"""Errors and health as clients and load balancers see them: JSON under /api/ (404, 500, 503 with
Retry-After while the database is down), the site's HTML error pages elsewhere, and the health checks."""

import json
import os
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path

import psycopg
import pytest
from django.conf import settings as django_settings
from django.db import connection, connections
from django.test import Client

from codes.models import BillingCode
from payers.models import CoverageCriterion
from policyhub.models import ApiToken
from policyhub.roles import VIEWER, assign_role
from policyhub.settings import redis_cache

pytestmark = pytest.mark.django_db

ROOT = Path(__file__).resolve().parents[2]
# Nothing listens on port 9 (discard) here: connecting is refused at once.
CLOSED_DATABASE = "postgres://postgres@127.0.0.1:9/policyhub"


@pytest.fixture
def viewer_client(django_user_model):
    user = django_user_model.objects.create_user("reader", password="pw-reader-123")
    assign_role(user=user, role=VIEWER)
    client = Client(raise_request_exception=False)
    client.force_login(user)
    return client


def test_unknown_api_url_answers_json_404(viewer_client):
    response = viewer_client.get("/api/v1/no-such-resource/")
    assert response.status_code == 404
    assert response.json() == {
        "detail": "No API resource at /api/v1/no-such-resource/; see /api/v1/ for the list.",
        "code": "not_found",
    }


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("/api/v1/codes/99999/", "No code matches '99999'."),
        ("/api/v1/payers/no-such-payer/", "No payer matches 'no-such-payer'."),
        ("/api/v1/coverage-criteria/123456/", "No coverage criterion matches '123456'."),
    ],
)
def test_missing_object_is_named_as_the_api_names_it(viewer_client, url, message):
    """404 bodies name the resource ("code"), not the model class ("BillingCode")."""
    response = viewer_client.get(url)
    assert response.status_code == 404
    assert response.json() == {"detail": message, "code": "not_found"}


def test_api_bug_answers_json_500(viewer_client, monkeypatch):
    """An unexpected error in an API view still answers the documented JSON body."""
    from payers.api.views import PayerViewSet

    def broken(self, request, *args, **kwargs):
        raise RuntimeError("bug")

    monkeypatch.setattr(PayerViewSet, "list", broken)
    response = viewer_client.get("/api/v1/payers/")
    assert response.status_code == 500
    assert response["Content-Type"] == "application/json"
    assert response.json()["code"] == "server_error"


def refused_statement():
    """A statement the database refuses while the connection stays up, as a bug would send it: on
    PostgreSQL more parameters than one statement may carry (refused by the driver, no SQLSTATE),
    on SQLite a table that does not exist."""
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(f"SELECT 1 WHERE 1 IN ({', '.join(['%s'] * 70_000)})", [1] * 70_000)
        else:
            cursor.execute("SELECT * FROM no_such_table")


def test_a_statement_the_database_refuses_answers_500_not_an_outage(viewer_client, monkeypatch, caplog):
    """An OperationalError is not always a lost database. One for a statement the database refused
    is a bug: 500 with the error body, not a 503 that has clients retry a database that is there
    and puts "database unavailable" in the logs."""
    from payers.api.views import PayerViewSet
    from payers.views import PayerListView

    monkeypatch.setattr(PayerViewSet, "list", lambda self, request, *args, **kwargs: refused_statement())
    monkeypatch.setattr(PayerListView, "get", lambda self, request: refused_statement())
    api = viewer_client.get("/api/v1/payers/")
    assert api.status_code == 500 and api.json()["code"] == "server_error"
    assert "Retry-After" not in api
    page = viewer_client.get("/payers/")
    assert page.status_code == 500 and b"Something went wrong on our side" in page.content
    assert "database unavailable" not in caplog.text
    # The database was there all along.
    assert viewer_client.get("/api/v1/codes/").status_code == 200


@pytest.mark.django_db(transaction=True)
def test_a_connection_the_database_ends_mid_life_answers_503(django_user_model):
    """The other side of the line above: a session PostgreSQL ends (a restart, a failover, an
    operator) is an outage, 503 with Retry-After, whatever the driver's error says."""
    if connection.vendor != "postgresql":
        pytest.skip("PostgreSQL ends sessions; SQLite has none")
    user = django_user_model.objects.create_user("reader", password="pw-reader-123")
    assign_role(user=user, role=VIEWER)
    _, key = ApiToken.objects.issue(user=user, name="t")
    client = Client(raise_request_exception=False)
    assert client.get("/api/v1/payers/", HTTP_AUTHORIZATION=f"Token {key}").status_code == 200
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        (pid,) = cursor.fetchone()
    db = connection.settings_dict
    with psycopg.connect(
        host=db["HOST"] or "127.0.0.1", port=db["PORT"] or 5432, user=db["USER"], dbname=db["NAME"], autocommit=True
    ) as other:
        other.execute("SELECT pg_terminate_backend(%s)", [pid])
    try:
        api = client.get("/api/v1/payers/", HTTP_AUTHORIZATION=f"Token {key}")
        assert api.status_code == 503 and api["Retry-After"] == "10"
        assert api.json()["code"] == "service_unavailable"
    finally:
        connection.close()  # the test client keeps the connection Django would drop between requests


def test_pages_answer_html_error_pages_in_the_site_layout(viewer_client, monkeypatch):
    not_found = viewer_client.get("/no-such-page/")
    assert not_found.status_code == 404
    assert b"This page does not exist" in not_found.content and b'class="site-header"' in not_found.content

    from payers.views import PayerListView

    monkeypatch.setattr(PayerListView, "get", lambda self, request: 1 / 0)
    failed = viewer_client.get("/payers/")
    assert failed.status_code == 500
    assert b"Something went wrong on our side" in failed.content and b"site-footer" in failed.content


def test_health_live_and_ready_answer_without_login():
    client = Client()
    assert client.get("/health/live").json() == {"status": "ok"}
    ready = client.get("/health/ready")
    assert ready.status_code == 200
    assert ready.json() == {"status": "ok", "checks": {"database": "ok", "migrations": "ok", "cache": "ok"}}
    assert "no-cache" in ready["Cache-Control"]


PROBE = """
import json, os, django
django.setup()
from django.test import Client
client = Client(raise_request_exception=False)
out = {}
for name, url, headers in [
    ("ready", "/health/ready", {}),
    ("live", "/health/live", {}),
    ("api", "/api/v1/codes/", {"HTTP_AUTHORIZATION": "Token " + os.environ["PROBE_TOKEN"]}),
    ("page", "/codes/", {"HTTP_COOKIE": "sessionid=some-session"}),
]:
    response = client.get(url, **headers)
    out[name] = {"status": response.status_code, "body": response.content.decode(),
                 "retry_after": response.get("Retry-After"), "type": response.get("Content-Type")}
print(json.dumps(out))
"""


def test_readiness_probes_at_once_do_not_fail_each_other(monkeypatch):
    """Another probe (another worker, another load balancer) writes the cache between this probe's
    write and its read: both stay ready."""
    from django.core.cache import cache

    from policyhub import health

    class AnotherProbeMeanwhile:
        def __init__(self):
            self.done = False

        def get(self, key, *args, **kwargs):
            if not self.done:
                self.done = True
                assert health._cache() == "ok"
            return cache.get(key, *args, **kwargs)

        def __getattr__(self, name):
            return getattr(cache, name)

    monkeypatch.setattr(health, "cache", AnotherProbeMeanwhile())
    ready = Client().get("/health/ready")
    assert ready.status_code == 200, ready.json()
    assert health.cache.done


def test_database_outage_answers_503_json_and_ready_reports_it(django_user_model):
    """With DATABASE_URL at a closed port: /health/ready is 503 naming the database, /health/live
    stays 200, the API answers 503 JSON with Retry-After instead of an HTML 500, and a logged-in
    reader's page is the site's 503 page."""
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "policyhub.settings",
        "DATABASE_URL": CLOSED_DATABASE,
        "PROBE_TOKEN": "not-checked-the-database-is-down",
    }
    result = subprocess.run(  # noqa: S603 - our own interpreter and script
        [sys.executable, "-c", PROBE], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stderr[-2000:]
    out = json.loads(result.stdout.strip().splitlines()[-1])

    assert out["ready"]["status"] == 503
    ready = json.loads(out["ready"]["body"])
    assert ready["status"] == "unavailable"
    assert ready["checks"]["database"].startswith("unavailable")
    assert "127.0.0.1" not in out["ready"]["body"] and "postgres" not in out["ready"]["body"]
    assert out["live"]["status"] == 200

    assert out["api"]["status"] == 503
    assert out["api"]["type"] == "application/json"
    assert out["api"]["retry_after"] == "10"
    assert json.loads(out["api"]["body"])["code"] == "service_unavailable"

    assert out["page"]["status"] == 503
    assert out["page"]["type"].startswith("text/html") and out["page"]["retry_after"] == "10"
    assert "PolicyHub cannot reach its database" in out["page"]["body"]


@pytest.fixture(params=["refused", "silent"])
def lost_redis(request):
    """A Redis URL where nothing answers: a closed port (connections refused), or a port that accepts
    connections and never replies (a Redis that hangs: the kernel completes them from the backlog)."""
    server = socket.create_server(("127.0.0.1", 0), backlog=64)
    port = server.getsockname()[1]
    if request.param == "refused":
        server.close()
    yield f"redis://127.0.0.1:{port}/0"
    server.close()


@pytest.mark.django_db(transaction=True)
def test_a_lost_redis_answers_token_calls_503_and_ready_reports_it(reader, settings, lost_redis):
    """With the shared cache's Redis gone, API tokens (whose request counts live there) answer 503
    JSON with Retry-After within the Redis timeout, not a 500 and not a worker held; readiness
    reports the cache; a reader's pages, which do not need Redis, still answer."""
    settings.CACHES = {**settings.CACHES, "default": redis_cache(lost_redis)}
    _, key = ApiToken.objects.issue(user=reader, name="t")
    answers = {}

    def ask():
        client = Client(raise_request_exception=False)
        try:
            asked = time.monotonic()
            answers["api"] = client.get("/api/v1/codes/", HTTP_AUTHORIZATION=f"Token {key}")
            answers["api seconds"] = time.monotonic() - asked
            answers["ready"] = client.get("/health/ready")
            client.force_login(reader)
            answers["page"] = client.get("/codes/")
        finally:
            # This thread's own connection, or PostgreSQL keeps the test database in use.
            connections.close_all()

    asking = threading.Thread(target=ask, daemon=True)
    asking.start()
    asking.join(timeout=60)
    assert not asking.is_alive(), "a request waited on Redis past its timeout"
    # PolicyHub's own limit, not the client library's default (5 s in redis-py 8).
    assert answers["api seconds"] < 3 * settings.REDIS_TIMEOUT_SECONDS

    api = answers["api"]
    assert api.status_code == 503 and api["Retry-After"] == "10"
    assert api.json() == {
        "detail": "The shared cache is unavailable; retry after the Retry-After seconds.",
        "code": "service_unavailable",
    }
    ready = answers["ready"]
    assert ready.status_code == 503 and ready.json()["checks"]["cache"].startswith("unavailable")
    assert "127.0.0.1" not in ready.content.decode()
    assert answers["page"].status_code == 200


def test_token_of_user_without_role_is_refused(django_user_model):
    user = django_user_model.objects.create_user("system", password="pw-system-123")
    _, key = ApiToken.objects.issue(user=user, name="t")
    response = Client().get("/api/v1/codes/", HTTP_AUTHORIZATION=f"Token {key}")
    assert response.status_code == 403
    assert response.json()["code"] == "permission_denied"


def free_port() -> int:
    with socket.create_server(("127.0.0.1", 0)) as probe:
        return probe.getsockname()[1]


@pytest.mark.django_db(transaction=True)
def test_a_web_request_stuck_behind_a_lock_answers_503_after_the_statement_timeout(reader):
    """gunicorn's threaded workers never stop a slow request themselves: a request queued behind a
    migration's lock waited as long as the lock was held, holding a thread and a database session.
    Under gunicorn.conf.py, PostgreSQL cancels its statement after WEB_STATEMENT_TIMEOUT_SECONDS and
    the request answers 503 (JSON for the API, the site's page for people); the worker's next
    request is answered as usual, and manage.py (imports, migrations) runs without the limit."""
    if connection.vendor != "postgresql":
        pytest.skip("statement_timeout is PostgreSQL's")
    _, key = ApiToken.objects.issue(user=reader, name="t")
    browser = Client()
    browser.force_login(reader)
    cookie = f"{django_settings.SESSION_COOKIE_NAME}={browser.cookies[django_settings.SESSION_COOKIE_NAME].value}"
    db = connection.settings_dict
    url = (
        f"postgres://{db['USER']}:{db['PASSWORD'] or ''}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"
    )
    port = free_port()
    env = {
        **{name: value for name, value in os.environ.items() if name != "DB_STATEMENT_TIMEOUT_SECONDS"},
        "DJANGO_SETTINGS_MODULE": "policyhub.settings",
        "DATABASE_URL": url,
        "WEB_STATEMENT_TIMEOUT_SECONDS": "1",
        "WEB_CONCURRENCY": "1",
        "GUNICORN_BIND": f"127.0.0.1:{port}",
        "LOG_LEVEL": "WARNING",
    }
    server = subprocess.Popen(  # noqa: S603 - our own interpreter and configuration
        [sys.executable, "-m", "gunicorn", "-c", "gunicorn.conf.py"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    locker = psycopg.connect(url)
    try:
        base = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 120  # workers import Django first: slow on a busy machine
        while True:
            try:
                with urllib.request.urlopen(f"{base}/health/live", timeout=5):  # noqa: S310 - our own server
                    break
            except OSError:
                assert time.monotonic() < deadline, "gunicorn did not start"
                time.sleep(0.2)

        def get(path: str, **headers):
            request = urllib.request.Request(f"{base}{path}", headers=headers)  # noqa: S310
            asked = time.monotonic()
            try:
                with urllib.request.urlopen(request, timeout=30) as answer:  # noqa: S310
                    return answer.status, answer.headers, answer.read().decode(), time.monotonic() - asked
            except urllib.error.HTTPError as error:
                return error.code, error.headers, error.read().decode(), time.monotonic() - asked

        # What migrations altering the tables hold until they commit.
        tables = ", ".join(model._meta.db_table for model in (CoverageCriterion, BillingCode))
        locker.execute(f"LOCK TABLE {tables} IN ACCESS EXCLUSIVE MODE")
        status, headers, body, seconds = get("/api/v1/coverage-criteria/", Authorization=f"Token {key}")
        assert (status, headers["Retry-After"]) == (503, "10"), body
        assert json.loads(body) == {
            "detail": "The database stopped this request after 1 s; retry after the Retry-After seconds, "
            "or ask for less (narrower filters, a smaller page).",
            "code": "query_timeout",
        }
        assert 1 <= seconds < 10
        status, headers, body, seconds = get("/codes/", Cookie=cookie)
        assert status == 503 and headers["Content-Type"].startswith("text/html"), body
        assert "PolicyHub's database stopped this page" in body and "longer than 1 seconds" in body
        assert seconds < 10

        locker.rollback()
        status, _headers, body, _seconds = get("/api/v1/coverage-criteria/", Authorization=f"Token {key}")
        assert status == 200 and json.loads(body)["results"] == []
    finally:
        locker.close()
        server.terminate()
        server.wait(timeout=30)

    shown = subprocess.run(  # noqa: S603 - our own interpreter and script
        [
            sys.executable,
            "manage.py",
            "shell",
            "-c",
            "from django.db import connection as c; "
            "cursor = c.cursor(); cursor.execute('SHOW statement_timeout'); print(cursor.fetchone()[0])",
        ],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert shown.stdout.strip().splitlines()[-1] == "0", shown.stderr[-2000:]
