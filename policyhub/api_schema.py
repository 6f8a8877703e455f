"""The OpenAPI schema of the API: what drf-spectacular cannot infer from the viewsets themselves."""

from drf_spectacular.openapi import AutoSchema
from drf_spectacular.plumbing import get_view_model
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse

from policyhub.api import ConditionalMixin, ErrorSerializer, ReadOnlyViewSet
from policyhub.api_pagination import POSITION_HEADER


class ApiAutoSchema(AutoSchema):
    """Adds what every operation shares: error responses, conditional-request headers and the
    lookup pattern of detail paths; and names each operation from its model's verbose names
    ("List coverage criteria", "Get a payer"), so a viewset declares only what differs:
    `schema_tag`, and `list_description` when its list needs more words than its docstring.
    """

    ERRORS = {
        "400": "A query parameter was refused; `errors` names it.",
        "401": "No credentials, or an invalid or revoked token.",
        "404": "No such object, page or cursor.",
        "429": "Too many requests for this token; retry after the `Retry-After` seconds.",
    }

    def get_summary(self):
        summary = super().get_summary()
        model = get_view_model(self.view, emit_warnings=False)
        if summary or model is None or self.method != "GET":
            return summary
        if self._is_list_view():
            return f"List {model._meta.verbose_name_plural}"
        name = str(model._meta.verbose_name)
        return f"Get {'an' if name[0] in 'aeiou' else 'a'} {name}"

    def get_description(self):
        listing = getattr(self.view, "list_description", None)
        if listing and self.method == "GET" and self._is_list_view():
            return listing
        return super().get_description()

    def get_tags(self):
        tag = getattr(self.view, "schema_tag", None)
        return [tag] if tag else super().get_tags()

    def _get_response_bodies(self, direction="response"):
        responses = super()._get_response_bodies(direction)
        if direction == "response" and self.method == "GET":
            if isinstance(self.view, ConditionalMixin):
                responses["304"] = {
                    "description": "Not modified: the `If-None-Match` ETag (or `If-Modified-Since`) is still current."
                }
                for code in ("200", "304"):
                    responses[code].setdefault("headers", {}).update(self._conditional_headers())
            for code, description in self.ERRORS.items():
                error = OpenApiResponse(response=ErrorSerializer, description=description)
                responses.setdefault(code, self._get_response_for_code(error, code, direction=direction))
        return responses

    @staticmethod
    def _conditional_headers() -> dict:
        return {
            "ETag": {
                "schema": {"type": "string"},
                "description": "Send it back as `If-None-Match` to get 304 while nothing changed.",
            },
            "Last-Modified": {
                "schema": {"type": "string"},
                "description": "When published data last changed; send it back as `If-Modified-Since`.",
            },
            POSITION_HEADER: {
                "schema": {"type": "integer"},
                "description": "The change-log position the response is consistent with.",
            },
        }

    def get_override_parameters(self):
        parameters = list(super().get_override_parameters())
        if self.method == "GET" and isinstance(self.view, ConditionalMixin):
            parameters.append(
                OpenApiParameter(
                    "If-None-Match",
                    OpenApiTypes.STR,
                    OpenApiParameter.HEADER,
                    description="The ETag of a previous response: 304 with no body if nothing changed since.",
                )
            )
            parameters.append(
                OpenApiParameter(
                    "If-Modified-Since",
                    OpenApiTypes.STR,
                    OpenApiParameter.HEADER,
                    description="The Last-Modified of a previous response: 304 if nothing changed since.",
                )
            )
        if isinstance(self.view, ReadOnlyViewSet) and self.view.action == "retrieve":
            name = self.view.lookup_url_kwarg or self.view.lookup_field
            parameters.append(
                OpenApiParameter(
                    name,
                    OpenApiTypes.STR,
                    OpenApiParameter.PATH,
                    required=True,
                    pattern=f"^{self.view.lookup_value_pattern}$",
                    description=getattr(self.view, "lookup_description", "The object's id."),
                )
            )
        return parameters
