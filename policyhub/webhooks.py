"""Change notifications: the change log pushed to downstream systems' endpoints (webhooks).

An endpoint receives a POST for each batch of change-log entries after the last position it
acknowledged, in change-log order, each signed with HMAC-SHA256 over the timestamp and the body.
Delivery is at-least-once: the acknowledged position moves only when the endpoint answers 2xx, so a
batch that failed or timed out is sent again (after 1, 2, 4, ... × `WEBHOOK_RETRY_SECONDS`), and an
endpoint that fails `WEBHOOK_MAX_FAILURES` times in a row is disabled until someone enables it again.

Deliveries run as tasks of django-tasks' database backend (`manage.py db_worker --queue-name
webhooks`), any number of workers on any number of hosts: a lease on the endpoint's row lets one
worker at a time deliver to it, which is what keeps each endpoint's batches in order.
"""

import hashlib
import hmac
import json
import secrets
import time
import urllib.error
import urllib.request
from datetime import timedelta
from enum import Enum

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import URLValidator
from django.db import models, transaction
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone
from django_tasks import task

from policyhub.changelog import changes_committed, entry_rows, newest_change

SIGNATURE_HEADER = "X-PolicyHub-Signature"
TIMESTAMP_HEADER = "X-PolicyHub-Timestamp"
DELIVERY_HEADER = "X-PolicyHub-Delivery"
# The longest wait between two tries, however many failed before.
MAX_RETRY_DELAY = timedelta(hours=1)


def new_secret() -> str:
    return secrets.token_urlsafe(32)


def _newest_position() -> int:
    """Where a new endpoint starts: it is told of the changes committed after it was registered."""
    return newest_change()[0]


def change_log_resources() -> list[str]:
    from policyhub.api_changes import RESOURCES  # the API's module; imported late, it needs every app's models

    return RESOURCES


class WebhookEndpoint(models.Model):
    """A downstream system's URL that receives the change log as signed POSTs, batch by batch."""

    name = models.CharField(max_length=100, unique=True, help_text="Who receives it, e.g. 'claim scrubber'.")
    url = models.URLField(
        "URL",
        max_length=500,
        validators=[URLValidator(schemes=["https", "http"])],
        help_text="Receives a POST per batch of changes (https in production).",
    )
    secret = models.CharField(
        max_length=100,
        default=new_secret,
        help_text="Shared with the receiver, which checks each request's signature with it.",
    )
    resources = models.JSONField(
        default=list,
        blank=True,
        help_text="Only changes of these API resources; empty: all of them.",
    )
    delivered_position = models.BigIntegerField(
        "acknowledged position",
        default=_newest_position,
        help_text="The last change-log position the endpoint acknowledged; it receives the changes after it.",
    )
    failures = models.PositiveIntegerField(default=0, editable=False, help_text="Failed tries in a row.")
    retry_at = models.DateTimeField("next try", null=True, blank=True, editable=False)
    disabled_at = models.DateTimeField(
        "disabled", null=True, blank=True, editable=False, help_text="Set after too many failures in a row."
    )
    # A worker delivering to the endpoint holds it until then; a worker that died loses it by itself.
    lease_until = models.DateTimeField(null=True, blank=True, editable=False)
    created_at = models.DateTimeField("created", auto_now_add=True)

    class Meta:
        ordering = ["name"]
        verbose_name = "webhook endpoint"
        constraints = [
            models.CheckConstraint(condition=Q(delivered_position__gte=0), name="webhook_position_not_negative"),
        ]

    def __str__(self):
        return self.name

    def clean(self):
        if not isinstance(self.resources, list) or not all(isinstance(name, str) for name in self.resources):
            raise ValidationError({"resources": 'A list of API resource names, e.g. ["codes", "payers"].'})
        unknown = sorted(set(self.resources) - set(change_log_resources()))
        if unknown:
            known = ", ".join(change_log_resources())
            raise ValidationError({"resources": f"Unknown resource {unknown[0]!r}; the change log reports {known}."})

    @property
    def status(self) -> str:
        if self.disabled_at:
            return "disabled"
        if self.retry_at:
            return "retrying"
        return "active"


class DeliveryOutcome(models.TextChoices):
    SUCCEEDED = "succeeded", "succeeded"
    FAILED = "failed", "failed"


