"""What every API resource shares: the read-only viewset base, pagination, ordering, conditional
requests (ETag / Last-Modified / 304), the error body and the OpenAPI schema conventions.

Resources live in `codes/api/`, `payers/api/` and `briefs/api/`; the router is `policyhub/api_urls.py`.
"""

import hashlib
import re
from collections.abc import Callable
from dataclasses import dataclass

from django.db.models import Count, Max, OuterRef, Prefetch, QuerySet, Subquery, Sum
from django.db.models.constants import LOOKUP_SEP
from django.http import Http404
from django.utils.cache import patch_cache_control
from django.utils.http import http_date, parse_etags, quote_etag
from django_filters.rest_framework import DjangoFilterBackend
from rest_framework import exceptions, pagination, serializers, status, viewsets
from rest_framework.filters import OrderingFilter
from rest_framework.renderers import BrowsableAPIRenderer, JSONRenderer
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

# Part of every ETag: bump it when a representation changes shape, so clients refetch.
REPRESENTATION_VERSION = "1"

PAGE_SIZE = 50
MAX_PAGE_SIZE = 500


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
    """DRF's handler, with every error body shaped as `ErrorSerializer`."""
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


def _messages(value) -> list[str]:
    if isinstance(value, dict):
        return [f"{key}: {message}" for key, item in value.items() for message in _messages(item)]
    if isinstance(value, list | tuple):
        return [message for item in value for message in _messages(item)]
    return [str(value)]


# --- Pagination ---------------------------------------------------------------------------------


class PageNumberPagination(pagination.PageNumberPagination):
    """`?page=2&page_size=100`: for people and small lists."""

    page_size = PAGE_SIZE
    page_size_query_param = "page_size"
    max_page_size = MAX_PAGE_SIZE
    page_size_query_description = f"Results per page (default {PAGE_SIZE}, at most {MAX_PAGE_SIZE})."


class SyncCursorPagination(pagination.CursorPagination):
    """Walks a whole collection in the view's `cursor_ordering`, unaffected by rows added meanwhile."""

    page_size = PAGE_SIZE
    page_size_query_param = "page_size"
    max_page_size = MAX_PAGE_SIZE
    cursor_query_description = (
        "Switches to cursor pagination: send it empty (`cursor=`) for the first page, then follow `next`. "
        "Results come in a stable order (for sync: oldest change first); `count` and `ordering` do not apply."
    )

    def get_ordering(self, request, queryset, view):
        return view.cursor_ordering


class PageOrCursorPagination(pagination.BasePagination):
    """Page numbers by default; the `cursor` parameter, even empty, switches to cursor pagination.

    The collections that clients sync in full (codes, diagnosis codes, coverage criteria) offer both.
    """

    def __init__(self):
        self.pages = PageNumberPagination()
        self.cursor = SyncCursorPagination()
        self.active = self.pages

    @property
    def display_page_controls(self):
        return self.active.display_page_controls

    def paginate_queryset(self, queryset, request, view=None):
        in_cursor_mode = self.cursor.cursor_query_param in request.query_params
        self.active = self.cursor if in_cursor_mode else self.pages
        return self.active.paginate_queryset(queryset, request, view)

    def get_paginated_response(self, data):
        return self.active.get_paginated_response(data)

    def to_html(self):
        return self.active.to_html()

    def get_paginated_response_schema(self, schema):
        response_schema = self.pages.get_paginated_response_schema(schema)
        response_schema["required"] = ["results"]
        response_schema["properties"]["count"]["description"] = "Total number of results; absent with `cursor`."
        return response_schema

    def get_schema_operation_parameters(self, view):
        cursor = self.cursor.get_schema_operation_parameters(view)[0]
        return [*self.pages.get_schema_operation_parameters(view), cursor]


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


# --- Conditional requests -----------------------------------------------------------------------


@dataclass(frozen=True)
class RelatedRows:
    """Rows of another table that each result shows, e.g. a code's coverage criteria.

    `link` is their field pointing at the result; `embedded` lists their relations shown as well.
    """

    queryset: QuerySet
    link: str
    embedded: tuple[str, ...] = ()


def _has_timestamp(model) -> bool:
    return any(field.name == "updated_at" for field in model._meta.get_fields())


def shown_relations(queryset: QuerySet) -> tuple[tuple[str, ...], tuple[RelatedRows, ...]]:
    """What a queryset's results show beyond their own rows, read from its select_related and
    prefetch_related: joined relations (`embedded`) and prefetched reverse relations (`RelatedRows`).

    Deriving this from the selector keeps the ETag in step with what the response shows.
    """
    model = queryset.model
    select = queryset.query.select_related
    names = list(select) if isinstance(select, dict) else []
    related = []
    for lookup in queryset._prefetch_related_lookups:
        through = lookup.prefetch_through if isinstance(lookup, Prefetch) else lookup
        if LOOKUP_SEP in through:
            continue
        field = model._meta.get_field(through)
        if isinstance(lookup, Prefetch) and field.one_to_many and lookup.queryset is not None:
            inner_embedded, _ = shown_relations(lookup.queryset)  # two levels deep are not needed yet
            related.append(RelatedRows(lookup.queryset, field.field.name, inner_embedded))
        else:
            names.append(through)
    embedded = tuple(
        name
        for name in dict.fromkeys(names)
        if LOOKUP_SEP not in name and _has_timestamp(model._meta.get_field(name).related_model)
    )
    return embedded, tuple(related)


