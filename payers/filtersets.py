"""FilterSets of payers and coverage, shared by the API and the pages.

Related filters come in pairs: `payer` by slug for people, `payer_id` by key for systems.
"""

import django_filters
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.db.models import Exists, OuterRef, Q
from django.utils import timezone
from drf_spectacular.utils import extend_schema_field

from codes.filtersets import BillingCodeFilterSet, as_billing_code
from codes.models import CodeBrief, DiagnosisCode
from payers.choices import (
    OPEN_GAP_STATUSES,
    BenchmarkMetric,
    BenchmarkSetting,
    CodeScope,
    CoverageStatus,
    DocumentationKind,
    DocumentationPurpose,
    GapCategory,
    GapPriority,
    GapStatus,
    PayerKind,
    PolicyDocumentType,
    PriorAuth,
    RequirementLevel,
)
from payers.models import (
    Benchmark,
    CoverageCriterion,
    DocumentationRequirement,
    FollowUpGap,
    Payer,
    PolicyDocument,
)
from payers.selectors import published_gaps
from policyhub.filtersets import (
    TRIGRAM_RUN,
    BaseFilterSet,
    BooleanFilter,
    CodeListFilter,
    KeyMultipleChoiceFilter,
    UtcDateTimeFilter,
    matching_keys,
    trigram_searchable,
)


# A dict, not a type: drf-spectacular cannot follow a foreign key plus `to_field_name` by itself.
@extend_schema_field({"type": "string", "description": "Payer slug; repeat for several."})
class PayerFilter(django_filters.ModelMultipleChoiceFilter):
    """A payer by slug (repeatable): `?payer=aetna&payer=medicare`."""

    def __init__(self, **kwargs):
        kwargs.setdefault("field_name", "payer")
        kwargs.setdefault("to_field_name", "slug")
        kwargs.setdefault("queryset", Payer.objects.all())
        kwargs.setdefault("help_text", "Payer slug; repeat for several.")
        super().__init__(**kwargs)

    def get_filter_predicate(self, payer):
        # The form has read the payer already: filter on its key, not on a join to its slug, so the
        # database can read one payer's rows from an index on (code, payer) in code order.
        return {self.field_name: payer}


class CodeCoverageFilterSet(BillingCodeFilterSet):
    """Billing codes filtered by catalogue fields and by how payers cover them.

    `coverage_status` and `prior_auth` look at the published criteria of the chosen `payer` when one
    is given, otherwise at any payer's.
    """

    payer = django_filters.CharFilter(method="filter_coverage", help_text="Payer slug for the coverage filters.")
    coverage_status = django_filters.MultipleChoiceFilter(
        choices=CoverageStatus.choices,
        method="filter_coverage",
        help_text="Codes with a published criterion in this status (the payer's, with `payer`).",
    )
    prior_auth = django_filters.MultipleChoiceFilter(
        choices=PriorAuth.choices,
        method="filter_coverage",
        help_text="Codes with a published criterion with this prior authorization (the payer's, with `payer`).",
    )
    has_open_gaps = BooleanFilter(
        method="filter_has_open_gaps", help_text="true: codes with an open follow-up gap; false: codes without."
    )
    scope = django_filters.ChoiceFilter(
        choices=CodeScope.choices,
        method="filter_scope",
        empty_label=None,
        help_text="with_content: codes with a published brief or published coverage; all: the whole catalogue "
        "(the default when absent).",
    )

    class Meta(BillingCodeFilterSet.Meta):
        fields = [
            *BillingCodeFilterSet.Meta.fields,
            "payer",
            "coverage_status",
            "prior_auth",
            "has_open_gaps",
            "scope",
        ]

    def filter_coverage(self, queryset, name, value):
        # The three parameters combine into one subquery; it is built once, for the first one seen.
        if getattr(self, "_coverage_applied", False):
            return queryset
        self._coverage_applied = True
        data = self.form.cleaned_data
        criteria = CoverageCriterion.objects.published().current().filter(code=OuterRef("pk"))
        if data.get("payer"):
            criteria = criteria.filter(payer__slug=data["payer"])
        if data.get("coverage_status"):
            criteria = criteria.filter(coverage_status__in=data["coverage_status"])
        if data.get("prior_auth"):
            criteria = criteria.filter(prior_auth__in=data["prior_auth"])
        return queryset.filter(Exists(criteria))

    def filter_scope(self, queryset, name, value):
        if value != CodeScope.WITH_CONTENT:
            return queryset
        # Two EXISTS probes on indexed foreign keys: cheap on a 20k-code catalogue, unlike joins with DISTINCT.
        brief = CodeBrief.objects.published().current().filter(code=OuterRef("pk"))
        coverage = CoverageCriterion.objects.published().current().filter(code=OuterRef("pk"))
        return queryset.filter(Exists(brief) | Exists(coverage))

    def filter_has_open_gaps(self, queryset, name, value):
        open_gaps = Exists(published_gaps().filter(code=OuterRef("pk"), status__in=OPEN_GAP_STATUSES))
        return queryset.filter(open_gaps if value else ~open_gaps)


