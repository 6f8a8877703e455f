"""How complete a code's brief is: the share of its sections that have published content.

Sections counted (each filled or not; the score is filled / 11, as a whole percent), in the order
the brief prints them — the same items the brief page marks "Data not available in the input.":

1. Summary: the published brief has a headline, lead, significance, key payers, takeaways or audience note.
2. Full descriptor: the code's long descriptor.
3. Service type: the published brief's service type.
4. Typical site of service: the brief's site-of-service sentence or a published site-of-service row.
5. Clinical context: the published brief's clinical vignette.
6. Modifier guidance: at least one published modifier guidance row.
7. Payer coverage: a published criterion whose coverage status and prior authorization are known.
8. Documentation requirements: a published documentation requirement.
9. Diagnosis coding: a published associated diagnosis, or a published criterion listing diagnosis codes.
10. Reimbursement benchmark: a benchmark of any metric but annual utilization.
11. Utilization benchmark: an annual utilization benchmark.

Everything is one SQL expression (`completeness_annotation()`), so a list of codes gets its scores
in the same query as the codes.
"""

from collections.abc import Iterable
from dataclasses import dataclass

from django.db.models import BooleanField, Case, Exists, IntegerField, OuterRef, Q, QuerySet, Value, When
from django.db.models.expressions import ExpressionWrapper

from codes.models import BillingCode, CodeBrief, CodeDiagnosis, ModifierGuidance, SiteOfService
from payers.choices import BenchmarkMetric, CoverageStatus, PriorAuth
from payers.models import Benchmark, CoverageCriterion, DocumentationRequirement

SUMMARY_FIELDS = ("headline", "lead", "significance", "key_payers_summary", "reader_takeaways", "audience_note")


# How the brief page names each section in its completeness box.
SECTION_LABELS = {
    "summary": "Summary & overview",
    "descriptor": "Full descriptor",
    "service_type": "Service type",
    "site_of_service": "Typical site of service",
    "clinical_context": "Clinical context",
    "modifiers": "Modifier guidance",
    "coverage": "Payer coverage",
    "documentation": "Documentation requirements",
    "diagnosis": "Diagnosis coding",
    "reimbursement": "Reimbursement benchmark",
    "utilization": "Utilization benchmark",
}


def _brief_with(condition: Q) -> Exists:
    return Exists(CodeBrief.objects.published().current().filter(condition, code=OuterRef("pk")))


def _filled(name: str) -> Q:
    return ~Q(**{name: ""})


def section_conditions() -> dict[str, Q | Exists]:
    """Each section's "filled" condition on a BillingCode row, keyed by section."""
    coverage = CoverageCriterion.objects.published().current().filter(code=OuterRef("pk"))
    summary = Q()
    for name in SUMMARY_FIELDS:
        summary |= _filled(name)
    return {
        "summary": _brief_with(summary),
        "descriptor": _filled("long_descriptor"),
        "service_type": _brief_with(_filled("service_type")),
        "site_of_service": _brief_with(_filled("site_of_service_summary"))
        | Exists(SiteOfService.objects.published().filter(code=OuterRef("pk"))),
        "clinical_context": _brief_with(_filled("clinical_context")),
        "modifiers": Exists(ModifierGuidance.objects.published().filter(code=OuterRef("pk"))),
        "coverage": Exists(
            coverage.exclude(coverage_status=CoverageStatus.UNKNOWN).exclude(prior_auth=PriorAuth.UNKNOWN)
        ),
        "documentation": Exists(DocumentationRequirement.objects.published().current().filter(code=OuterRef("pk"))),
        "diagnosis": Exists(CodeDiagnosis.objects.published().filter(code=OuterRef("pk")))
        | Exists(coverage.filter(diagnosis_codes__isnull=False)),
        "reimbursement": Exists(
            Benchmark.objects.published().filter(code=OuterRef("pk")).exclude(metric=BenchmarkMetric.ANNUAL_UTILIZATION)
        ),
        "utilization": Exists(
            Benchmark.objects.published().filter(code=OuterRef("pk"), metric=BenchmarkMetric.ANNUAL_UTILIZATION)
        ),
    }


def completeness_annotation() -> ExpressionWrapper:
    """The completeness percent (0-100) of each BillingCode row, rounded half up, for `annotate()`."""
    conditions = list(section_conditions().values())
    filled = sum(
        (Case(When(condition, then=Value(1)), default=Value(0)) for condition in conditions[1:]),
        start=Case(When(conditions[0], then=Value(1)), default=Value(0)),
    )
    sections = len(conditions)
    # Integer arithmetic on every database: round(100 * filled / sections).
    return ExpressionWrapper((filled * 200 + sections) / (2 * sections), output_field=IntegerField())


def completeness_for_codes(codes: QuerySet[BillingCode] | Iterable[int]) -> dict[int, int]:
    """Completeness percent by code id, for a queryset of codes or an iterable of code ids (one query)."""
    ids = codes.values("pk") if isinstance(codes, QuerySet) else list(codes)
    rows = BillingCode.objects.filter(pk__in=ids).annotate(completeness=completeness_annotation())
    return dict(rows.values_list("pk", "completeness"))


def completeness(code: BillingCode) -> int:
    """The completeness percent of one code (one query)."""
    return completeness_for_codes([code.pk]).get(code.pk, 0)


@dataclass(frozen=True)
class CompletenessReport:
    """One code's score with the sections behind it, for its brief page."""

    percent: int
    filled: list[str]
    missing: list[str]

    @property
    def sections(self) -> int:
        return len(self.filled) + len(self.missing)


def percent_of(filled: int, sections: int) -> int:
    """round(100 * filled / sections), half up, as `completeness_annotation()` computes it."""
    return (filled * 200 + sections) // (2 * sections)


def completeness_report(code: BillingCode) -> CompletenessReport:
    """Which of `code`'s brief sections are filled and which are missing (one query)."""
    conditions = section_conditions()
    flags = (
        BillingCode.objects.filter(pk=code.pk)
        .annotate(
            **{
                f"has_{name}": Case(
                    When(condition, then=Value(True)), default=Value(False), output_field=BooleanField()
                )
                for name, condition in conditions.items()
            }
        )
        .values(*(f"has_{name}" for name in conditions))
        .first()
        or {}
    )
    filled = [SECTION_LABELS[name] for name in conditions if flags.get(f"has_{name}")]
    missing = [SECTION_LABELS[name] for name in conditions if not flags.get(f"has_{name}")]
    return CompletenessReport(percent_of(len(filled), len(conditions)), filled, missing)
