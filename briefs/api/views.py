"""API resources of the code brief: `codes` (the whole brief of a code).

The changes feed is shared by every resource: `policyhub/api_changes.py`.

Every resource reads through the selectors the pages use and filters with the same FilterSets, so
the API and the pages agree; only published content is ever returned.
"""

from drf_spectacular.utils import OpenApiExample, extend_schema, extend_schema_view

from briefs.api.examples import CODE_BRIEF_EXAMPLE
from briefs.api.serializers import BRIEF_SECTION_COLUMNS, CodeBriefSerializer
from briefs.selectors import brief_section_rows, prefetch_catalogue_parts
from codes.api.serializers import CODES_PAGE, BillingCodeSerializer
from codes.models import BillingCode
from codes.selectors import billing_codes_with_titles
from payers.filtersets import CodeCoverageFilterSet
from policyhub.api import ReadOnlyViewSet


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
    lookup_field = "code"
    lookup_value_pattern = "[A-Za-z0-9]{5}"
    lookup_description = "The CPT or HCPCS Level II code, e.g. 93590 or A0021."
    ordering = ("code", "id")
    ordering_fields = ("code", "system", "category", "updated_at")
    values_page = CODES_PAGE
    # A code's brief is twelve queries; order checks and claim scrubbers ask for the same codes again
    # and again. Kept until published data changes (ConditionalMixin.full_answer).
    keeps_detail_answers = True

    def get_queryset(self):
        return BillingCode.objects.all() if self.action == "retrieve" else billing_codes_with_titles()

    def get_object(self):
        code = super().get_object()
        # The brief's parts with statements compiled once (briefs.selectors.prefetch_catalogue_parts);
        # coverage, documentation and open gaps as plain rows, built by CodeBriefSerializer's
        # section serializers at once (briefs.selectors.brief_section_rows).
        prefetch_catalogue_parts(code)
        for name, rows in brief_section_rows(code, BRIEF_SECTION_COLUMNS).items():
            setattr(code, name, rows)
        return code

    def get_serializer_class(self):
        return CodeBriefSerializer if self.action == "retrieve" else BillingCodeSerializer

    def normalise_lookup(self, value):
        return value.upper()