class PayerFilterSet(BaseFilterSet):
    slug = django_filters.CharFilter(help_text="Exact payer slug.")
    kind = django_filters.MultipleChoiceFilter(choices=PayerKind.choices)
    is_national = BooleanFilter(help_text="true: national payers; false: regional ones.")
    is_tracked = BooleanFilter(help_text="true: payers expected to have a criterion for every code with a brief.")

    class Meta:
        model = Payer
        fields = ["q", "slug", "kind", "is_national", "is_tracked"]

    def search(self, queryset, value):
        return queryset.filter(Q(name__icontains=value) | Q(slug__icontains=value))


class PolicyDocumentFilterSet(BaseFilterSet):
    payer = PayerFilter()
    payer_id = KeyMultipleChoiceFilter(
        field_name="payer", queryset=Payer.objects.all(), help_text="Payer key; repeat for several."
    )
    document_type = django_filters.MultipleChoiceFilter(choices=PolicyDocumentType.choices)
    number = django_filters.CharFilter(lookup_expr="iexact", help_text="Policy number, e.g. CPB 0826 or L36668.")
    next_review_before = django_filters.DateFilter(
        field_name="next_review", lookup_expr="lt", help_text="Documents due for review before this date."
    )
    is_retired = BooleanFilter(
        field_name="retirement_date",
        lookup_expr="isnull",
        exclude=True,
        help_text="true: documents with a retirement date; false: documents without one.",
    )
    updated_since = UtcDateTimeFilter(
        field_name="updated_at", lookup_expr="gte", help_text="Only documents changed at or after this time."
    )

    class Meta:
        model = PolicyDocument
        fields = [
            "q",
            "payer",
            "payer_id",
            "document_type",
            "number",
            "next_review_before",
            "is_retired",
            "updated_since",
        ]

    def search(self, queryset, value):
        return queryset.filter(Q(number__icontains=value) | Q(title__icontains=value) | Q(payer__name__icontains=value))


# Criteria text is found through a trigram index (`trigram_searchable`): a shorter term, or one of
# signs only (`%%%`, `___`), read all 1M criteria, 1.2-1.4 s in the API and 9 s on the coverage page.
SEARCH_CRITERIA_AT_LEAST = TRIGRAM_RUN
SEARCH_CRITERIA_HELP = (
    f"Free-text search: a billing code, or at least {SEARCH_CRITERIA_AT_LEAST} letters or digits in a row of "
    "a payer's name, a policy number or the criteria's text."
)


