"""A code brief as readers see it: the seed publication's sections in order, with every missing item
tied to the open follow-up gaps that chase it.

`brief_for()` reads through the `code_brief()` selector (plus the tracked payers) and builds a `Brief`
without further queries; the brief page and its Markdown download both render that one object, so
they cannot drift apart.
"""

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from django.utils import timezone

from briefs.selectors import code_brief, pending_catalogue_parts, pending_content
from codes.choices import RelationshipKind
from codes.models import BillingCode, CodeBrief, CodeDiagnosis, SiteOfService
from codes.selectors import brief_preview
from payers.choices import BenchmarkMetric, CoverageStatus, GapCategory, PriorAuth
from payers.models import Benchmark, CoverageCriterion, DocumentationRequirement, FollowUpGap, Payer
from payers.selectors import gap_order_key, tracked_payers

MISSING_TEXT = "Data not available in the input."

# Anchor and heading of each section, in the order the seed briefs print them.
SECTIONS = (
    ("summary", "Summary & Overview"),
    ("overview", "Billing Code Overview"),
    ("specifications", "Clinical & Coding Specifications"),
    ("coverage", "Payer Coverage"),
    ("diagnosis", "Diagnosis Coding"),
    ("benchmarks", "Benchmarks"),
    ("related", "Related Codes"),
    ("gaps", "Follow-up Gaps"),
)
HEADINGS = dict(SECTIONS)

# CodeBrief field -> the label the seed brief prints before it.
SUMMARY_FIELDS = (
    ("headline", "Headline"),
    ("lead", "Lead"),
    ("significance", "What the code represents and why it matters"),
    ("key_payers_summary", "Key payers covered"),
    ("reader_takeaways", "What readers will learn"),
    ("audience_note", "Audience and use"),
)

# How a relationship reads from each end: 93592 lists 93590 as its primary code, 93590 lists 93592 as add-on.
RELATED_ROLES = {
    RelationshipKind.ADD_ON_TO: ("Primary code", "Add-on code"),
    RelationshipKind.REPLACED_BY: ("Replaced by", "Replaces"),
    RelationshipKind.SEE_ALSO: ("See also", "See also"),
}

ANY_PAYER = object()


@dataclass(frozen=True)
class Missing:
    """An item the brief cannot state, and the open gaps (possibly none) that chase it."""

    gaps: tuple[FollowUpGap, ...] = ()

    text = MISSING_TEXT


@dataclass(frozen=True)
class Labelled:
    label: str
    text: str


@dataclass(frozen=True)
class ModifierRow:
    label: str
    description: str
    when_to_use: str
    missing: Missing | None
    pending: str = ""  # the workflow state of a pending row in an editor's preview


@dataclass(frozen=True)
class PayerRow:
    """One payer's coverage of the code; `criterion` is None when nothing is recorded."""

    payer: Payer
    criterion: CoverageCriterion | None
    documentation: list[DocumentationRequirement]
    missing: Missing | None

    @property
    def period(self) -> str:
        """When the criterion is in force, in words; empty when it has no recorded bounds."""
        start, end = (self.criterion.effective_start, self.criterion.effective_end) if self.criterion else (None, None)
        if start and end:
            return f"in force {start.isoformat()} to {end.isoformat()}"
        if start:
            return f"in force from {start.isoformat()}"
        if end:
            return f"in force until {end.isoformat()}"
        return ""


@dataclass(frozen=True)
class RelatedCode:
    role: str
    code: BillingCode
    note: str
    pending: str = ""  # the workflow state of a pending row in an editor's preview


@dataclass(frozen=True)
class Brief:
    code: BillingCode
    text: CodeBrief | None
    is_preview: bool
    summary: list[Labelled]
    summary_missing: Missing | None
    descriptor_missing: Missing | None
    service_type_missing: Missing | None
    sites: list[SiteOfService]
    site_missing: Missing | None
    clinical_missing: Missing | None
    modifiers: list[ModifierRow]
    modifiers_missing: Missing | None
    coverage: list[PayerRow]
    coverage_missing: Missing | None
    documentation_all_payers: list[DocumentationRequirement]
    documentation_missing: Missing | None
    diagnoses: list[CodeDiagnosis]
    payer_diagnoses: list[CoverageCriterion]
    diagnosis_missing: Missing | None
    reimbursement: list[Benchmark]
    reimbursement_missing: Missing | None
    utilization: list[Benchmark]
    utilization_missing: Missing | None
    related: list[RelatedCode]
    gaps: list[FollowUpGap]

    sections = SECTIONS
    headings = HEADINGS

    @property
    def published_on(self):
        """When the text shown was published (its approval), or None for a draft preview or no brief."""
        if self.text is None or self.is_preview or self.text.reviewed_at is None:
            return None
        return timezone.localdate(self.text.reviewed_at)

    @property
    def title(self) -> str:
        name = (self.text.title if self.text else "") or self.code.short_descriptor
        return f"{self.code.system} {self.code.code}: {name}"


