"""API resources of codes (the whole brief), payers, coverage and the changes feed.

Every resource reads through the selectors the pages use and filters with the same FilterSets, so
the API and the pages agree; only published content is ever returned.
"""

from drf_spectacular.utils import OpenApiExample, extend_schema, extend_schema_view
from rest_framework import mixins, viewsets

from codes.api.serializers import BillingCodeSerializer
from codes.selectors import billing_code_list, published_brief_prefetch
from payers.api.changes import published_changes
from payers.api.examples import CODE_BRIEF_EXAMPLE
from payers.api.serializers import (
    BenchmarkSerializer,
    ChangeQuerySerializer,
    ChangeSerializer,
    CodeBriefSerializer,
    CoverageCriterionSerializer,
    DocumentationRequirementSerializer,
    FollowUpGapSerializer,
    PayerSerializer,
    PolicyDocumentSerializer,
)
from payers.filtersets import (
    BenchmarkFilterSet,
    CodeCoverageFilterSet,
    CoverageCriterionFilterSet,
    DocumentationRequirementFilterSet,
    FollowUpGapFilterSet,
    PayerFilterSet,
    PolicyDocumentFilterSet,
)
from payers.selectors import (
    benchmark_list,
    code_brief_queryset,
    gap_list,
    payer_list,
    policy_document_list,
    published_coverage,
    published_documentation,
)
from policyhub.api import ConditionalMixin, PageNumberPagination, PageOrCursorPagination, ReadOnlyViewSet


@extend_schema_view(
    list=extend_schema(
        summary="List billing codes",
        description="CPT and HCPCS Level II codes with catalogue facts. Filter by how payers cover them with "
        "`payer`, `coverage_status` and `prior_auth` (published criteria of that payer, or of any payer).",
        tags=["codes"],
    ),
    retrieve=extend_schema(
        summary="Get a code's whole brief",
        description="Everything PolicyHub knows about one code in one response: catalogue facts, the published "
        "brief text, sites of service, modifier guidance, related codes in both directions, associated diagnosis "
        "codes, coverage per payer with its source policy and HL7 Da Vinci CRD values, documentation "
        "requirements, benchmarks and open follow-up gaps.",
        tags=["codes"],
        examples=[OpenApiExample("93590 (mitral paravalvular leak closure)", value=CODE_BRIEF_EXAMPLE)],
    ),
)
class CodeViewSet(ReadOnlyViewSet):
    """Billing codes, looked up by code (`/api/v1/codes/93590/`)."""

    filterset_class = CodeCoverageFilterSet
    pagination_class = PageOrCursorPagination
    lookup_field = "code"
    lookup_value_pattern = "[A-Za-z0-9]{5}"
    lookup_description = "The CPT or HCPCS Level II code, e.g. 93590 or A0021."
    ordering = ("code", "id")
    ordering_fields = ("code", "system", "category", "updated_at")
    cursor_ordering = ("updated_at", "id")

    def get_queryset(self):
        if self.action == "retrieve":
            return code_brief_queryset()
        return billing_code_list().prefetch_related(published_brief_prefetch())

    def get_serializer_class(self):
        return CodeBriefSerializer if self.action == "retrieve" else BillingCodeSerializer

    def normalise_lookup(self, value):
        return value.upper()


@extend_schema_view(
    list=extend_schema(summary="List payers", tags=["payers"]),
    retrieve=extend_schema(summary="Get a payer", tags=["payers"]),
)
class PayerViewSet(ReadOnlyViewSet):
    """Health plans, programs and Medicare contractors, looked up by slug (`/api/v1/payers/aetna/`)."""

    serializer_class = PayerSerializer
    filterset_class = PayerFilterSet
    lookup_field = "slug"
    lookup_value_pattern = "[-a-zA-Z0-9_]{1,100}"
    lookup_description = "The payer's slug, e.g. aetna."
    ordering = ("name",)
    ordering_fields = ("name", "slug", "updated_at")

    def get_queryset(self):
        return payer_list()


@extend_schema_view(
    list=extend_schema(summary="List payer policy documents", tags=["payers"]),
    retrieve=extend_schema(summary="Get a payer policy document", tags=["payers"]),
)
class PolicyDocumentViewSet(ReadOnlyViewSet):
    """Payers' policy documents (medical policies, LCDs, articles): the sources cited by criteria."""

    serializer_class = PolicyDocumentSerializer
    filterset_class = PolicyDocumentFilterSet
    ordering = ("payer__name", "number", "-document_version", "id")
    ordering_fields = ("number", "effective_date", "next_review", "updated_at")

    def get_queryset(self):
        return policy_document_list()


