"""Reads of payers and coverage, shared by pages and API (the code brief's reads, which combine
them with the catalogue, are in `briefs/selectors.py`).

Only published content is returned: drafts never reach readers or downstream systems here.
"""

from datetime import date

from django.db.models import Count, F, OuterRef, QuerySet, Subquery
from django.db.models.functions import Coalesce

from payers.choices import OPEN_GAP_STATUSES
from payers.models import (
    Benchmark,
    CoverageCriterion,
    DocumentationRequirement,
    FollowUpGap,
    Payer,
    PolicyDocument,
)
from policyhub.remembered import AsOf, remembered

# The order gaps are worked in, wherever they are listed: most urgent priority, then soonest due (undated last).
GAP_ORDER = (F("priority").asc(), F("due_date").asc(nulls_last=True), "pk")


def gap_order_key(gap: FollowUpGap) -> tuple:
    """GAP_ORDER for gaps already in memory (an editor's preview merges pending gaps into a list)."""
    return (gap.priority, gap.due_date is None, gap.due_date or date.min, gap.pk)


def published_coverage() -> QuerySet[CoverageCriterion]:
    return (
        CoverageCriterion.objects.published()
        .current()
        .select_related("code", "payer", "policy")
        .prefetch_related("diagnosis_codes")
    )


# What the payer page's coverage table shows of each criterion, its code and its policy.
PAYER_TABLE_COLUMNS = (
    "code__code",
    "code__short_descriptor",
    "policy__number",
    "state",
    "coverage_status",
    "prior_auth",
    "prior_auth_delegate",
    "criteria",
    "effective_start",
    "effective_end",
    "last_verified",
)


def payer_coverage_table(payer: Payer) -> QuerySet[CoverageCriterion]:
    """A payer's published criteria for its page, in code order, newest period first.

    Only the columns the table shows, with the code and policy joined (not the payer: it is this
    one, nor the diagnoses): the page shows 50 rows, and every column read and converted counts.
    """
    return (
        CoverageCriterion.objects.published()
        .current()
        .filter(payer=payer)
        .select_related("code", "policy")
        .only(*PAYER_TABLE_COLUMNS)
        .order_by("code__code", "-effective_start")
    )


def published_documentation() -> QuerySet[DocumentationRequirement]:
    return DocumentationRequirement.objects.published().current().select_related("code", "payer", "policy")


def published_gaps() -> QuerySet[FollowUpGap]:
    """Gaps readers see (any status): published ones, never a draft or an editor's pending revision."""
    return FollowUpGap.objects.published().current()


def open_gaps() -> QuerySet[FollowUpGap]:
    return published_gaps().filter(status__in=OPEN_GAP_STATUSES).select_related("code", "payer", "policy", "assignee")


def gap_list() -> QuerySet[FollowUpGap]:
    return published_gaps().select_related("code", "payer", "policy", "assignee")


def benchmark_list() -> QuerySet[Benchmark]:
    return Benchmark.objects.published().select_related("code", "payer")


def payer_list() -> QuerySet[Payer]:
    return Payer.objects.order_by("name")


def policy_document_list() -> QuerySet[PolicyDocument]:
    return PolicyDocument.objects.published().select_related("payer")


def coverage_in_force(day: date) -> QuerySet[CoverageCriterion]:
    """Published criteria in force on `day`, with their code, payer and source policy (coverage matrix, CSV)."""
    return CoverageCriterion.objects.published().current().in_force_on(day).select_related("code", "payer", "policy")


def tracked_payers() -> QuerySet[Payer]:
    return Payer.objects.filter(is_tracked=True).order_by("name")


def open_gap_counts_by_category(*, as_of: AsOf) -> list[dict]:
    """Open gaps per category, largest first: `[{"category": "benchmark", "count": 3}, ...]`,
    remembered until published data changes after the change position `as_of`."""
    counts = open_gaps().values("category").annotate(count=Count("pk")).order_by("-count", "category")
    return remembered(counts, list, as_of=as_of)


def count_per(queryset: QuerySet, link: str) -> Coalesce:
    # A correlated COUNT per outer row: joining several one-to-many tables would multiply their rows.
    counted = queryset.filter(**{link: OuterRef("pk")}).order_by().values(link).annotate(n=Count("pk")).values("n")
    return Coalesce(Subquery(counted), 0)


def summarise_payers(payers: list[Payer], *, as_of: AsOf) -> list[Payer]:
    """Sets `policy_count`, `coverage_count` (published criteria) and `open_gap_count` on a page
    of payers, in three grouped queries over just those payers, remembered until published data
    changes after the change position `as_of` (they count every criterion of 50 payers).

    Counted after the page is cut: a payer list sorted by name would otherwise count every payer's
    rows before choosing the page (PostgreSQL evaluates the select list before a sort).
    """
    keys = [payer.pk for payer in payers]
    counts = {
        # COUNT(*), not COUNT(id): read from the partial index of published criteria alone.
        name: remembered(
            queryset.filter(payer__in=keys).order_by().values_list("payer").annotate(n=Count("*")), dict, as_of=as_of
        )
        for name, queryset in (
            ("policy_count", PolicyDocument.objects.published()),
            ("coverage_count", CoverageCriterion.objects.published().current()),
            ("open_gap_count", published_gaps().filter(status__in=OPEN_GAP_STATUSES)),
        )
    }
    for payer in payers:
        for name, per_payer in counts.items():
            setattr(payer, name, per_payer.get(payer.pk, 0))
    return payers
