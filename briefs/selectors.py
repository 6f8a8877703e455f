"""Reads of the code brief, shared by its page, its Markdown download and the API's code detail.

`brief_prefetches()` is the one place that knows everything a code brief shows, in a constant
number of queries, read for one code by `code_brief()` (the page) and `prefetch_catalogue_parts()`
with `brief_section_rows()` (the API). Only published content is returned, except by
`pending_content()`, which is the editor's preview of drafts.
"""

from django.db.models import Prefetch, QuerySet

from codes.models import BillingCode, CodeDiagnosis, CodeRelationship, ModifierGuidance, SiteOfService
from codes.selectors import catalogue_prefetches
from payers.choices import OPEN_GAP_STATUSES
from payers.models import Benchmark, CoverageCriterion, DocumentationRequirement, FollowUpGap
from payers.selectors import (
    GAP_ORDER,
    count_per,
    open_gaps,
    published_coverage,
    published_documentation,
    published_gaps,
)
from policyhub.prepared import Prepared, PreparedPrefetches
from policyhub.workflow import PENDING_STATES


def brief_prefetches(*, sections: bool = True) -> list[Prefetch]:
    """Every section of a code's brief, as Prefetch lookups of its code.

    Attributes set on each code: `published_briefs`, `coverage` (published criteria with payer, policy
    and diagnosis codes), `documentation` (published requirements), `benchmark_rows`, `open_gaps`,
    plus the catalogue's `modifier_guidance`, `sites_of_service`, `relationships_from/_to`,
    `code_diagnoses`. `sections=False` leaves out coverage, documentation and open gaps, which the
    API reads as plain rows (`brief_section_rows`).
    """
    # Each row's `code` is the brief's own code: the prefetch sets it on the rows, so they do not
    # join and load the code again (50 criteria of a code meant 50 more copies of it).
    prefetches = [
        *catalogue_prefetches(),
        Prefetch(
            "benchmarks", queryset=Benchmark.objects.published().select_related("payer"), to_attr="benchmark_rows"
        ),
    ]
    if sections:
        prefetches += [
            Prefetch("coverage_criteria", queryset=_without_code(_brief_coverage()), to_attr="coverage"),
            Prefetch(
                "documentation_requirements", queryset=_without_code(_brief_documentation()), to_attr="documentation"
            ),
            Prefetch("gaps", queryset=_without_code(_brief_gaps()), to_attr="open_gaps"),
        ]
    return prefetches


# One code's brief, as its page and the API's code detail read it on every request: each statement
# compiled once per process (policyhub.prepared; the ORM's compiling was a third of the API's
# answer, docs/bench.md). The API reads the sections as plain rows (`brief_section_rows`).
prefetch_brief = PreparedPrefetches(brief_prefetches)
prefetch_catalogue_parts = PreparedPrefetches(lambda: brief_prefetches(sections=False))
_section_statements: dict[tuple[str, tuple[str, ...]], Prepared] = {}


def brief_section_rows(code: BillingCode, columns: dict[str, tuple[str, ...]]) -> dict[str, list[dict]]:
    """The brief's `coverage`, `documentation` and `open_gaps` of `code` as plain rows, each section
    read with `values(*columns[section])`, in the order and with the rows `brief_prefetches` gives.

    The API's code detail reads them so: its fifty criteria as model instances (each with its payer,
    policy and diagnoses) took longer to build than to fetch (docs/bench.md).
    """
    sections = {"coverage": _brief_coverage, "documentation": _brief_documentation, "open_gaps": _brief_gaps}
    found = {}
    for name, rows in sections.items():
        key = (name, columns[name])
        if key not in _section_statements:
            _section_statements[key] = Prepared(
                lambda code_id, rows=rows, wanted=key[1]: rows().filter(code=code_id).values(*wanted)
            )
        found[name] = _section_statements[key](code.pk)
    return found


def _without_code(rows: QuerySet) -> QuerySet:
    """`rows` with the same related rows selected, except their billing code."""
    related = [name for name in rows.query.select_related if name != "code"]
    return rows.select_related(None).select_related(*related)


def _brief_coverage() -> QuerySet[CoverageCriterion]:
    # The key last: one payer's criteria can start on the same day.
    return published_coverage().order_by("payer__name", "-effective_start", "pk")


def _brief_documentation() -> QuerySet[DocumentationRequirement]:
    return published_documentation().order_by("payer__name", "kind", "pk")


def _brief_gaps() -> QuerySet[FollowUpGap]:
    return open_gaps().order_by(*GAP_ORDER)


def code_brief(code: str) -> BillingCode | None:
    """One code with its whole brief, or None. Prefers the CPT/HCPCS row that has a published brief."""
    found = _code_by_text(code.strip().upper())
    if found:
        prefetch_brief(found[0])
    return found[0] if found else None


_code_by_text = Prepared(lambda code: BillingCode.objects.filter(code=code).order_by("system")[:1], kind=str)


def codes_with_coverage_summary() -> QuerySet[BillingCode]:
    """Codes annotated with how many published criteria and open gaps they have (for lists).

    Correlated counts, computed only for the rows of the page: grouping the joins of two
    one-to-many tables would count every code's rows before the page is cut.
    """
    return BillingCode.objects.annotate(
        coverage_count=count_per(CoverageCriterion.objects.published().current(), "code"),
        open_gap_count=count_per(published_gaps().filter(status__in=OPEN_GAP_STATUSES), "code"),
    )


def pending_content(
    code: BillingCode,
) -> tuple[list[CoverageCriterion], list[DocumentationRequirement], list[Benchmark], list[FollowUpGap]]:
    """Draft and in-review criteria, documentation, benchmarks and follow-up gaps of `code` (new rows
    and revisions), for an editor's preview only."""
    criteria = (
        CoverageCriterion._base_manager.filter(code=code, state__in=PENDING_STATES)
        .select_related("payer", "policy")
        .prefetch_related("diagnosis_codes")
    )
    documentation = DocumentationRequirement._base_manager.filter(code=code, state__in=PENDING_STATES).select_related(
        "payer", "policy"
    )
    benchmarks = Benchmark._base_manager.filter(code=code, state__in=PENDING_STATES).select_related("payer")
    gaps = FollowUpGap._base_manager.filter(code=code, state__in=PENDING_STATES).select_related(
        "payer", "policy", "assignee"
    )
    return list(criteria), list(documentation), list(benchmarks), list(gaps)


def pending_catalogue_parts(code: BillingCode) -> dict[str, list]:
    """Draft and in-review modifier guidance, sites, relationships and associated diagnoses of `code`,
    keyed by the prefetch each one joins in the preview (an editor's preview only)."""
    parts = {
        "modifier_guidance": ModifierGuidance._base_manager.filter(code=code).select_related("modifier"),
        "sites_of_service": SiteOfService._base_manager.filter(code=code).select_related("place_of_service"),
        "relationships_from": CodeRelationship._base_manager.filter(from_code=code).select_related("to_code"),
        "code_diagnoses": CodeDiagnosis._base_manager.filter(code=code).select_related("diagnosis"),
    }
    return {name: list(rows.filter(state__in=PENDING_STATES)) for name, rows in parts.items()}
