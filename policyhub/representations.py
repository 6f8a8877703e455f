"""What hand-written representations share: links built without a `reverse` per row, and dates
and times formatted by DRF's own fields (so the output stays identical to a serializer's).

Used where DRF's per-field cost dominates a hot list (payers/api/fast.py, the codes list), and for
the links to code pages that reader pages show on every row (`BillingCode.get_absolute_url`).
"""

import functools
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from django.conf import settings
from django.urls import get_script_prefix, get_urlconf, reverse
from django.utils import timezone
from rest_framework import serializers

_DATE = serializers.DateField()
# In the site's time zone, as every serializer's times (the API never activates another one): given
# here, DRF does not look the current zone up again for each value (3 of its 6 µs a value).
_ZONE = timezone.get_default_timezone()
_TIME = serializers.DateTimeField(default_timezone=_ZONE)
# A key no real row has, reversed once and replaced by each row's key.
_MARK = "0000000000"


def route_around(view_name: str, kwarg: str) -> tuple[str, str]:
    """The path of `view_name` split where its `kwarg` goes: a row's link is `before + key + after`.

    Reversed once per URL prefix (SCRIPT_NAME) and URL map, then kept: a `reverse()` per row was
    1.5-2 ms of a 50-row page (docs/bench.md). For keys that need no quoting (codes, slugs, ids).
    """
    return _route_around(view_name, kwarg, get_script_prefix(), get_urlconf() or settings.ROOT_URLCONF)


@functools.lru_cache(maxsize=64)
def _route_around(view_name: str, kwarg: str, prefix: str, urlconf) -> tuple[str, str]:
    before, _, after = reverse(view_name, kwargs={kwarg: _MARK}, urlconf=urlconf).rpartition(_MARK)
    return before, after


class Links:
    """Absolute detail URLs of API resources, built by string formatting (`route_around`)."""

    def __init__(self, request):
        self.request = request
        self.prefixes: dict[str, tuple[str, str]] = {}

    def __call__(self, view_name: str, key) -> str:
        try:
            before, after = self.prefixes[view_name]
        except KeyError:
            kwarg = {"api:code-detail": "code", "api:diagnosis-code-detail": "code", "api:payer-detail": "slug"}
            before, after = route_around(view_name, kwarg.get(view_name, "pk"))
            if self.request is not None:
                before = self.request.build_absolute_uri(before)
            self.prefixes[view_name] = before, after
        return f"{before}{key}{after}"


@dataclass(frozen=True)
class ValuesPage:
    """How a list reads its page as plain rows (`values(*columns)`) instead of model instances, and
    the function that turns those rows into the serializer's output (`ReadOnlyViewSet.values_page`)."""

    columns: tuple[str, ...]
    represent: Callable[[list[dict], Links], list[dict]]


def links_of(serializer) -> Links:
    """The request's `Links`, kept in the serializer context so a whole page shares one."""
    context = serializer.context
    if "fast_links" not in context:
        context["fast_links"] = Links(context.get("request"))
    return context["fast_links"]


def date_text(value):
    return None if value is None else _DATE.to_representation(value)


def time_text(value):
    """`DateTimeField().to_representation(value)`: ISO 8601 in the site's zone, `Z` for UTC.

    Written out for aware times, which are all the database gives (USE_TZ): DRF's field checks
    each value's type and zone again (a quarter of its time here), and a feed page formats hundreds.
    Anything else goes to DRF's field."""
    if type(value) is datetime and value.tzinfo is not None:
        text = value.astimezone(_ZONE).isoformat()
        return text[:-6] + "Z" if text.endswith("+00:00") else text
    return None if value is None else _TIME.to_representation(value)