def searchable_criteria_term(value: str) -> None:
    """Refuse a criteria search that no trigram index can find (`SEARCH_CRITERIA_AT_LEAST`)."""
    if not trigram_searchable(value):
        raise ValidationError(
            f"Enter at least {SEARCH_CRITERIA_AT_LEAST} letters or digits in a row to search coverage criteria.",
            code="unsearchable",
        )


@extend_schema_field({"type": "string", "minLength": SEARCH_CRITERIA_AT_LEAST, "description": SEARCH_CRITERIA_HELP})
class CriteriaSearchFilter(django_filters.CharFilter):
    """The criteria's `q`: a term no index can find is refused (400 in the API, a field error on a page)."""

    def __init__(self, **kwargs):
        super().__init__(
            method="filter_q",
            label="Search",
            validators=[searchable_criteria_term],
            help_text=SEARCH_CRITERIA_HELP,
            **kwargs,
        )


class CoverageCriterionFilterSet(BaseFilterSet):
    q = CriteriaSearchFilter()
    code = CodeListFilter(field_name="code__code", help_text="One or more billing codes, comma-separated.")
    code_id = django_filters.NumberFilter(field_name="code_id", help_text="Billing code key.")
    payer = PayerFilter()
    payer_id = KeyMultipleChoiceFilter(
        field_name="payer", queryset=Payer.objects.all(), help_text="Payer key; repeat for several."
    )
    payer_kind = django_filters.MultipleChoiceFilter(field_name="payer__kind", choices=PayerKind.choices)
    category = django_filters.CharFilter(
        field_name="code__category", lookup_expr="iexact", help_text="Category of the billing code."
    )
    coverage_status = django_filters.MultipleChoiceFilter(choices=CoverageStatus.choices)
    prior_auth = django_filters.MultipleChoiceFilter(choices=PriorAuth.choices)
    policy = django_filters.CharFilter(
        field_name="policy__number", lookup_expr="iexact", help_text="Source policy number."
    )
    diagnosis = django_filters.CharFilter(
        method="filter_diagnosis", help_text="Criteria supported by this ICD-10-CM code."
    )
    effective_on = django_filters.DateFilter(
        method="filter_effective_on", help_text="Only criteria in force on this date (YYYY-MM-DD)."
    )
    updated_since = UtcDateTimeFilter(
        field_name="updated_at", lookup_expr="gte", help_text="Only criteria changed at or after this time."
    )

    class Meta:
        model = CoverageCriterion
        fields = [
            "q",
            "code",
            "code_id",
            "payer",
            "payer_id",
            "payer_kind",
            "category",
            "coverage_status",
            "prior_auth",
            "policy",
            "diagnosis",
            "effective_on",
            "updated_since",
        ]

    def filter_effective_on(self, queryset, name, value):
        return queryset.in_force_on(value)

    def filter_diagnosis(self, queryset, name, value):
        # The diagnosis's key is read first and filtered on, not joined by its code: PostgreSQL then
        # plans with what it knows of that key. A common diagnosis (a tenth of 1M criteria) is found
        # by walking criteria in the list's order, a rare one from its links; joined by code, every
        # diagnosis looked rare, and a common one's page sorted 100,000 rows (0.8 s, docs/bench.md).
        key = DiagnosisCode.objects.filter(code=DiagnosisCode.normalise(value)).values_list("pk", flat=True).first()
        if key is None:
            return queryset.none()
        # No DISTINCT: a diagnosis code is linked to a criterion at most once.
        return queryset.filter(diagnosis_codes=key)

    def search(self, queryset, value):
        if code := as_billing_code(value):
            return queryset.filter(code__code=code)
        # Payers and policies by their keys: every condition then reads the criterion's own columns,
        # which PostgreSQL combines from indexes instead of scanning the joined rows.
        return queryset.filter(
            Q(criteria__icontains=value)
            | Q(limitations__icontains=value)
            | Q(payer__in=matching_keys(Payer.objects.filter(name__icontains=value)))
            | Q(policy__in=matching_keys(PolicyDocument.objects.filter(number__icontains=value)))
        )


