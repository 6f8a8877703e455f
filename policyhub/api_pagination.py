"""Pagination of every API collection: page numbers for people, keyset cursors for sync.

A cursor walk (`?cursor=`, then follow `next`) pages by keyset: the cursor carries the last row's
full sort key, which ends on a unique column, and the next page is the rows after that key, read
through the key's index with no OFFSET. The walk never loops, never skips a row that existed when
it started and costs the same on page 1 and page 1,000. Cursors are signed, name the collection
they belong to and expire after `CURSOR_MAX_AGE`; any other cursor answers 400 naming `cursor`.

Every list also says which change-log position it is consistent with (`change_position` in the
body, `X-Change-Position` header): see `policyhub.changelog` and the sync recipe in docs/api.md.
"""

from datetime import timedelta
from functools import partial

from django.core import signing
from django.db.models import Q, QuerySet
from django.utils import timezone
from rest_framework import exceptions, pagination
from rest_framework.response import Response
from rest_framework.utils.urls import replace_query_param

from policyhub.paginators import CappedCountPaginator
from policyhub.remembered import newest_change

PAGE_SIZE = 50
MAX_PAGE_SIZE = 500
CURSOR_MAX_AGE = timedelta(days=7)
CURSOR_SALT = "policyhub.api.cursor"
POSITION_HEADER = "X-Change-Position"


def change_position(request) -> int:
    return newest_change(request)[0]


def _page_size(request) -> int:
    raw = request.query_params.get("page_size")
    if raw in (None, ""):
        return PAGE_SIZE
    if not raw.isdigit() or int(raw) < 1:
        raise exceptions.ValidationError({"page_size": [f"A whole number from 1 to {MAX_PAGE_SIZE}."]})
    return min(int(raw), MAX_PAGE_SIZE)


def _position_schema() -> dict:
    return {
        "type": "integer",
        "description": "The change-log position this list is consistent with: apply /api/v1/changes/?after= it.",
    }


class PageNumberPagination(pagination.PageNumberPagination):
    """`?page=2&page_size=100`: for people and small lists."""

    page_size = PAGE_SIZE
    page_size_query_param = "page_size"
    max_page_size = MAX_PAGE_SIZE
    page_size_query_description = f"Results per page (default {PAGE_SIZE}, at most {MAX_PAGE_SIZE})."
    # Exact counts up to 10,000 results, the planner's estimate above (PostgreSQL).
    django_paginator_class = CappedCountPaginator

    def get_page_size(self, request):
        return _page_size(request)

    def paginate_queryset(self, queryset, request, view=None):
        # The API lists published data only: its counts are remembered at the request's change position.
        self.django_paginator_class = partial(
            CappedCountPaginator, as_of=newest_change(request), key=self.count_key(request)
        )
        return super().paginate_queryset(queryset, request, view)

    def count_key(self, request) -> tuple:
        """What an API list's rows follow from, to know its remembered count by: the collection (its
        path), its parameters but the page's, and today's date (`?overdue=` compares with it). The
        lists hold published rows only, the same for whoever asks."""
        paging = {self.page_query_param, self.page_size_query_param}
        parameters = tuple(
            sorted((name, tuple(values)) for name, values in request.query_params.lists() if name not in paging)
        )
        return (request.path, parameters, timezone.localdate())


