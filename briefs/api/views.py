"""API resources of the code brief: `codes` (the whole brief of a code) and the changes feed.

Every resource reads through the selectors the pages use and filters with the same FilterSets, so
the API and the pages agree; only published content is ever returned.
"""

from drf_spectacular.utils import OpenApiExample, extend_schema, extend_schema_view
from rest_framework import mixins, viewsets

from briefs.api.changes import published_changes
from briefs.api.examples import CODE_BRIEF_EXAMPLE
from briefs.api.serializers import ChangeQuerySerializer, ChangeSerializer, CodeBriefSerializer
from codes.api.serializers import BillingCodeSerializer
from codes.selectors import billing_code_list, published_brief_prefetch
from payers.filtersets import CodeCoverageFilterSet
from payers.selectors import code_brief_queryset
from policyhub.api import ConditionalMixin, PageNumberPagination, PageOrCursorPagination, ReadOnlyViewSet


@extend_schema_view(
    retrieve=extend_schema(
        summary="Get a code's whole brief",
        description="Everything PolicyHub knows about one code in one response: catalogue facts, the published "
        "brief text, sites of service, modifier guidance, related codes in both directions, associated diagnosis "
        "codes, coverage per payer with its source policy and HL7 Da Vinci CRD values, documentation "
        "requirements, benchmarks and open follow-up gaps.",
        examples=[OpenApiExample("93590 (mitral paravalvular leak closure)", value=CODE_BRIEF_EXAMPLE)],
    ),
)
class CodeViewSet(ReadOnlyViewSet):
    """Billing codes, looked up by code (`/api/v1/codes/93590/`)."""

    schema_tag = "codes"
    list_description = (
        "CPT and HCPCS Level II codes with catalogue facts. Filter by how payers cover them with "
        "`payer`, `coverage_status` and `prior_auth` (published criteria of that payer, or of any payer)."
    )

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
