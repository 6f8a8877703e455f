"""What every API resource shares: the read-only viewset base, ordering, the error body and the
OpenAPI schema conventions. Pagination is in `policyhub.api_pagination`, conditional requests
(ETag / Last-Modified / 304) in `policyhub.api_conditional`.

Resources live in `codes/api/`, `payers/api/` and `briefs/api/`; the router is `policyhub/api_urls.py`.
"""

import re

from django.http import Http404
from django.shortcuts import get_object_or_404
from django_filters.rest_framework import DjangoFilterBackend
from rest_framework import exceptions, serializers, viewsets
from rest_framework.filters import OrderingFilter
from rest_framework.renderers import BrowsableAPIRenderer
from rest_framework.views import exception_handler as drf_exception_handler

from policyhub.api_conditional import ConditionalMixin
from policyhub.api_pagination import MAX_PAGE_SIZE, PAGE_SIZE, PageOrCursorPagination
from policyhub.api_renderers import JSONRenderer
from policyhub.prepared import Prepared
from policyhub.representations import Links, ValuesPage

__all__ = ["MAX_PAGE_SIZE", "PAGE_SIZE", "ConditionalMixin", "PageOrCursorPagination", "ReadOnlyViewSet"]


# --- Errors -------------------------------------------------------------------------------------


class ErrorSerializer(serializers.Serializer):
    """The body of every error response."""

    detail = serializers.CharField(help_text="What went wrong, in one sentence.")
    code = serializers.CharField(
        help_text="Machine-readable reason: invalid, not_authenticated, authentication_failed, not_found, "
        "method_not_allowed, throttled, ..."
    )
    errors = serializers.DictField(
        child=serializers.ListField(child=serializers.CharField()),
        required=False,
        help_text="Only for 400: the messages for each parameter that was refused, keyed by its name.",
    )


def exception_handler(exc, context):
    """DRF's handler, with every error body shaped as `ErrorSerializer`.

    A missing object is named as the API names the resource ("No code matches '99999'."), never by
    its model class. Errors DRF does not handle (a lost database, a bug) go on to
    `policyhub.errors`, which answers them in the same shape.
    """
    if isinstance(exc, Http404):
        exc = exceptions.NotFound(_not_found_message(context.get("view")))
    response = drf_exception_handler(exc, context)
    if response is None:
        return None
    if isinstance(exc, exceptions.ValidationError):
        errors = response.data if isinstance(response.data, dict) else {"non_field_errors": response.data}
        response.data = {
            "detail": f"Invalid value for {', '.join(errors)}.",
            "code": "invalid",
            "errors": {name: _messages(value) for name, value in errors.items()},
        }
    else:
        detail = response.data.get("detail", "") if isinstance(response.data, dict) else response.data
        response.data = {"detail": str(detail), "code": getattr(detail, "code", "error")}
    return response


def _not_found_message(view) -> str:
    basename = getattr(view, "basename", None)
    if not basename:
        return "Not found."
    lookup = view.kwargs.get(view.lookup_url_kwarg or view.lookup_field) if view.kwargs else None
    noun = basename.replace("-", " ")
    return f"No {noun} matches {lookup!r}." if lookup else f"No such {noun}."


def _messages(value) -> list[str]:
    if isinstance(value, dict):
        return [f"{key}: {message}" for key, item in value.items() for message in _messages(item)]
    if isinstance(value, list | tuple):
        return [message for item in value for message in _messages(item)]
    return [str(value)]


# --- Filtering and ordering ---------------------------------------------------------------------


class StableOrderingFilter(OrderingFilter):
    """`?ordering=-updated_at,code` over the view's `ordering_fields`, always ending on the key.

    An unknown field answers 400 instead of being ignored, and the key as last criterion keeps
    pages stable when the chosen fields tie.
    """

    def get_ordering(self, request, queryset, view):
        terms = self.get_ordering_terms(request)
        if not terms:
            return self.get_default_ordering(view)
        allowed = set(view.ordering_fields)
        unknown = [term for term in terms if term.lstrip("-") not in allowed]
        if unknown:
            message = f"Unknown field {', '.join(unknown)}; choose from {', '.join(sorted(allowed))}."
            raise exceptions.ValidationError({self.ordering_param: [message]})
        return [*terms, "pk"] if not {"pk", "id", "-pk", "-id"} & set(terms) else terms

    def get_ordering_terms(self, request) -> list[str]:
        params = request.query_params.get(self.ordering_param, "")
        return [term.strip() for term in params.split(",") if term.strip()]

    def get_schema_operation_parameters(self, view):
        choices = [value for field in view.ordering_fields for value in (field, f"-{field}")]
        return [
            {
                "name": self.ordering_param,
                "required": False,
                "in": "query",
                "description": "Sort by these fields, comma-separated; a leading '-' sorts descending.",
                "style": "form",
                "explode": False,
                "schema": {"type": "array", "items": {"type": "string", "enum": choices}},
            }
        ]


