"""Abstract bases every PolicyHub model builds on.

- `TimeStampedModel`: created/updated timestamps and the user who last changed the row.
- `CuratedModel`: adds audit history (django-simple-history) and an optimistic-lock
  `version` that every save through the admin or a service must present.
- `ReviewedModel`: adds the editorial workflow (draft -> in review -> published -> retired)
  and the link from a draft revision to the published row it will replace.
"""

import hashlib
import secrets
from collections.abc import Collection
from datetime import timedelta

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models, router, transaction
from django.db.models import Q
from django.utils import timezone
from simple_history.manager import HistoryManager
from simple_history.models import HistoricalRecords

from policyhub import changelog
from policyhub.changelog import ChangeLogEntry, ChangeLogSpec  # noqa: F401  (the model lives there)
from policyhub.choices import WorkflowState
from policyhub.throttling import RequestCount  # noqa: F401  (the model lives there)
from policyhub.webhooks import WebhookDelivery, WebhookEndpoint  # noqa: F401  (the models live there)


class ChangeLoggingHistoryManager(HistoryManager):
    """simple-history's manager; its bulk history (bulk_create_with_history) also fills the change log."""

    def bulk_history_create(self, objs, *args, update=False, **kwargs):
        objs = list(objs)
        created = super().bulk_history_create(objs, *args, update=update, **kwargs)
        changelog.record_rows(self.model.instance_type, [obj.pk for obj in objs])
        return created


class AuditHistory(HistoricalRecords):
    """simple-history's audit trail, its tables indexed only for how history is read.

    History is looked up by the row it records (`id`) and by time (`history_date`, indexed by
    simple-history itself), never by the other columns it copies. simple-history would index every
    column the model indexes, plus every foreign key and unique field: on a release import that
    meant fourteen indexes to maintain per history row, a large part of the import's time.
    """

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("history_manager", ChangeLoggingHistoryManager)
        super().__init__(*args, **kwargs)

    def create_historical_record(self, instance, history_type, using=None):
        """Every audited change also goes to the change log, in the same transaction."""
        super().create_historical_record(instance, history_type, using=using)
        changelog.record_instance(instance, removed=history_type == "-")

    def copy_fields(self, model):
        fields = super().copy_fields(model)
        for name, field in fields.items():
            if name != model._meta.pk.name:
                field.db_index = False
        return fields


def unnamed_columns(model, condition: Q) -> set[str]:
    """The fields of `model` that `condition` does not name (by name or column): leaving them out of a
    check constraint's validation cannot change its verdict. Empty when the condition names anything
    else (a path through a relation), so such a check is validated as Django does."""
    fields = model._meta.local_concrete_fields
    named = condition.referenced_base_fields
    if not named <= {field.name for field in fields} | {field.attname for field in fields} | {"pk"}:
        return set()
    kept = {field.name for field in fields if field.name in named or field.attname in named}
    return ({field.name for field in fields} | {"pk"}) - kept - (named & {"pk"})


class TimeStampedModel(models.Model):
    """Rows that record when they were created and changed, and by whom."""

    # Nothing filters or sorts by creation time; `updated_at` drives change feeds and sync.
    created_at = models.DateTimeField("created", auto_now_add=True)
    updated_at = models.DateTimeField("updated", auto_now=True, db_index=True)
    changed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="last changed by",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        editable=False,
        related_name="+",
    )

    class Meta:
        abstract = True

    def validate_constraints(self, exclude=None, *, stored: Collection[str] = ()):
        """Django's constraint validation, with each check constraint given only the columns it names.

        Django checks a CheckConstraint with one query that carries every column of the row as a
        parameter; for a billing code (thirty columns, several checks) that query building was half
        of an admin import's time per row. The verdict is the same: the check reads nothing else.

        `stored`: fields whose values the caller read from a stored row and has not changed. A check
        constraint that names nothing else held when the database stored them, so it is not asked
        again (a savepoint and a query each: a workflow transition validates every row it moves,
        2,000 in one admin action). Unique constraints are always checked: other rows change.
        """
        exclude = set(exclude or ())
        errors = {}
        using = router.db_for_write(type(self), instance=self)
        for model_class, constraints in self.get_constraints():
            every = {field.name for field in model_class._meta.local_concrete_fields} | {"pk"}
            for constraint in constraints:
                narrowed = exclude
                if isinstance(constraint, models.CheckConstraint) and isinstance(constraint.condition, Q):
                    unnamed = unnamed_columns(model_class, constraint.condition)
                    if unnamed and every - unnamed <= set(stored):
                        continue
                    narrowed = exclude | unnamed
                try:
                    constraint.validate(model_class, self, exclude=narrowed, using=using)
                except ValidationError as error:
                    if getattr(error, "code", None) == "unique" and len(getattr(constraint, "fields", ())) == 1:
                        errors.setdefault(constraint.fields[0], []).append(error)
                    else:
                        errors = error.update_error_dict(errors)
        if errors:
            raise ValidationError(errors)


class CuratedModel(TimeStampedModel):
    """Curated facts: every change is kept in history and guarded by a version number."""

    version = models.PositiveIntegerField(
        default=1,
        editable=False,
        help_text="Increases on every save; a save based on an older version is refused.",
    )
    history = AuditHistory(inherit=True)
    # How rows name what changed in the change log (`policyhub.changelog`); None: not published data.
    change_log: ChangeLogSpec | None = None

    class Meta:
        abstract = True

    def save(self, *args, **kwargs):
        # The row, its history and its change-log entries commit together.
        with transaction.atomic(using=kwargs.get("using")):
            super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        with transaction.atomic(using=kwargs.get("using")):
            return super().delete(*args, **kwargs)