def plain_number(value: Decimal) -> str:
    """A stored decimal as people write it: 21.7000 -> 21.7, 100.0000 -> 100."""
    return f"{value.normalize():f}"


def brief_for(code: str, *, preview: bool = False) -> Brief | None:
    """The brief of `code`, or None for an unknown code.

    With `preview` (for users who may edit briefs) the newest draft or in-review text replaces the
    published one when there is such a draft; everything else stays published content.
    """
    billing_code = code_brief(code)
    if billing_code is None:
        return None
    text = billing_code.published_briefs[0] if billing_code.published_briefs else None
    draft = brief_preview(billing_code) if preview else None
    has_pending = _overlay_pending(billing_code) if preview else False
    return build_brief(
        billing_code, draft or text, payers=list(tracked_payers()), is_preview=draft is not None or has_pending
    )


# The published order of each catalogue part (its model's Meta.ordering), for rows merged in Python.
PREVIEW_ORDER = {
    "modifier_guidance": lambda row: (row.display_order, row.pk),
    "sites_of_service": lambda row: row.place_of_service.code,
    "relationships_from": lambda row: (row.kind, row.to_code.code),
    "code_diagnoses": lambda row: row.diagnosis.code,
}


def _with_pending(published: list, pending: list) -> list:
    """`published` with each row that has a pending revision replaced by it, plus the new pending rows;
    pending rows are marked `is_pending`."""
    replaced = {row.revision_of_id for row in pending if row.revision_of_id}
    for row in pending:
        row.is_pending = True
    return [row for row in published if row.pk not in replaced] + pending


def _overlay_pending(code: BillingCode) -> bool:
    """Put the code's pending rows in place of what they will replace, marked `is_pending`, so the
    preview shows the brief as it will publish. Returns whether anything is pending."""
    criteria, documentation, benchmarks, gaps = pending_content(code)
    for attr, pending in (("coverage", criteria), ("documentation", documentation), ("benchmark_rows", benchmarks)):
        rows = _with_pending(getattr(code, attr), pending)
        if attr == "coverage":
            # Newest period first within each payer, as the published list is ordered.
            rows.sort(key=lambda row: (row.payer.name, -(row.effective_start or date.min).toordinal()))
        setattr(code, attr, rows)
    parts = pending_catalogue_parts(code)
    for name, pending in parts.items():
        # The catalogue parts are prefetched into the related managers: their cached result is replaced.
        cached = code._prefetched_objects_cache[name]
        cached._result_cache = sorted(_with_pending(list(cached), pending), key=PREVIEW_ORDER[name])
    # A pending revision that resolves a gap takes it off the list, as approval will.
    code.open_gaps = sorted((gap for gap in _with_pending(code.open_gaps, gaps) if gap.is_open), key=gap_order_key)
    return bool(criteria or documentation or benchmarks or gaps or any(parts.values()))