@extend_schema_view(
    list=extend_schema(
        summary="List coverage criteria",
        description="Published criteria. To sync: walk with `cursor=` (ordered by `updated_at`, then id) and "
        "next time ask only for `updated_since=<start of the previous sync>`. `effective_on=<date>` keeps the "
        "criteria in force on that date.",
        tags=["coverage"],
    ),
    retrieve=extend_schema(summary="Get a coverage criterion", tags=["coverage"]),
)
class CoverageCriterionViewSet(ReadOnlyViewSet):
    """How each payer covers each code, per effective period (published criteria only)."""

    serializer_class = CoverageCriterionSerializer
    filterset_class = CoverageCriterionFilterSet
    pagination_class = PageOrCursorPagination
    ordering = ("code__code", "payer__name", "-effective_start", "id")
    ordering_fields = ("effective_start", "effective_end", "last_verified", "updated_at")
    cursor_ordering = ("updated_at", "id")

    def get_queryset(self):
        return published_coverage()


@extend_schema_view(
    list=extend_schema(
        summary="List documentation requirements",
        description="Published requirements. `payer` also keeps the requirements that apply to every payer.",
        tags=["coverage"],
    ),
    retrieve=extend_schema(summary="Get a documentation requirement", tags=["coverage"]),
)
class DocumentationRequirementViewSet(ReadOnlyViewSet):
    """Documentation payers expect for a code (published requirements only)."""

    serializer_class = DocumentationRequirementSerializer
    filterset_class = DocumentationRequirementFilterSet
    ordering = ("code__code", "payer__name", "kind", "id")
    ordering_fields = ("kind", "updated_at")

    def get_queryset(self):
        return published_documentation()


@extend_schema_view(
    list=extend_schema(summary="List benchmarks", tags=["coverage"]),
    retrieve=extend_schema(summary="Get a benchmark", tags=["coverage"]),
)
class BenchmarkViewSet(ReadOnlyViewSet):
    """Reimbursement and utilization figures per code: national or payer-specific."""

    serializer_class = BenchmarkSerializer
    filterset_class = BenchmarkFilterSet
    ordering = ("code__code", "metric", "setting", "-period_start", "id")
    ordering_fields = ("metric", "period_start", "updated_at")

    def get_queryset(self):
        return benchmark_list()


@extend_schema_view(
    list=extend_schema(summary="List follow-up gaps", tags=["gaps"]),
    retrieve=extend_schema(summary="Get a follow-up gap", tags=["gaps"]),
)
class FollowUpGapViewSet(ReadOnlyViewSet):
    """Known unknowns with an owner: what is still missing about a code or policy."""

    serializer_class = FollowUpGapSerializer
    filterset_class = FollowUpGapFilterSet
    ordering = ("status", "priority", "due_date", "id")
    ordering_fields = ("priority", "due_date", "opened_at", "updated_at")

    def get_queryset(self):
        return gap_list()


@extend_schema_view(
    list=extend_schema(
        summary="List published changes since a time",
        description="What changed in the published data at or after `since`, oldest first, read from the audit "
        "history. `model` + `key` name the resource to refetch (or to delete locally when `action` is "
        "`deleted`); `created` and `updated` both mean: fetch it again. A change to a code's brief text, "
        "modifier guidance, sites, related codes or associated diagnoses is reported as an update of the code; "
        "`billing_code` names the code a coverage criterion, requirement, benchmark or gap belongs to.",
        parameters=[ChangeQuerySerializer],
        tags=["changes"],
    ),
)
class ChangeViewSet(ConditionalMixin, mixins.ListModelMixin, viewsets.GenericViewSet):
    """The changes feed (`/api/v1/changes/?since=2025-01-01T00:00:00Z`)."""

    serializer_class = ChangeSerializer
    pagination_class = PageNumberPagination
    filter_backends = []

    def get_queryset(self):
        params = ChangeQuerySerializer(data=self.request.query_params)
        params.is_valid(raise_exception=True)
        return published_changes(
            since=params.validated_data["since"],
            until=params.validated_data.get("until"),
            resources=params.validated_data.get("model"),
        )

    def get_fingerprint(self, queryset):
        # A union cannot be aggregated: its size and newest row identify it as well.
        newest = queryset.order_by("-time", "-model", "-key", "-change_id")[:1]
        return {"n0": queryset.count(), "newest": [tuple(row.values()) for row in newest]}