class WebhookDelivery(models.Model):
    """One try to deliver a batch of changes to an endpoint: the delivery log."""

    endpoint = models.ForeignKey(WebhookEndpoint, on_delete=models.CASCADE, related_name="deliveries")
    first_position = models.BigIntegerField()
    last_position = models.BigIntegerField()
    entries = models.PositiveIntegerField(help_text="Changes in the batch.")
    attempt = models.PositiveIntegerField(help_text="1 for the first try of this batch, then 2, 3, ...")
    outcome = models.CharField(max_length=9, choices=DeliveryOutcome.choices)
    response_status = models.PositiveSmallIntegerField("HTTP status", null=True, blank=True)
    error = models.CharField(max_length=500, blank=True, help_text="Why it failed, when it did.")
    duration_ms = models.PositiveIntegerField("duration (ms)")
    sent_at = models.DateTimeField("sent", default=timezone.now, db_index=True)

    class Meta:
        ordering = ["-sent_at", "-id"]
        verbose_name = "webhook delivery"
        verbose_name_plural = "webhook deliveries"
        constraints = [
            models.CheckConstraint(
                condition=Q(first_position__lte=models.F("last_position")), name="webhook_delivery_positions_ordered"
            ),
        ]

    def __str__(self):
        return f"{self.endpoint} #{self.first_position}–{self.last_position} {self.outcome}"


def sign(secret: str, timestamp: str, body: bytes) -> str:
    """The signature header's value: HMAC-SHA256 over `<timestamp>.<body>` with the shared secret."""
    digest = hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256).hexdigest()
    return f"sha256={digest}"


def verify(secret: str, timestamp: str, body: bytes, signature: str, *, tolerance: float = 300) -> bool:
    """What a receiver does: the signature matches and the timestamp is recent (no replays)."""
    try:
        fresh = abs(time.time() - int(timestamp)) <= tolerance
    except ValueError:
        return False
    return fresh and hmac.compare_digest(sign(secret, timestamp, body), signature)


def retry_delay(failures: int) -> timedelta:
    """1, 2, 4, 8, ... times WEBHOOK_RETRY_SECONDS after the 1st, 2nd, 3rd ... failure in a row."""
    delay = timedelta(seconds=settings.WEBHOOK_RETRY_SECONDS * 2 ** min(failures - 1, 20))
    return min(delay, MAX_RETRY_DELAY)


class _NoRedirects(urllib.request.HTTPRedirectHandler):
    """A redirect is a failure: following it would turn the POST into a GET or resend it elsewhere."""

    def redirect_request(self, *args, **kwargs):
        return None


_opener = urllib.request.build_opener(_NoRedirects)


def _post(endpoint: WebhookEndpoint, body: bytes, delivery_id: str) -> tuple[int | None, str]:
    """POST the batch; returns the HTTP status (None when there was none) and an error, empty on 2xx."""
    if not endpoint.url.startswith(("https://", "http://")):
        return None, "The URL must start with https:// or http://."
    timestamp = str(int(time.time()))
    request = urllib.request.Request(  # noqa: S310 - the scheme is checked above
        endpoint.url,
        data=body,
        method="POST",
        headers={
            "Content-Type": "application/json",
            "User-Agent": "PolicyHub-Webhooks/1",
            TIMESTAMP_HEADER: timestamp,
            SIGNATURE_HEADER: sign(endpoint.secret, timestamp, body),
            DELIVERY_HEADER: delivery_id,
        },
    )
    try:
        with _opener.open(request, timeout=settings.WEBHOOK_TIMEOUT_SECONDS) as response:
            status = response.status
    except urllib.error.HTTPError as error:
        return error.code, f"answered HTTP {error.code}"
    except (OSError, ValueError) as error:  # refused, timed out, DNS, TLS, a malformed URL
        return None, f"{type(error).__name__}: {error}"[:500]
    if 200 <= status < 300:
        return status, ""
    return status, f"answered HTTP {status}"


class Batch(Enum):
    SENT = "sent"
    FAILED = "failed"
    NOTHING_NEW = "nothing new"
    NOT_MINE = "not mine"  # another worker holds it, it waits for its next try, or it is disabled


def _entries(endpoint: WebhookEndpoint, top: int, limit: int) -> list[tuple]:
    """The endpoint's next entries up to position `top`, as the changes feed reads them."""
    resources = sorted(endpoint.resources or ())
    return entry_rows(after=endpoint.delivered_position, upto=top, limit=limit, resources=resources)


def _claim(endpoint_id: int) -> bool:
    """Take the endpoint's lease if it is free, due and enabled: one worker delivers to it at a time."""
    now = timezone.now()
    lease = timedelta(seconds=settings.WEBHOOK_TIMEOUT_SECONDS + 60)
    return bool(
        WebhookEndpoint.objects.filter(pk=endpoint_id, disabled_at__isnull=True)
        .filter(Q(lease_until__isnull=True) | Q(lease_until__lt=now))
        .filter(Q(retry_at__isnull=True) | Q(retry_at__lte=now))
        .update(lease_until=now + lease)
    )


