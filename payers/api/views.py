"""API resources of payers, their policy documents, coverage, documentation, benchmarks and gaps.

Every resource reads through the selectors the pages use and filters with the same FilterSets, so
the API and the pages agree; only published content is ever returned.
"""

from payers.api import fast
from payers.api.serializers import (
    BenchmarkSerializer,
    CoverageCriterionSerializer,
    DocumentationRequirementSerializer,
    FollowUpGapSerializer,
    PayerSerializer,
    PolicyDocumentSerializer,
)
from payers.filtersets import (
    BenchmarkFilterSet,
    CoverageCriterionFilterSet,
    DocumentationRequirementFilterSet,
    FollowUpGapFilterSet,
    PayerFilterSet,
    PolicyDocumentFilterSet,
)
from payers.selectors import (
    benchmark_list,
    gap_list,
    payer_list,
    policy_document_list,
    published_coverage,
    published_documentation,
)
from policyhub.api import ReadOnlyViewSet


class PayerViewSet(ReadOnlyViewSet):
    """Health plans, programs and Medicare contractors, looked up by slug (`/api/v1/payers/aetna/`)."""

    schema_tag = "payers"
    serializer_class = PayerSerializer
    values_page = fast.PAYERS_PAGE
    filterset_class = PayerFilterSet
    lookup_field = "slug"
    lookup_value_pattern = "[-a-zA-Z0-9_]{1,100}"
    lookup_description = "The payer's slug, e.g. aetna."
    ordering = ("name",)
    ordering_fields = ("name", "slug", "updated_at")

    def get_queryset(self):
        return payer_list()


class PolicyDocumentViewSet(ReadOnlyViewSet):
    """Payers' policy documents (medical policies, LCDs, articles): the sources cited by criteria."""

    schema_tag = "payers"
    serializer_class = PolicyDocumentSerializer
    filterset_class = PolicyDocumentFilterSet
    ordering = ("payer__name", "number", "-document_version", "id")
    ordering_fields = ("number", "effective_date", "next_review", "updated_at")

    def get_queryset(self):
        return policy_document_list()


class CoverageCriterionViewSet(ReadOnlyViewSet):
    """How each payer covers each code, per effective period (published criteria only)."""

    schema_tag = "coverage"
    list_description = (
        "Published criteria. To sync, see the recipe in docs/api.md: walk with `cursor=`, then "
        "follow /api/v1/changes/ after the walk's `change_position`. `effective_on=<date>` keeps the criteria in "
        "force on that date."
    )
    serializer_class = CoverageCriterionSerializer
    values_page = fast.CRITERIA_PAGE
    filterset_class = CoverageCriterionFilterSet
    ordering = ("code__code", "payer__name", "-effective_start", "id")
    ordering_fields = ("effective_start", "effective_end", "last_verified", "updated_at")

    def get_queryset(self):
        return published_coverage()


class DocumentationRequirementViewSet(ReadOnlyViewSet):
    """Documentation payers expect for a code (published requirements only)."""

    schema_tag = "coverage"
    list_description = "Published requirements. `payer` also keeps the requirements that apply to every payer."
    serializer_class = DocumentationRequirementSerializer
    values_page = fast.REQUIREMENTS_PAGE
    filterset_class = DocumentationRequirementFilterSet
    ordering = ("code__code", "payer__name", "kind", "id")
    ordering_fields = ("kind", "updated_at")

    def get_queryset(self):
        return published_documentation()


class BenchmarkViewSet(ReadOnlyViewSet):
    """Reimbursement and utilization figures per code: national or payer-specific."""

    schema_tag = "coverage"
    serializer_class = BenchmarkSerializer
    filterset_class = BenchmarkFilterSet
    ordering = ("code__code", "metric", "setting", "-period_start", "id")
    ordering_fields = ("metric", "period_start", "updated_at")

    def get_queryset(self):
        return benchmark_list()


class FollowUpGapViewSet(ReadOnlyViewSet):
    """Known unknowns with an owner: what is still missing about a code or policy."""

    schema_tag = "gaps"
    serializer_class = FollowUpGapSerializer
    values_page = fast.GAPS_PAGE
    filterset_class = FollowUpGapFilterSet
    ordering = ("status", "priority", "due_date", "id")
    ordering_fields = ("priority", "due_date", "opened_at", "updated_at")

    def get_queryset(self):
        return gap_list()