class DocumentationRequirementFilterSet(BaseFilterSet):
    code = CodeListFilter(field_name="code__code")
    payer = PayerFilter(method="filter_payer", help_text="Payer slug; requirements for all payers are included.")
    kind = django_filters.MultipleChoiceFilter(choices=DocumentationKind.choices)
    level = django_filters.ChoiceFilter(choices=RequirementLevel.choices)
    purpose = django_filters.ChoiceFilter(choices=DocumentationPurpose.choices)
    updated_since = UtcDateTimeFilter(
        field_name="updated_at", lookup_expr="gte", help_text="Only requirements changed at or after this time."
    )

    class Meta:
        model = DocumentationRequirement
        fields = ["q", "code", "payer", "kind", "level", "purpose", "updated_since"]

    def filter_payer(self, queryset, name, payers):
        if not payers:
            return queryset
        return queryset.filter(Q(payer__in=payers) | Q(payer__isnull=True))

    def search(self, queryset, value):
        if code := as_billing_code(value):
            return queryset.filter(code__code=code)
        return queryset.filter(text__icontains=value)


class BenchmarkFilterSet(BaseFilterSet):
    code = CodeListFilter(field_name="code__code")
    payer = PayerFilter()
    national = BooleanFilter(
        field_name="payer", lookup_expr="isnull", help_text="true: national figures only (no payer)."
    )
    metric = django_filters.MultipleChoiceFilter(choices=BenchmarkMetric.choices)
    setting = django_filters.ChoiceFilter(choices=BenchmarkSetting.choices)
    period = django_filters.CharFilter(lookup_expr="iexact", help_text="The period as labelled, e.g. 2024 Q3.")

    class Meta:
        model = Benchmark
        fields = ["q", "code", "payer", "national", "metric", "setting", "period"]

    def search(self, queryset, value):
        if code := as_billing_code(value):
            return queryset.filter(code__code=code)
        return queryset.filter(source__icontains=value)


class FollowUpGapFilterSet(BaseFilterSet):
    code = CodeListFilter(field_name="code__code")
    payer = PayerFilter()
    status = django_filters.MultipleChoiceFilter(choices=GapStatus.choices)
    is_open = BooleanFilter(
        method="filter_is_open", help_text="true: open or in-progress gaps; false: resolved or won't fix."
    )
    category = django_filters.MultipleChoiceFilter(choices=GapCategory.choices)
    priority = django_filters.MultipleChoiceFilter(choices=GapPriority.choices)
    assignee = django_filters.CharFilter(field_name="assignee__username", help_text="Username of the assignee.")
    assignee_id = django_filters.ModelChoiceFilter(
        field_name="assignee", queryset=get_user_model().objects.all(), help_text="The assignee's user key."
    )
    due_before = django_filters.DateFilter(
        field_name="due_date", lookup_expr="lt", help_text="Gaps due before this date."
    )
    overdue = BooleanFilter(method="filter_overdue", help_text="Open gaps past their due date.")

    class Meta:
        model = FollowUpGap
        fields = [
            "q",
            "code",
            "payer",
            "status",
            "is_open",
            "category",
            "priority",
            "assignee",
            "assignee_id",
            "due_before",
            "overdue",
        ]

    def filter_is_open(self, queryset, name, value):
        lookup = Q(status__in=OPEN_GAP_STATUSES)
        return queryset.filter(lookup if value else ~lookup)

    def filter_overdue(self, queryset, name, value):
        overdue = Q(status__in=OPEN_GAP_STATUSES, due_date__lt=timezone.localdate())
        return queryset.filter(overdue if value else ~overdue)

    def search(self, queryset, value):
        if code := as_billing_code(value):
            return queryset.filter(code__code=code)
        return queryset.filter(
            Q(description__icontains=value) | Q(payer__in=matching_keys(Payer.objects.filter(name__icontains=value)))
        )