class KeysetPagination(pagination.BasePagination):
    """`?cursor=` then `next`: the rows after the last one seen, in the view's `cursor_ordering`."""

    cursor_query_param = "cursor"
    cursor_query_description = (
        "Switches to a keyset walk for sync: send it empty (`cursor=`) for the first page, then follow `next` "
        "until it is null. Rows come in key order; `count`, `page` and `ordering` do not apply."
    )

    def paginate_queryset(self, queryset: QuerySet, request, view=None):
        self.request = request
        self.ordering = tuple(view.cursor_ordering)
        self.page_size = _page_size(request)
        after = self.decode(request.query_params.get(self.cursor_query_param, ""))
        if after is not None:
            queryset = queryset.filter(self.after(queryset.model, after))
        rows = list(queryset.order_by(*self.ordering)[: self.page_size + 1])
        self.has_next = len(rows) > self.page_size
        rows = rows[: self.page_size]
        last = rows[-1] if rows else None
        # Rows are model instances, or dicts where a view reads its page with values().
        read = last.__getitem__ if isinstance(last, dict) else partial(getattr, last)
        self.last_key = [read(name.lstrip("-")) for name in self.ordering] if rows else None
        return rows

    def after(self, model, key: list) -> Q:
        """Rows whose sort key comes after `key`: (a, b) > (x, y) as a > x OR (a = x AND b > y)."""
        names = [term.lstrip("-") for term in self.ordering]
        condition = Q(pk__in=[])
        for i, term in enumerate(self.ordering):
            beyond = {f"{names[i]}__{'lt' if term.startswith('-') else 'gt'}": key[i]}
            condition |= Q(**dict(zip(names[:i], key[:i], strict=True)), **beyond)
        return condition

    def scope(self) -> str:
        return f"{self.request.path}|{','.join(self.ordering)}"

    def encode(self, key: list) -> str:
        values = [value.isoformat() if hasattr(value, "isoformat") else value for value in key]
        return signing.dumps({"s": self.scope(), "k": values}, salt=CURSOR_SALT, compress=True)

    def decode(self, cursor: str) -> list | None:
        if not cursor:
            return None
        try:
            data = signing.loads(cursor, salt=CURSOR_SALT, max_age=CURSOR_MAX_AGE)
        except signing.SignatureExpired:
            raise exceptions.ValidationError({"cursor": ["This cursor has expired; start the walk again."]}) from None
        except (signing.BadSignature, ValueError):
            raise exceptions.ValidationError({"cursor": ["Not a cursor this server issued."]}) from None
        if not isinstance(data, dict) or data.get("s") != self.scope() or len(data.get("k", ())) != len(self.ordering):
            raise exceptions.ValidationError({"cursor": ["This cursor belongs to another collection."]})
        return data["k"]

    def get_next_link(self) -> str | None:
        if not self.has_next:
            return None
        url = self.request.build_absolute_uri()
        return replace_query_param(url, self.cursor_query_param, self.encode(self.last_key))

    def get_paginated_response(self, data):
        return Response(
            {
                "next": self.get_next_link(),
                "previous": None,
                "change_position": change_position(self.request),
                "results": data,
            }
        )


class PageOrCursorPagination(pagination.BasePagination):
    """Page numbers by default; the `cursor` parameter, even empty, switches to the keyset walk.

    Both bodies carry `change_position`.
    """

    def __init__(self):
        self.pages = PageNumberPagination()
        self.cursor = KeysetPagination()
        self.active = self.pages

    @property
    def display_page_controls(self):
        return self.active is self.pages and self.pages.display_page_controls

    def paginate_queryset(self, queryset, request, view=None):
        in_cursor_mode = self.cursor.cursor_query_param in request.query_params
        self.active = self.cursor if in_cursor_mode else self.pages
        self.request = request
        change_position(request)  # before the page is read: the page reflects at least this position
        return self.active.paginate_queryset(queryset, request, view)

    def get_paginated_response(self, data):
        if self.active is self.cursor:
            return self.cursor.get_paginated_response(data)
        response = self.pages.get_paginated_response(data)
        results = response.data.pop("results")
        response.data.update(change_position=change_position(self.request), results=results)
        return response

    def to_html(self):
        return self.pages.to_html() if self.active is self.pages else ""

    def get_paginated_response_schema(self, schema):
        response_schema = self.pages.get_paginated_response_schema(schema)
        response_schema["required"] = ["results", "change_position"]
        response_schema["properties"]["count"]["description"] = (
            "Total number of results (exact up to 10,000, estimated above); absent with `cursor`."
        )
        response_schema["properties"]["change_position"] = _position_schema()
        return response_schema

    def get_schema_operation_parameters(self, view):
        cursor = {
            "name": self.cursor.cursor_query_param,
            "required": False,
            "in": "query",
            "description": self.cursor.cursor_query_description,
            "schema": {"type": "string"},
        }
        return [*self.pages.get_schema_operation_parameters(view), cursor]