class ReviewedQuerySet(models.QuerySet):
    def published(self):
        return self.filter(state=WorkflowState.PUBLISHED)

    def current(self):
        """Rows that are not pending revisions of another row."""
        return self.filter(revision_of__isnull=True)


def current_rows() -> Q:
    """The rows of reviewed content that a uniqueness rule is about: published ones and new drafts,
    not the pending revisions of a published row (which repeat its key) nor retired rows."""
    return Q(revision_of__isnull=True) & ~Q(state=WorkflowState.RETIRED)


class ReviewedModel(CuratedModel):
    """Curated content that must be reviewed before readers and downstream systems see it."""

    state = models.CharField(
        max_length=16,
        choices=WorkflowState.choices,
        default=WorkflowState.DRAFT,
        db_index=True,
        editable=False,
        help_text="Only published content appears on pages and in the API.",
    )
    revision_of = models.ForeignKey(
        "self",
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        editable=False,
        related_name="revisions",
        help_text="The published row this draft will replace once approved.",
    )
    submitted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        editable=False,
        related_name="+",
    )
    submitted_at = models.DateTimeField(null=True, blank=True, editable=False)
    reviewed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        editable=False,
        related_name="+",
    )
    reviewed_at = models.DateTimeField(null=True, blank=True, editable=False)
    review_comment = models.TextField(blank=True, help_text="The reviewer's reason when sending an item back to draft.")

    # Set on the rows an editor's preview shows in place of published ones (briefs.sections). The
    # default spares templates a failed lookup per row, which Django answers with `dir()` of the
    # whole instance: 50 rows of a payer's page, up to 1,250 cells of the coverage matrix.
    is_pending = False

    objects = ReviewedQuerySet.as_manager()

    class Meta:
        abstract = True
        constraints = [
            models.CheckConstraint(
                condition=Q(state__in=WorkflowState.values),
                name="%(app_label)s_%(class)s_state_valid",
                violation_error_message="Unknown workflow state.",
            ),
            # Two editors starting a revision at once must not make two: the second start fails here.
            models.UniqueConstraint(
                fields=["revision_of"],
                condition=Q(state__in=[WorkflowState.DRAFT, WorkflowState.IN_REVIEW]),
                name="%(app_label)s_%(class)s_one_open_revision",
                violation_error_message="This item already has an open revision; edit that revision instead.",
            ),
        ]


class ApiTokenQuerySet(models.QuerySet):
    def active(self):
        return self.filter(revoked_at__isnull=True)


class ApiTokenManager(models.Manager.from_queryset(ApiTokenQuerySet)):
    def issue(self, *, user, name: str = "", expires_at=None) -> tuple["ApiToken", str]:
        """Create a token for `user`; returns it with its key, which is never retrievable again."""
        token = self.model(user=user, name=name, expires_at=expires_at)
        key = token.assign_new_key()
        token.save()
        return token, key


class ApiToken(models.Model):
    """A key that a downstream system sends as `Authorization: Token <key>` to read the API.

    Only a SHA-256 digest of the key is stored: the key is shown once when the token is created.
    A salted slow hash is unnecessary here because keys are 192 random bits, not passwords, and a
    plain digest keeps the lookup a single indexed query.
    """

    KEY_PREFIX = "ph_"
    PREFIX_LENGTH = 10
    # A sync sends many requests a minute; recording each one would turn every read into a write.
    LAST_USED_RESOLUTION = timedelta(minutes=1)

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="api_tokens",
        help_text="Requests made with the token act as this user.",
    )
    name = models.CharField(max_length=100, blank=True, help_text="What the token is for, e.g. 'claim scrubber sync'.")
    prefix = models.CharField(
        max_length=PREFIX_LENGTH, editable=False, help_text="The key's first characters, to recognise it in logs."
    )
    digest = models.CharField(max_length=64, unique=True, editable=False)
    created_at = models.DateTimeField("created", auto_now_add=True)
    last_used_at = models.DateTimeField("last used", null=True, blank=True, editable=False)
    revoked_at = models.DateTimeField("revoked", null=True, blank=True, editable=False, db_index=True)
    expires_at = models.DateTimeField(
        "expires", null=True, blank=True, help_text="After this moment the token is refused; empty: never expires."
    )

    objects = ApiTokenManager()

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = "API token"

    def __str__(self):
        label = f"{self.prefix}… ({self.user})"
        return f"{self.name}: {label}" if self.name else label

    @staticmethod
    def hash_key(key: str) -> str:
        return hashlib.sha256(key.encode()).hexdigest()

    def assign_new_key(self) -> str:
        """Give an unsaved token a fresh key; returns the key, of which only the digest is kept."""
        key = self.KEY_PREFIX + secrets.token_hex(24)
        self.prefix = key[: self.PREFIX_LENGTH]
        self.digest = self.hash_key(key)
        return key

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None and not self.is_expired

    @property
    def is_expired(self) -> bool:
        return self.expires_at is not None and self.expires_at <= timezone.now()

    def revoke(self) -> None:
        if self.revoked_at is None:
            self.revoked_at = timezone.now()
            self.save(update_fields=["revoked_at"])

    def record_use(self) -> None:
        now = timezone.now()
        if self.last_used_at is None or now - self.last_used_at >= self.LAST_USED_RESOLUTION:
            ApiToken.objects.filter(pk=self.pk).update(last_used_at=now)
            self.last_used_at = now