class ApiBrowsableRenderer(BrowsableAPIRenderer):
    """The browsable API without its filter form, whose selects would list whole related tables."""

    def get_filter_form(self, data, view, request):
        return None


# --- Viewsets -----------------------------------------------------------------------------------


# Each resource's detail look-up, compiled once per process (ReadOnlyViewSet.looked_up).
_lookups: dict[tuple, Prepared] = {}


class ReadOnlyViewSet(ConditionalMixin, viewsets.ReadOnlyModelViewSet):
    """Base of every API resource: read-only (writes answer 405), filtered by the model's shared
    FilterSet, ordered stably, paginated, and conditional.

    Subclasses set `queryset` or `get_queryset()` (through a selector), `serializer_class`,
    `filterset_class`, `ordering` (ending on a unique field) and `ordering_fields`; cursor walks
    page by keyset on `cursor_ordering` (the primary key unless a view says otherwise). A lookup value that
    does not match `lookup_value_pattern` answers 404 without querying.
    """

    filter_backends = [DjangoFilterBackend, StableOrderingFilter]
    pagination_class = PageOrCursorPagination
    # The keyset of cursor walks: ends on a unique, indexed column.
    cursor_ordering: tuple[str, ...] = ("id",)
    renderer_classes = [JSONRenderer, ApiBrowsableRenderer]
    lookup_value_regex = "[^/]+"
    lookup_value_pattern = "[0-9]{1,18}"
    ordering_fields: tuple[str, ...] = ()
    # Set where a list reads its page with values() rather than model instances (payers/api/fast.py).
    values_page: ValuesPage | None = None

    def filter_queryset(self, queryset):
        # Without a query string there is nothing to filter by, or to refuse: the FilterSet (its
        # form, its filters) is not built. That was a fifth of a 304's time in process, and a
        # poller's 304 of a first page or a brief is the request the API answers most.
        for backend in self.filter_backends:
            if backend is DjangoFilterBackend and not self.request.query_params:
                continue
            queryset = backend().filter_queryset(self.request, queryset, self)
        return queryset

    def list_page(self, queryset):
        if self.values_page is None:
            return super().list_page(queryset)
        # The cursor reads its key from the page's last row.
        keys = [name.lstrip("-") for name in self.cursor_ordering]
        rows = self.paginate_queryset(queryset.values(*dict.fromkeys([*self.values_page.columns, *keys])))
        return self.get_paginated_response(self.values_page.represent(rows, Links(self.request)))

    def retrieve(self, request, *args, **kwargs):
        respond = super().retrieve
        if not self.looked_up(exists=True):
            return respond(request, *args, **kwargs)  # answers 404
        return self.conditional(request, lambda: respond(request, *args, **kwargs))

    def looked_up(self, *, exists: bool = False) -> list:
        """The rows matching the lookup value (the keys only, with `exists`).

        Without a query string, the statement is compiled once per process (`policyhub.prepared`):
        a detail's look-up is the same for every request, and compiling it was more than running it.
        This needs `get_queryset()` to be the same for every request, as every resource's is.
        """
        value = self.get_lookup_value()
        if self.request.query_params:
            found = self.filtered_queryset().filter(**{self.lookup_field: value})
            return list(found.values("pk")[:1] if exists else found[:2])
        queryset = self.get_queryset()
        meta = queryset.model._meta
        field = meta.pk if self.lookup_field == "pk" else meta.get_field(self.lookup_field)
        value = field.get_prep_value(field.to_python(value))
        key = (type(self), self.action, exists, type(value))
        if key not in _lookups:
            # Built from the queryset, not from `self`: the statement outlives this request.
            def make(value, queryset=queryset, name=self.lookup_field):
                found = queryset.filter(**{name: value})
                return found.values("pk")[:1] if exists else found[:2]

            _lookups[key] = Prepared(make, kind=type(value))
        return _lookups[key](value)

    def normalise_lookup(self, value: str) -> str:
        return value

    def get_lookup_value(self) -> str:
        value = self.kwargs[self.lookup_url_kwarg or self.lookup_field]
        if not re.fullmatch(self.lookup_value_pattern, value):
            raise Http404
        return self.normalise_lookup(value)

    def get_object(self):
        # `GenericAPIView.get_object`, on the queryset `retrieve` has filtered already.
        found = self.looked_up()
        if len(found) != 1:
            # None or several: the ORM's get() raises what it always raised (a 404, or several found).
            found = [get_object_or_404(self.filtered_queryset(), **{self.lookup_field: self.get_lookup_value()})]
        self.check_object_permissions(self.request, found[0])
        return found[0]


# --- OpenAPI schema -----------------------------------------------------------------------------
