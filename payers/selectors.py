"""Reads of payers and coverage, shared by pages and API.

`code_brief_queryset()` is the one place that knows everything a code brief shows; the brief page,
its Markdown download and the API's code detail all read through it, in a constant number of queries.
Only published content is returned: drafts never reach readers or downstream systems here.
"""

from datetime import date

from django.db.models import Count, OuterRef, Prefetch, Q, QuerySet, Subquery
from django.db.models.functions import Coalesce

from codes.models import BillingCode
from codes.selectors import catalogue_prefetches
from payers.choices import OPEN_GAP_STATUSES
from payers.models import (
    Benchmark,
    CoverageCriterion,
    DocumentationRequirement,
    FollowUpGap,
    Payer,
    PolicyDocument,
)
from policyhub.choices import WorkflowState


def published_coverage() -> QuerySet[CoverageCriterion]:
    return (
        CoverageCriterion.objects.published()
        .current()
        .select_related("code", "payer", "policy")
        .prefetch_related("diagnosis_codes")
    )


def published_documentation() -> QuerySet[DocumentationRequirement]:
    return DocumentationRequirement.objects.published().current().select_related("code", "payer", "policy")


def open_gaps() -> QuerySet[FollowUpGap]:
    return FollowUpGap.objects.filter(status__in=OPEN_GAP_STATUSES).select_related(
        "code", "payer", "policy", "assignee"
    )


def gap_list() -> QuerySet[FollowUpGap]:
    return FollowUpGap.objects.select_related("code", "payer", "policy", "assignee")


def benchmark_list() -> QuerySet[Benchmark]:
    return Benchmark.objects.select_related("code", "payer")


def payer_list() -> QuerySet[Payer]:
    return Payer.objects.order_by("name")


def policy_document_list() -> QuerySet[PolicyDocument]:
    return PolicyDocument.objects.select_related("payer")


def code_brief_queryset() -> QuerySet[BillingCode]:
    """Billing codes with every section of their brief prefetched.

    Attributes set on each code: `published_briefs`, `coverage` (published criteria with payer, policy
    and diagnosis codes), `documentation` (published requirements), `benchmark_rows`, `open_gaps`,
    plus the catalogue's `modifier_guidance`, `sites_of_service`, `relationships_from/_to`,
    `code_diagnoses`.
    """
    return BillingCode.objects.prefetch_related(
        *catalogue_prefetches(),
        Prefetch(
            "coverage_criteria",
            queryset=published_coverage().order_by("payer__name", "-effective_start"),
            to_attr="coverage",
        ),
        Prefetch(
            "documentation_requirements",
            queryset=published_documentation().order_by("payer__name", "kind"),
            to_attr="documentation",
        ),
        Prefetch("benchmarks", queryset=Benchmark.objects.select_related("payer"), to_attr="benchmark_rows"),
        Prefetch("gaps", queryset=open_gaps().order_by("category", "priority", "id"), to_attr="open_gaps"),
    )


def code_brief(code: str) -> BillingCode | None:
    """One code with its whole brief, or None. Prefers the CPT/HCPCS row that has a published brief."""
    return code_brief_queryset().filter(code=code.strip().upper()).order_by("system").first()


def codes_with_coverage_summary() -> QuerySet[BillingCode]:
    """Codes annotated with how many published criteria and open gaps they have (for lists)."""
    return BillingCode.objects.annotate(
        coverage_count=Count(
            "coverage_criteria",
            filter=Q(coverage_criteria__state="published", coverage_criteria__revision_of__isnull=True),
            distinct=True,
        ),
        open_gap_count=Count("gaps", filter=Q(gaps__status__in=OPEN_GAP_STATUSES), distinct=True),
    )


def coverage_in_force(day: date) -> QuerySet[CoverageCriterion]:
    """Published criteria in force on `day`, with their code, payer and source policy (coverage matrix, CSV)."""
    return CoverageCriterion.objects.published().current().in_force_on(day).select_related("code", "payer", "policy")


def tracked_payers() -> QuerySet[Payer]:
    return Payer.objects.filter(is_tracked=True).order_by("name")


def open_gap_counts_by_category() -> list[dict]:
    """Open gaps per category, largest first: `[{"category": "benchmark", "count": 3}, ...]`."""
    return list(open_gaps().values("category").annotate(count=Count("pk")).order_by("-count", "category"))


def _count_per_payer(queryset: QuerySet) -> Coalesce:
    # A correlated COUNT per payer: joining three one-to-many tables would multiply their rows.
    counted = queryset.filter(payer=OuterRef("pk")).order_by().values("payer").annotate(n=Count("pk")).values("n")
    return Coalesce(Subquery(counted), 0)


def payers_with_summary() -> QuerySet[Payer]:
    """Payers annotated with how many policy documents, published criteria and open gaps they have."""
    return payer_list().annotate(
        policy_count=_count_per_payer(PolicyDocument.objects.all()),
        coverage_count=_count_per_payer(CoverageCriterion.objects.published().current()),
        open_gap_count=_count_per_payer(FollowUpGap.objects.filter(status__in=OPEN_GAP_STATUSES)),
    )


def pending_content(code: BillingCode) -> tuple[list[CoverageCriterion], list[DocumentationRequirement]]:
    """Draft and in-review criteria and documentation of `code`, for an editor's preview only."""
    pending = (WorkflowState.DRAFT, WorkflowState.IN_REVIEW)
    criteria = (
        CoverageCriterion._base_manager.filter(code=code, state__in=pending)
        .select_related("payer", "policy")
        .prefetch_related("diagnosis_codes")
    )
    documentation = DocumentationRequirement._base_manager.filter(code=code, state__in=pending).select_related(
        "payer", "policy"
    )
    return list(criteria), list(documentation)