def build_brief(code: BillingCode, text: CodeBrief | None, *, payers: list[Payer], is_preview: bool = False) -> Brief:
    """Lay out a code read through `code_brief()`; runs no queries."""
    gaps = list(code.open_gaps)
    sites = list(code.sites_of_service.all())
    diagnoses = list(code.code_diagnoses.all())

    def missing(present, categories=(), payer=ANY_PAYER) -> Missing | None:
        """Missing when absent, and also when present but an open gap says it is incomplete."""
        chasing = tuple(
            gap
            for gap in gaps
            if gap.category in categories and (payer is ANY_PAYER or gap.payer_id in (None, payer.pk))
        )
        return Missing(chasing) if chasing or not present else None

    summary = [Labelled(label, getattr(text, name)) for name, label in SUMMARY_FIELDS if text and getattr(text, name)]
    modifiers = [
        ModifierRow(
            label=row.modifier_label,
            description=row.modifier_description,
            when_to_use=row.when_to_use,
            missing=None if row.when_to_use else missing(False, [GapCategory.MODIFIERS]),
            pending=_pending_state(row),
        )
        for row in code.modifier_guidance.all()
    ]
    # Below the table, only what no row has linked already.
    linked = {gap.pk for row in modifiers if row.missing for gap in row.missing.gaps}
    modifiers_missing = missing(modifiers, [GapCategory.MODIFIERS])
    if modifiers_missing and modifiers and {gap.pk for gap in modifiers_missing.gaps} <= linked:
        modifiers_missing = None
    documentation_all_payers = [doc for doc in code.documentation if doc.payer_id is None]
    benchmarks = code.benchmark_rows
    utilization = [row for row in benchmarks if row.metric == BenchmarkMetric.ANNUAL_UTILIZATION]
    reimbursement = [row for row in benchmarks if row.metric != BenchmarkMetric.ANNUAL_UTILIZATION]
    payer_diagnoses = [criterion for criterion in code.coverage if criterion.diagnosis_codes.all()]
    coverage = _payer_rows(code, payers, missing)
    return Brief(
        code=code,
        text=text,
        is_preview=is_preview,
        summary=summary,
        summary_missing=missing(summary),
        descriptor_missing=missing(code.long_descriptor),
        service_type_missing=missing(text and text.service_type),
        sites=sites,
        site_missing=missing((text and text.site_of_service_summary) or sites, [GapCategory.SITE_OF_SERVICE]),
        clinical_missing=missing(text and text.clinical_context),
        modifiers=modifiers,
        modifiers_missing=modifiers_missing,
        coverage=coverage,
        coverage_missing=None if coverage else missing(False, [GapCategory.COVERAGE_CRITERIA, GapCategory.PRIOR_AUTH]),
        documentation_all_payers=documentation_all_payers,
        documentation_missing=missing(code.documentation, [GapCategory.DOCUMENTATION]),
        diagnoses=diagnoses,
        payer_diagnoses=payer_diagnoses,
        diagnosis_missing=missing(diagnoses or payer_diagnoses, [GapCategory.DIAGNOSIS_CODING]),
        reimbursement=reimbursement,
        reimbursement_missing=missing(reimbursement, [GapCategory.BENCHMARK]),
        utilization=utilization,
        utilization_missing=missing(utilization, [GapCategory.BENCHMARK]),
        related=_related(code),
        gaps=gaps,
    )


def _payer_rows(code: BillingCode, payers: list[Payer], missing) -> list[PayerRow]:
    """One row per payer with a criterion, then tracked payers that have none (their absence is a gap)."""
    documentation = {}
    for doc in code.documentation:
        if doc.payer_id:
            documentation.setdefault(doc.payer_id, []).append(doc)
    rows, seen = [], set()
    for criterion in code.coverage:
        if criterion.payer_id in seen:
            continue  # an earlier period of a payer already listed (newest first)
        seen.add(criterion.payer_id)
        rows.append(
            PayerRow(
                payer=criterion.payer,
                criterion=criterion,
                documentation=documentation.get(criterion.payer_id, []),
                missing=missing(
                    _criterion_known(criterion),
                    [GapCategory.COVERAGE_CRITERIA, GapCategory.PRIOR_AUTH],
                    payer=criterion.payer,
                ),
            )
        )
    for payer in payers:
        if payer.pk not in seen:
            rows.append(
                PayerRow(
                    payer=payer,
                    criterion=None,
                    documentation=documentation.get(payer.pk, []),
                    missing=missing(False, [GapCategory.COVERAGE_CRITERIA, GapCategory.PRIOR_AUTH], payer=payer),
                )
            )
    return sorted(rows, key=lambda row: row.payer.name)


def _pending_state(row) -> str:
    return row.get_state_display() if getattr(row, "is_pending", False) else ""


def _criterion_known(criterion: CoverageCriterion) -> bool:
    if criterion.coverage_status == CoverageStatus.UNKNOWN or criterion.prior_auth == PriorAuth.UNKNOWN:
        return False
    return criterion.coverage_status != CoverageStatus.COVERED_WITH_CRITERIA or bool(criterion.criteria)


def _related(code: BillingCode) -> list[RelatedCode]:
    related = [
        RelatedCode(RELATED_ROLES[link.kind][0], link.to_code, link.note, _pending_state(link))
        for link in code.relationships_from.all()
    ]
    related += [
        RelatedCode(RELATED_ROLES[link.kind][1], link.from_code, link.note) for link in code.relationships_to.all()
    ]
    return related
