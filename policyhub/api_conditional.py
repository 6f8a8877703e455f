"""Conditional requests: ETag and Last-Modified on every list and detail; a match answers 304.

The validators come from the change log, a stored value per change, not from an aggregate over the
rows a response shows: every change of published data appends an entry (`policyhub.changelog`),
so the newest position stands for the state of all of it. The ETag hashes that position with what
selects the representation (path, query, media type); Last-Modified is when that position's
change committed. Checking costs one indexed lookup and serialises nothing.

Parameters are validated before any precondition is looked at, so `If-None-Match: *` never turns
a 400 into a 304; `*` itself answers 304 only when the full response would be a 200.
"""

import hashlib
from collections.abc import Callable

from django.core.cache import caches
from django.utils.cache import patch_cache_control
from django.utils.http import http_date, parse_etags, parse_http_date_safe, quote_etag
from rest_framework import status
from rest_framework.response import Response

from policyhub.api_pagination import POSITION_HEADER, newest_change

# Part of every ETag: bump it when a representation changes shape, so clients refetch (and so that
# answers kept under the old ETags are never served again).
REPRESENTATION_VERSION = "2"
# How long a kept answer may stay unused in the cache; a newer change position makes it unreachable
# at once, this only bounds the garbage.
KEPT_ANSWER_SECONDS = 3600


class ConditionalMixin:
    """ETag, Last-Modified and `X-Change-Position` on lists (and on detail in `ReadOnlyViewSet`);
    a matching `If-None-Match`, or an `If-Modified-Since` not older than the last change, answers 304.
    """

    # Set on a view whose detail costs many queries and is asked for again and again (a code's
    # whole brief): its body is kept under its ETag until published data changes. Lists are not
    # kept: a sync walks every page once, and keeping each would only churn the cache.
    keeps_detail_answers = False

    def list(self, request, *args, **kwargs):
        self.check_parameters(request)
        return self.conditional(request, lambda: self.list_page(self.filtered_queryset()))

    def list_page(self, queryset) -> Response:
        """`ListModelMixin.list` on the filtered queryset: the FilterSet (form, validation,
        deep-copied filters) is built once per request (`filtered_queryset`)."""
        page = self.paginate_queryset(queryset)
        if page is not None:
            return self.get_paginated_response(self.get_serializer(page, many=True).data)
        return Response(self.get_serializer(queryset, many=True).data)

    def filtered_queryset(self):
        """The view's queryset through its filters, once per request: a FilterSet (its form, its
        validation, its deep-copied filters) is built for this and not again to answer."""
        if getattr(self, "_filtered_queryset", None) is None:
            self._filtered_queryset = self.filter_queryset(self.get_queryset())
        return self._filtered_queryset

    def check_parameters(self, request) -> None:
        """Raise the 400 that the full response would give: filters, ordering, page size, cursor."""
        if not request.query_params:
            # Nothing to refuse, and a 304 needs no queryset: building the FilterSet was a tenth of it.
            return
        self.filtered_queryset()
        paginator = self.paginator
        if paginator is not None and hasattr(paginator, "cursor"):
            paginator.cursor.request = request
            paginator.cursor.ordering = tuple(getattr(self, "cursor_ordering", ("pk",)))
            paginator.cursor.decode(request.query_params.get("cursor", ""))

    def conditional(self, request, respond: Callable[[], Response]) -> Response:
        position, last_modified = newest_change(request)
        etag = self.make_etag(request, position)
        verdict = self.precondition(request, etag, last_modified)
        if verdict == "full":
            response = self.full_answer(request, etag, last_modified, respond)
            if request.headers.get("If-None-Match", "").strip() == "*" and response.status_code == status.HTTP_200_OK:
                response = Response(status=status.HTTP_304_NOT_MODIFIED)
        else:
            # Nothing is serialised: `respond` is only called for a full response.
            response = Response(status=status.HTTP_304_NOT_MODIFIED)
        if response.status_code in (status.HTTP_200_OK, status.HTTP_304_NOT_MODIFIED):
            response["ETag"] = etag
            if last_modified:
                response["Last-Modified"] = http_date(last_modified.timestamp())
        response[POSITION_HEADER] = str(position)
        # Readers must revalidate, and shared caches must not keep data that needs a token.
        patch_cache_control(response, private=True, no_cache=True)
        return response

    def full_answer(self, request, etag: str, last_modified, respond: Callable[[], Response]) -> Response:
        """`respond()`, or for a detail of a view that `keeps_detail_answers` the body it gave before
        under this ETag.

        The ETag names the change position (every write of published data moves it), so a kept body
        is exactly as current as the 304 the same ETag earns. The key adds the moment that position
        committed (a restored database reuses positions), and the site's address (the body's links
        are absolute). Kept in the process's own bounded cache (`CACHES["answers"]`).
        """
        if not (self.keeps_detail_answers and getattr(self, "action", None) == "retrieve") or last_modified is None:
            return respond()
        material = f"{etag}|{last_modified.isoformat()}|{request.build_absolute_uri('/')}"
        key = "api-answer:" + hashlib.sha256(material.encode()).hexdigest()
        kept = caches["answers"]
        data = kept.get(key)
        if data is not None:
            return Response(data)
        response = respond()
        if response.status_code == status.HTTP_200_OK:
            kept.set(key, plain(response.data), KEPT_ANSWER_SECONDS)
        return response

    def make_etag(self, request, position: int) -> str:
        material = repr(
            (
                REPRESENTATION_VERSION,
                request.path,
                sorted(request.query_params.lists()),
                request.accepted_media_type,
                position,
            )
        )
        return "W/" + quote_etag(hashlib.sha256(material.encode()).hexdigest()[:32])

    @staticmethod
    def precondition(request, etag: str, last_modified) -> str:
        """`not_modified` when the client's copy is current, else `full` (RFC 9110 section 13.2.2)."""
        header = request.headers.get("If-None-Match")
        if header:
            candidates = parse_etags(header)
            if "*" in candidates:
                return "full"  # decided on the full response: only a 200 becomes a 304
            # If-None-Match uses the weak comparison: W/ prefixes do not matter.
            current = etag.removeprefix("W/")
            return "not_modified" if current in {tag.removeprefix("W/") for tag in candidates} else "full"
        since = parse_http_date_safe(request.headers.get("If-Modified-Since", ""))
        if since is not None and last_modified is not None and int(last_modified.timestamp()) <= since:
            return "not_modified"
        return "full"


def plain(data):
    """`data` as plain dicts, lists and strings, ready to keep.

    A serializer's links are `Hyperlink`s, strings that hold the model instance they were made from;
    a code's instance carries its whole prefetched brief, so pickling the answer into the cache
    pickled some 250 instances again (6 ms of a 40 ms brief).
    """
    if isinstance(data, dict):
        return {key: plain(value) for key, value in data.items()}
    if isinstance(data, list):
        return [plain(value) for value in data]
    if isinstance(data, str) and type(data) is not str:
        return str.__str__(data)
    return data
