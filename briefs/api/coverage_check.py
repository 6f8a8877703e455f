"""`POST /api/v1/coverage-check/`: the coverage check for downstream systems.

The one POST of the read-only API: it changes no curated data, only keeps its answer as an audit record.
"""

from drf_spectacular.utils import OpenApiExample, OpenApiResponse, extend_schema
from rest_framework import exceptions
from rest_framework.response import Response
from rest_framework.views import APIView

from briefs.api.coverage_examples import COVERAGE_CHECK_ANSWER, COVERAGE_CHECK_REQUEST
from briefs.api.coverage_serializers import CoverageCheckAnswerSerializer, CoverageCheckRequestSerializer
from briefs.choices import AssertionChannel
from briefs.coverage_check import assert_coverage
from briefs.coverage_facts import CoverageInputError
from policyhub.api import ApiBrowsableRenderer, ErrorSerializer
from policyhub.api_renderers import JSONRenderer


class CoverageCheckView(APIView):
    """Is this order covered, does it need prior authorization, what must be documented?"""

    renderer_classes = [JSONRenderer, ApiBrowsableRenderer]

    @extend_schema(
        summary="Check an order's coverage",
        description=(
            "Answers, for one payer and date of service, per ordered item: `covered`, `pa_needed`, `doc_needed`, "
            "`doc_purpose` and `info_needed` in the HL7 Da Vinci CRD coverage-information vocabulary, with the "
            "reasons (each naming a rule of docs/coverage-check.md) and the published criteria, documentation "
            "requirements, policy documents and open follow-up gaps it rests on. Only published data is used. "
            "Changes nothing: the answer is kept under its `coverage_assertion_id` for later disputes."
        ),
        tags=["coverage check"],
        request=CoverageCheckRequestSerializer,
        responses={
            200: CoverageCheckAnswerSerializer,
            400: OpenApiResponse(
                ErrorSerializer, description="A field was refused (unknown code, payer, diagnosis, bad date...)."
            ),
            401: OpenApiResponse(ErrorSerializer, description="No credentials, or an invalid or revoked token."),
            429: OpenApiResponse(ErrorSerializer, description="Too many requests for this token."),
        },
        examples=[
            OpenApiExample("93590 with I34.0 at POS 22", value=COVERAGE_CHECK_REQUEST, request_only=True),
            OpenApiExample("The answer", value=COVERAGE_CHECK_ANSWER, response_only=True, status_codes=["200"]),
        ],
    )
    def post(self, request):
        serializer = CoverageCheckRequestSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        try:
            _, body = assert_coverage(
                serializer.to_question(),
                channel=AssertionChannel.REST,
                request_data=serializer.data,
                user=request.user,
            )
        except CoverageInputError as error:
            raise exceptions.ValidationError(error.errors) from None
        return Response(body)
