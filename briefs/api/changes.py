"""The changes feed: what changed in the published data since a time, read from the audit history
(django-simple-history) so downstream systems can sync incrementally.

Each change names the API resource to refetch (`model` + `key`). Rows that are part of a code's
brief (brief text, modifier guidance, sites, related codes, associated diagnoses) are reported as a
change of the code. Reviewed content counts only while published, or when it stops being published
(retired or deleted, reported as `deleted`): drafts and pending revisions never appear.
"""

from dataclasses import dataclass
from datetime import datetime

from django.db.models import Case, CharField, F, Q, QuerySet, Value, When
from django.db.models.functions import Cast

from codes.models import (
    BillingCode,
    CodeBrief,
    CodeDiagnosis,
    CodeRelationship,
    DiagnosisCode,
    Modifier,
    ModifierGuidance,
    PlaceOfService,
    SiteOfService,
)
from payers.models import Benchmark, CoverageCriterion, DocumentationRequirement, FollowUpGap, Payer, PolicyDocument
from policyhub.choices import WorkflowState
from policyhub.models import ReviewedModel


class ChangeAction:
    CREATED = "created"
    UPDATED = "updated"
    DELETED = "deleted"
    choices = [(CREATED, "created"), (UPDATED, "updated"), (DELETED, "deleted")]


@dataclass(frozen=True)
class Feed:
    """One history table's contribution: which resource its rows change and how to name it."""

    resource: str
    model: type
    key: str
    code: str | None = None
    # False: the row is only part of the resource (a code's brief section), so it always updates it.
    is_resource: bool = True


FEEDS = (
    Feed("codes", BillingCode, key="code", code="code"),
    Feed("codes", CodeBrief, key="code__code", code="code__code", is_resource=False),
    Feed("codes", ModifierGuidance, key="code__code", code="code__code", is_resource=False),
    Feed("codes", SiteOfService, key="code__code", code="code__code", is_resource=False),
    Feed("codes", CodeRelationship, key="from_code__code", code="from_code__code", is_resource=False),
    Feed("codes", CodeRelationship, key="to_code__code", code="to_code__code", is_resource=False),
    Feed("codes", CodeDiagnosis, key="code__code", code="code__code", is_resource=False),
    Feed("modifiers", Modifier, key="code"),
    Feed("places-of-service", PlaceOfService, key="code"),
    Feed("diagnosis-codes", DiagnosisCode, key="code"),
    Feed("payers", Payer, key="slug"),
    Feed("payer-policies", PolicyDocument, key="id"),
    Feed("coverage-criteria", CoverageCriterion, key="id", code="code__code"),
    Feed("documentation-requirements", DocumentationRequirement, key="id", code="code__code"),
    Feed("benchmarks", Benchmark, key="id", code="code__code"),
    Feed("gaps", FollowUpGap, key="id", code="code__code"),
)
RESOURCES = tuple(dict.fromkeys(feed.resource for feed in FEEDS))
# The columns of every row, in order: the union of all feeds needs them aligned.
COLUMNS = ("model", "key", "action", "time", "billing_code", "change_id")


def _action(feed: Feed) -> Case | Value:
    if not feed.is_resource:
        return Value(ChangeAction.UPDATED)
    withdrawn = [When(state=WorkflowState.RETIRED, then=Value(ChangeAction.DELETED))]
    return Case(
        When(history_type="-", then=Value(ChangeAction.DELETED)),
        *(withdrawn if issubclass(feed.model, ReviewedModel) else []),
        When(history_type="+", then=Value(ChangeAction.CREATED)),
        default=Value(ChangeAction.UPDATED),
        output_field=CharField(),
    )


def _history(feed: Feed, since: datetime, until: datetime | None) -> QuerySet:
    rows = feed.model.history.filter(history_date__gte=since)
    if until is not None:
        rows = rows.filter(history_date__lt=until)
    if issubclass(feed.model, ReviewedModel):
        rows = rows.filter(state__in=[WorkflowState.PUBLISHED, WorkflowState.RETIRED], revision_of__isnull=True)
    if not feed.is_resource:
        # The code itself was deleted: its own row already says so.
        rows = rows.filter(Q(**{f"{feed.key}__isnull": False}))
    return rows.order_by().values(
        model=Value(feed.resource, output_field=CharField()),
        key=Cast(F(feed.key), CharField()),
        action=_action(feed),
        time=F("history_date"),
        billing_code=F(feed.code) if feed.code else Value(None, output_field=CharField()),
        change_id=F("history_id"),
    )


def published_changes(*, since: datetime, until: datetime | None = None, resources=None) -> QuerySet:
    """Changes at or after `since` (and before `until`), oldest first, as dicts of `COLUMNS`."""
    feeds = [feed for feed in FEEDS if not resources or feed.resource in resources]
    first, *rest = (_history(feed, since, until) for feed in feeds)
    return first.union(*rest, all=True).order_by("time", "model", "key", "change_id")
