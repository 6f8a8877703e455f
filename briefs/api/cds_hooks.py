"""CDS Hooks 2.0 endpoints: `GET /cds-services` (discovery) and `POST /cds-services/<id>`.

Every call needs a registered CDS client's signed JWT (`briefs.cds_auth`); without one the answer is
401. Errors use the API's error body. These endpoints follow the CDS Hooks specification, not the
PolicyHub REST conventions, so they are left out of the OpenAPI schema.
"""

from django.db import IntegrityError
from django.http import Http404
from django.urls import reverse
from drf_spectacular.utils import extend_schema
from rest_framework import exceptions
from rest_framework.response import Response
from rest_framework.views import APIView

from briefs.cds_auth import CdsJwtAuthentication, IsCdsClient
from briefs.cds_hooks import SERVICES, HookRequestError, read_hook_call, without_unknown_inputs
from briefs.cds_response import hook_response
from briefs.choices import AssertionChannel
from briefs.coverage_check import check_coverage, record_assertion
from briefs.coverage_facts import CoverageInputError
from policyhub.api_parsers import JSONParser
from policyhub.api_renderers import JSONRenderer


class CdsHooksView(APIView):
    authentication_classes = [CdsJwtAuthentication]
    permission_classes = [IsCdsClient]
    parser_classes = [JSONParser]
    renderer_classes = [JSONRenderer]
    throttle_classes = []


@extend_schema(exclude=True)
class DiscoveryView(CdsHooksView):
    """The CDS services PolicyHub offers."""

    def get(self, request):
        return Response({"services": [service.as_discovery() for service in SERVICES.values()]})


@extend_schema(exclude=True)
class ServiceView(CdsHooksView):
    """One CRD service: the coverage check for the orders of a hook call."""

    def post(self, request, service_id: str):
        service = SERVICES.get(service_id)
        if service is None:
            raise Http404(f"No CDS service {service_id!r}.")
        try:
            call = read_hook_call(service, request.data)
        except HookRequestError as error:
            if error.status == 412:
                return Response({"detail": f"{error.field}: {error.message}", "code": "precondition_failed"}, 412)
            raise exceptions.ValidationError({error.field: [error.message]}) from None
        answer = body = None
        if call.question is not None and call.question.items:
            try:
                answer = check_coverage(call.question)
            except CoverageInputError as error:
                call.question = without_unknown_inputs(call, error)
                answer = check_coverage(call.question) if call.question.items else None
            body = answer.as_dict() if answer else None
        response = hook_response(
            call, body, brief_url=lambda code: request.build_absolute_uri(reverse("codes:detail", args=[code]))
        )
        try:
            record_assertion(
                answer,
                body=body or response,
                channel=AssertionChannel.CDS_HOOKS,
                request_data=call.audit_request(request.data),
                cds_client=request.auth.client,
                jwt_id=request.auth.jwt_id,
            )
        except IntegrityError:
            raise exceptions.AuthenticationFailed(
                "This JWT was already used (jti); sign a new one for each call."
            ) from None
        return Response(response)