def _paths(embedded: tuple[str, ...]) -> tuple[str, ...]:
    return ("", *(f"{name}__" for name in embedded))


def fingerprint(queryset: QuerySet) -> dict:
    """Counts and newest `updated_at` of every row a response shows, in one aggregate query.

    A change to any of those rows (or one added or removed) changes the result, so it can stand in
    for the response body in an ETag.
    """
    embedded, related = shown_relations(queryset)
    aggregates = {}
    for i, path in enumerate(_paths(embedded)):
        aggregates[f"n{i}"] = Count(f"{path}pk")
        aggregates[f"t{i}"] = Max(f"{path}updated_at")
    for j, rows in enumerate(related):
        linked = rows.queryset.filter(**{rows.link: OuterRef("pk")}).order_by().values(rows.link)
        for i, path in enumerate(_paths(rows.embedded)):
            aggregates[f"r{j}n{i}"] = Sum(Subquery(linked.annotate(value=Count(f"{path}pk")).values("value")))
            aggregates[f"r{j}t{i}"] = Max(Subquery(linked.annotate(value=Max(f"{path}updated_at")).values("value")))
    if queryset.query.distinct:
        # Aggregating a DISTINCT query wraps it, which would cut the subqueries off their outer rows.
        queryset = queryset.model._default_manager.filter(pk__in=queryset.values("pk"))
    return queryset.order_by().aggregate(**aggregates)


class ConditionalMixin:
    """ETag and Last-Modified on lists (and on detail in `ReadOnlyViewSet`); a matching
    `If-None-Match` answers 304.

    The ETag hashes a `fingerprint()` of the rows the response shows (not the body), so a 304 costs
    one aggregate query and serialises nothing. What the response shows is read from the view's
    queryset: its own rows, the relations it joins, and the reverse relations it prefetches.
    Last-Modified is the newest `updated_at` among those rows; deletions only show in the ETag.
    """

    def list(self, request, *args, **kwargs):
        queryset = self.filter_queryset(self.get_queryset())
        respond = super().list
        return self.conditional(request, self.get_fingerprint(queryset), lambda: respond(request, *args, **kwargs))

    def get_fingerprint(self, queryset: QuerySet) -> dict:
        return fingerprint(queryset)

    def conditional(self, request, parts: dict, respond: Callable[[], Response]) -> Response:
        etag = self.make_etag(request, parts)
        # On a match nothing is serialised: `respond` is only called for a full response.
        response = Response(status=status.HTTP_304_NOT_MODIFIED) if self.etag_matches(request, etag) else respond()
        response["ETag"] = etag
        last_modified = max((value for value in parts.values() if hasattr(value, "timestamp")), default=None)
        if last_modified:
            response["Last-Modified"] = http_date(last_modified.timestamp())
        # Readers must revalidate, and shared caches must not keep data that needs a token.
        patch_cache_control(response, private=True, no_cache=True)
        return response

    def make_etag(self, request, parts: dict) -> str:
        material = repr(
            (
                REPRESENTATION_VERSION,
                request.path,
                sorted(request.query_params.lists()),
                request.accepted_media_type,
                sorted(parts.items()),
            )
        )
        return "W/" + quote_etag(hashlib.sha256(material.encode()).hexdigest()[:32])

    @staticmethod
    def etag_matches(request, etag: str) -> bool:
        header = request.headers.get("If-None-Match")
        if not header:
            return False
        candidates = parse_etags(header)
        # If-None-Match uses the weak comparison: W/ prefixes do not matter.
        return "*" in candidates or etag.removeprefix("W/") in {tag.removeprefix("W/") for tag in candidates}


# --- Viewsets -----------------------------------------------------------------------------------


class ReadOnlyViewSet(ConditionalMixin, viewsets.ReadOnlyModelViewSet):
    """Base of every API resource: read-only (writes answer 405), filtered by the model's shared
    FilterSet, ordered stably, paginated, and conditional.

    Subclasses set `queryset` or `get_queryset()` (through a selector), `serializer_class`,
    `filterset_class`, `ordering` (ending on a unique field) and `ordering_fields`. A lookup value that
    does not match `lookup_value_pattern` answers 404 without querying.
    """

    filter_backends = [DjangoFilterBackend, StableOrderingFilter]
    pagination_class = PageNumberPagination
    renderer_classes = [JSONRenderer, ApiBrowsableRenderer]
    lookup_value_regex = "[^/]+"
    lookup_value_pattern = "[0-9]{1,18}"
    ordering_fields: tuple[str, ...] = ()

    def retrieve(self, request, *args, **kwargs):
        queryset = self.filter_queryset(self.get_queryset()).filter(**{self.lookup_field: self.get_lookup_value()})
        parts = self.get_fingerprint(queryset)
        respond = super().retrieve
        if not parts.get("n0"):
            return respond(request, *args, **kwargs)  # answers 404
        return self.conditional(request, parts, lambda: respond(request, *args, **kwargs))

    def normalise_lookup(self, value: str) -> str:
        return value

    def get_lookup_value(self) -> str:
        value = self.kwargs[self.lookup_url_kwarg or self.lookup_field]
        if not re.fullmatch(self.lookup_value_pattern, value):
            raise Http404
        return self.normalise_lookup(value)

    def get_object(self):
        self.kwargs[self.lookup_url_kwarg or self.lookup_field] = self.get_lookup_value()
        return super().get_object()


# --- OpenAPI schema -----------------------------------------------------------------------------