def deliver_batch(endpoint_id: int) -> Batch:
    """Send the next batch of changes to the endpoint, if it is this worker's to send."""
    from policyhub.api_changes import entries_from_values

    if not _claim(endpoint_id):
        return Batch.NOT_MINE
    endpoint = WebhookEndpoint.objects.get(pk=endpoint_id)
    try:
        top = newest_change()[0]
        rows = _entries(endpoint, top, settings.WEBHOOK_BATCH_SIZE)
        if not rows:
            if endpoint.delivered_position < top:  # none of this endpoint's resources changed: skip ahead
                WebhookEndpoint.objects.filter(pk=endpoint_id).update(delivered_position=top)
            return Batch.NOTHING_NEW
        first, last = rows[0][0], rows[-1][0]
        body = json.dumps(
            {
                "endpoint": endpoint.name,
                "first_position": first,
                "last_position": last,
                "changes": entries_from_values(rows, reverse("api:api-root")),
            },
            separators=(",", ":"),
        ).encode()
        attempt = endpoint.failures + 1
        started = time.monotonic()
        status, error = _post(endpoint, body, f"{endpoint.pk}:{first}-{last}:{attempt}")
        duration_ms = int((time.monotonic() - started) * 1000)
        with transaction.atomic():
            WebhookDelivery.objects.create(
                endpoint=endpoint,
                first_position=first,
                last_position=last,
                entries=len(rows),
                attempt=attempt,
                outcome=DeliveryOutcome.FAILED if error else DeliveryOutcome.SUCCEEDED,
                response_status=status,
                error=error,
                duration_ms=duration_ms,
            )
            if not error:
                WebhookEndpoint.objects.filter(pk=endpoint_id).update(
                    delivered_position=last, failures=0, retry_at=None
                )
                return Batch.SENT
            _failed(endpoint, attempt)
        return Batch.FAILED
    finally:
        WebhookEndpoint.objects.filter(pk=endpoint_id).update(lease_until=None)


def _failed(endpoint: WebhookEndpoint, failures: int) -> None:
    now = timezone.now()
    if failures >= settings.WEBHOOK_MAX_FAILURES:
        WebhookEndpoint.objects.filter(pk=endpoint.pk).update(failures=failures, retry_at=None, disabled_at=now)
        return
    retry_at = now + retry_delay(failures)
    WebhookEndpoint.objects.filter(pk=endpoint.pk).update(failures=failures, retry_at=retry_at)
    transaction.on_commit(lambda: deliver_changes.using(run_after=retry_at).enqueue(endpoint.pk))


def has_pending(endpoint_id: int) -> bool:
    endpoint = WebhookEndpoint.objects.filter(pk=endpoint_id, disabled_at__isnull=True, retry_at__isnull=True).first()
    return endpoint is not None and bool(_entries(endpoint, newest_change()[0], 1))


@task(queue_name="webhooks")
def deliver_changes(endpoint_id: int) -> None:
    """Deliver the endpoint's batches until it is up to date or a try fails (which schedules the retry).

    After letting go of the endpoint it looks once more: a change that committed while this worker
    held the endpoint had its own task turned away (`NOT_MINE`), so this one delivers it.
    """
    while True:
        outcome = deliver_batch(endpoint_id)
        if outcome == Batch.SENT:
            continue
        if outcome == Batch.NOTHING_NEW and has_pending(endpoint_id):
            continue
        return


def queue_deliveries(endpoints, *, retry_now: bool = False) -> int:
    """Queue a delivery to each enabled endpoint of `endpoints` once the transaction commits.

    `retry_now`: an endpoint waiting for its next try is tried at once (someone fixed the receiver).
    """
    endpoints = endpoints.filter(disabled_at__isnull=True)
    if retry_now:
        endpoints.update(retry_at=None)
    ids = list(endpoints.values_list("pk", flat=True))
    transaction.on_commit(lambda: [deliver_changes.enqueue(pk) for pk in ids])
    return len(ids)


def notify_endpoints(**kwargs) -> None:
    """Run when a transaction that changed published data has committed."""
    queue_deliveries(WebhookEndpoint.objects.all())


def enable(endpoints) -> int:
    """Enable disabled endpoints again: their failures are forgotten and delivery resumes where it stopped."""
    ids = list(endpoints.filter(disabled_at__isnull=False).values_list("pk", flat=True))
    WebhookEndpoint.objects.filter(pk__in=ids).update(disabled_at=None, retry_at=None, failures=0)
    return queue_deliveries(WebhookEndpoint.objects.filter(pk__in=ids))


changes_committed.connect(notify_endpoints, dispatch_uid="webhooks.notify_endpoints")
