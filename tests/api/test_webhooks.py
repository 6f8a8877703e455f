"""Change notifications: the change log POSTed to registered endpoints, signed, retried with
backoff, in order, with a delivery log; a real worker process delivers to a real HTTP receiver."""

import hashlib
import hmac
import json
import subprocess
import sys
import threading
import time
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from io import StringIO
from itertools import pairwise

import pytest
from django.core.exceptions import ValidationError
from django.core.management import call_command
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from codes.models import DiagnosisCode
from payers.models import Payer
from policyhub import webhooks
from policyhub.webhooks import (
    SIGNATURE_HEADER,
    TIMESTAMP_HEADER,
    Batch,
    WebhookDelivery,
    WebhookEndpoint,
    deliver_batch,
    deliver_changes,
    verify,
)
from tests.api.live import ROOT, environment, manage, printed, scratch_database
from tests.factories import PayerFactory
from tests.imports.conftest import FIXTURES


class Receiver:
    """A downstream system's endpoint on 127.0.0.1: records each POST; answers `statuses` in turn
    (then 200), or sleeps `delay` seconds before answering."""

    def __init__(self, statuses=(), delay: float = 0):
        self.requests: list[dict] = []
        self.statuses = list(statuses)
        self.delay = delay
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers["Content-Length"]))
                receiver.requests.append({"headers": self.headers, "body": body, "at": time.monotonic()})
                time.sleep(receiver.delay)
                status = receiver.statuses.pop(0) if receiver.statuses else 200
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}/hook"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def batches(self) -> list[dict]:
        return [json.loads(request["body"]) for request in self.requests]

    def close(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receiver():
    made = []

    def make(**kwargs) -> Receiver:
        made.append(Receiver(**kwargs))
        return made[-1]

    yield make
    for each in made:
        each.close()


def _change_three_rows():
    DiagnosisCode.objects.create(code="X019", description="First")
    payer = PayerFactory(name="Acme Health")
    payer.name = "Acme Health Plan"
    payer.save()


@pytest.mark.django_db
def test_a_batch_is_signed_and_names_each_change_in_order(receiver, settings):
    """The endpoint receives the changes after its registration, in change-log order, with a
    signature over timestamp and body that checks out with its secret and fails with any other."""
    DiagnosisCode.objects.create(code="X009", description="Before the endpoint: not sent")
    hook = receiver()
    endpoint = WebhookEndpoint.objects.create(name="scrubber", url=hook.url)
    _change_three_rows()

    deliver_changes.call(endpoint.pk)

    (request,) = hook.requests
    headers, body = request["headers"], request["body"]
    assert verify(endpoint.secret, headers[TIMESTAMP_HEADER], body, headers[SIGNATURE_HEADER])
    expected = hmac.new(endpoint.secret.encode(), f"{headers[TIMESTAMP_HEADER]}.".encode() + body, hashlib.sha256)
    assert headers[SIGNATURE_HEADER] == f"sha256={expected.hexdigest()}", "as docs/api.md tells receivers"
    assert not verify("another secret", headers[TIMESTAMP_HEADER], body, headers[SIGNATURE_HEADER])
    assert not verify(endpoint.secret, headers[TIMESTAMP_HEADER], body + b" ", headers[SIGNATURE_HEADER])
    stale = str(int(headers[TIMESTAMP_HEADER]) - 3600)
    assert not verify(endpoint.secret, stale, body, webhooks.sign(endpoint.secret, stale, body))
    changes = json.loads(body)["changes"]
    assert [(c["resource"], c["key"], c["action"]) for c in changes] == [
        ("diagnosis-codes", "X019", "upserted"),
        ("payers", Payer.objects.get(name="Acme Health Plan").slug, "upserted"),
        ("payers", Payer.objects.get(name="Acme Health Plan").slug, "upserted"),
    ]
    positions = [c["position"] for c in changes]
    assert positions == sorted(positions) and len(set(positions)) == 3
    assert changes[0]["url"] == "/api/v1/diagnosis-codes/X019/"
    endpoint.refresh_from_db()
    assert endpoint.delivered_position == positions[-1]
    (logged,) = WebhookDelivery.objects.all()
    assert (logged.outcome, logged.response_status, logged.entries, logged.last_position) == (
        "succeeded",
        200,
        3,
        positions[-1],
    )

    deliver_changes.call(endpoint.pk)  # nothing new: nothing sent
    assert len(hook.requests) == 1


@pytest.mark.django_db
def test_batches_are_cut_at_the_batch_size_and_follow_each_other(receiver, settings):
    settings.WEBHOOK_BATCH_SIZE = 4
    hook = receiver()
    endpoint = WebhookEndpoint.objects.create(name="warehouse", url=hook.url)
    for i in range(10):
        DiagnosisCode.objects.create(code=f"X{i:02d}9", description=f"Code {i}")

    deliver_changes.call(endpoint.pk)

    batches = hook.batches()
    assert [len(batch["changes"]) for batch in batches] == [4, 4, 2]
    keys = [change["key"] for batch in batches for change in batch["changes"]]
    assert keys == [f"X{i:02d}9" for i in range(10)]
    assert all(later["first_position"] > earlier["last_position"] for earlier, later in pairwise(batches))


@pytest.mark.django_db
def test_only_the_chosen_resources_are_sent(receiver):
    hook = receiver()
    endpoint = WebhookEndpoint.objects.create(name="payer feed", url=hook.url, resources=["payers"])
    DiagnosisCode.objects.create(code="X019", description="Not for this endpoint")
    deliver_changes.call(endpoint.pk)
    assert hook.requests == []
    endpoint.refresh_from_db()
    assert endpoint.delivered_position > 0, "it skips ahead past changes it does not take"

    PayerFactory(name="Zeta Care")
    deliver_changes.call(endpoint.pk)
    assert [c["resource"] for c in hook.batches()[0]["changes"]] == ["payers"]


@pytest.mark.django_db
def test_a_failing_endpoint_is_retried_with_backoff_then_disabled_and_enabled_again(
    receiver, settings, django_capture_on_commit_callbacks
):
    """Each failure schedules the next try later (30 s, 60 s, ...) as a queued task; the batch is
    resent unchanged until it is acknowledged; after WEBHOOK_MAX_FAILURES in a row the endpoint is
    disabled; enabling it again delivers where it stopped."""
    settings.WEBHOOK_RETRY_SECONDS = 30
    settings.WEBHOOK_MAX_FAILURES = 3
    hook = receiver(statuses=[500, 503, 500])
    endpoint = WebhookEndpoint.objects.create(name="flaky", url=hook.url)
    _change_three_rows()

    for failures, delay in [(1, 30), (2, 60)]:
        before = timezone.now()
        with django_capture_on_commit_callbacks(execute=True):
            assert deliver_batch(endpoint.pk) == Batch.FAILED
        endpoint.refresh_from_db()
        assert endpoint.failures == failures and endpoint.status == "retrying"
        assert before + timedelta(seconds=delay - 1) < endpoint.retry_at < timezone.now() + timedelta(seconds=delay)
        queued = DBTaskResult.objects.filter(queue_name="webhooks").order_by("-enqueued_at").first()
        assert abs(queued.run_after - endpoint.retry_at) < timedelta(seconds=1)
        assert deliver_batch(endpoint.pk) == Batch.NOT_MINE, "not before its next try"
        WebhookEndpoint.objects.filter(pk=endpoint.pk).update(retry_at=timezone.now())  # its time has come

    assert deliver_batch(endpoint.pk) == Batch.FAILED
    endpoint.refresh_from_db()
    assert endpoint.status == "disabled" and endpoint.retry_at is None
    assert deliver_batch(endpoint.pk) == Batch.NOT_MINE
    bodies = {request["body"] for request in hook.requests}
    assert len(hook.requests) == 3 and len(bodies) == 1, "the same batch each time"
    log = list(WebhookDelivery.objects.order_by("id").values_list("attempt", "outcome", "response_status"))
    assert log == [(1, "failed", 500), (2, "failed", 503), (3, "failed", 500)]

    webhooks.enable(WebhookEndpoint.objects.filter(pk=endpoint.pk))
    deliver_changes.call(endpoint.pk)
    endpoint.refresh_from_db()
    assert endpoint.status == "active" and endpoint.failures == 0
    assert hook.requests[-1]["body"] in bodies
    assert WebhookDelivery.objects.order_by("-id").first().outcome == "succeeded"


@pytest.mark.django_db
def test_a_receiver_that_does_not_answer_in_time_is_a_failure(receiver, settings):
    settings.WEBHOOK_TIMEOUT_SECONDS = 0.3
    hook = receiver(delay=1.5)
    endpoint = WebhookEndpoint.objects.create(name="slow", url=hook.url)
    _change_three_rows()
    assert deliver_batch(endpoint.pk) == Batch.FAILED
    logged = WebhookDelivery.objects.get()
    assert logged.outcome == "failed" and "timed out" in logged.error
    endpoint.refresh_from_db()
    assert endpoint.delivered_position < webhooks.newest_change()[0], "not acknowledged"


@pytest.mark.django_db
def test_an_endpoint_names_only_resources_the_change_log_reports():
    endpoint = WebhookEndpoint(name="typo", url="https://example.org/hook", resources=["codez"])
    with pytest.raises(ValidationError, match="Unknown resource 'codez'"):
        endpoint.full_clean()
    with pytest.raises(ValidationError, match="url"):
        WebhookEndpoint(name="file", url="file:///etc/passwd").full_clean()


@pytest.mark.django_db
def test_administrators_register_an_endpoint_and_enable_it_again(admin_client, receiver):
    hook = receiver()
    response = admin_client.post(
        "/admin/policyhub/webhookendpoint/add/",
        {"name": "scrubber", "url": hook.url, "secret": "s3cret-shared", "resources": ["codes", "payers"]},
    )
    assert response.status_code == 302, response.context["adminform"].form.errors if response.context else ""
    endpoint = WebhookEndpoint.objects.get(name="scrubber")
    assert endpoint.resources == ["codes", "payers"] and endpoint.secret == "s3cret-shared"
    WebhookEndpoint.objects.filter(pk=endpoint.pk).update(disabled_at=timezone.now(), failures=10)
    page = admin_client.get("/admin/policyhub/webhookendpoint/").content.decode()
    assert "disabled" in page
    admin_client.post(
        "/admin/policyhub/webhookendpoint/",
        {"action": "enable_again", "_selected_action": [endpoint.pk]},
    )
    endpoint.refresh_from_db()
    assert endpoint.status == "active" and endpoint.failures == 0


def test_a_real_worker_delivers_every_change_once_in_order_after_retries(tmp_path, receiver):
    """Two `db_worker` processes deliver what curators and a release import commit: the receiver
    refuses the first two tries, the worker tries again after the backoff, and in the end the
    acknowledged batches hold every change-log position after registration exactly once, in
    order, each request signed."""
    url = scratch_database(tmp_path, "hooks")
    hook = receiver(statuses=[500, 500])
    env = environment(url, WEBHOOK_RETRY_SECONDS="0.5", WEBHOOK_BATCH_SIZE="7")
    secret, start = printed(
        url,
        "from policyhub.webhooks import WebhookEndpoint; "
        f"e = WebhookEndpoint.objects.create(name='live', url='{hook.url}'); print(e.secret, e.delivered_position)",
        env,
    ).split()
    # Two workers: the endpoint's lease must keep its batches in order between them.
    workers = [
        subprocess.Popen(
            [sys.executable, "manage.py", "db_worker", "--queue-name", "webhooks", "--interval", "0.1"],
            cwd=ROOT,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        for _ in range(2)
    ]
    try:
        printed(
            url,
            "from codes.models import DiagnosisCode\n"
            "for i in range(12):\n"
            "    DiagnosisCode.objects.create(code=f'X{i:02d}9', description=f'Live {i}')\n"
            "DiagnosisCode.objects.get(code='X009').delete()\n",
            env,
        )
        manage(url, "import_icd10cm", str(FIXTURES / "icd10cm_order_2030.txt"), env=env)
        expected = json.loads(
            printed(
                url,
                "import json; from policyhub.changelog import ChangeLogEntry, newest_change; newest_change(); "
                f"print(json.dumps(list(ChangeLogEntry.objects.filter(position__gt={start}).order_by('position')"
                ".values_list('position', flat=True))))",
                env,
            )
        )
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if len(hook.requests) > 2 and hook.batches()[-1]["last_position"] == expected[-1]:
                break
            time.sleep(0.2)
    finally:
        for worker in workers:
            worker.terminate()
        for worker in workers:
            worker.wait(20)

    assert len(expected) == 12 + 1 + 10
    requests = hook.requests
    assert all(
        verify(secret, r["headers"][TIMESTAMP_HEADER], r["body"], r["headers"][SIGNATURE_HEADER]) for r in requests
    )
    bodies = [r["body"] for r in requests]
    firsts = [json.loads(body)["first_position"] for body in bodies[:3]]
    assert firsts[0] == firsts[1] == firsts[2] == expected[0], "the refused batch is sent again"
    assert requests[2]["at"] - requests[1]["at"] > requests[1]["at"] - requests[0]["at"] > 0.4, "backoff doubles"
    delivered = [c["position"] for body in bodies[2:] for c in json.loads(body)["changes"]]
    assert delivered == expected, "every change once, in change-log order"
    log = json.loads(
        printed(
            url,
            "import json; from policyhub.webhooks import WebhookDelivery; "
            "print(json.dumps(list(WebhookDelivery.objects.order_by('id').values_list('attempt', 'outcome'))))",
            env,
        )
    )
    assert log[:3] == [[1, "failed"], [2, "failed"], [3, "succeeded"]]
    assert all(outcome == "succeeded" for _, outcome in log[3:]) and len(log) == len(requests)


@pytest.mark.django_db
def test_the_cron_safety_net_queues_a_delivery_to_each_enabled_endpoint(django_capture_on_commit_callbacks):
    enabled = WebhookEndpoint.objects.create(name="on", url="https://on.example.org/hook")
    WebhookEndpoint.objects.create(name="off", url="https://off.example.org/hook", disabled_at=timezone.now())
    with django_capture_on_commit_callbacks(execute=True):
        call_command("queue_webhook_deliveries", stdout=StringIO())
    assert list(DBTaskResult.objects.values_list("queue_name", "args_kwargs")) == [
        ("webhooks", {"args": [enabled.pk], "kwargs": {}})
    ]
