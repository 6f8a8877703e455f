"""The changes feed, `/api/v1/changes/?after=<position>`: the change log, read in commit order.

Each entry names the resource and key to refetch (`upserted`) or to drop (`removed`). Only
positions up to the request's change position are served: every change at or below it has
committed, and a transaction still in flight gets a higher position when it commits
(`policyhub.changelog`), so a client that follows `next` and then asks again after its last
position never misses an entry and never sees one twice.
"""

import re
from urllib.parse import quote

from django.apps import apps
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import serializers, viewsets
from rest_framework.response import Response
from rest_framework.reverse import reverse
from rest_framework.utils.urls import remove_query_param, replace_query_param

from policyhub.api_conditional import ConditionalMixin
from policyhub.api_pagination import MAX_PAGE_SIZE, PAGE_SIZE, change_position
from policyhub.api_schema import ApiAutoSchema
from policyhub.changelog import ChangeAction, ChangeLogEntry, entry_rows, newest_change_and_entries
from policyhub.remembered import use_newest_change
from policyhub.representations import time_text


def _resources() -> list[str]:
    """The resources the change log reports: each model's `change_log.resource`, a router prefix."""
    specs = (getattr(model, "change_log", None) for model in apps.get_models())
    return sorted({spec.resource for spec in specs if spec is not None})


RESOURCES = _resources()


class ChangeQuerySerializer(serializers.Serializer):
    """The changes feed's query parameters."""

    after = serializers.IntegerField(
        required=False,
        min_value=0,
        help_text="A change position: list the changes after it (a list's `change_position`, or the last entry's "
        "`position`). Default 0: from the beginning.",
    )
    since = serializers.DateTimeField(
        required=False,
        help_text="Convenience instead of `after`: the changes committed at or after this ISO 8601 date-time.",
    )
    resource = serializers.MultipleChoiceField(
        choices=RESOURCES,
        required=False,
        help_text="Only changes of these resources; repeat for several.",
    )
    page_size = serializers.IntegerField(
        required=False,
        min_value=1,
        help_text=f"Entries per page (default {PAGE_SIZE}, at most {MAX_PAGE_SIZE}).",
    )

    def validate(self, attrs):
        if "after" in attrs and "since" in attrs:
            raise serializers.ValidationError({"since": ["Give either after or since, not both."]})
        return attrs


class ChangeSerializer(serializers.ModelSerializer):
    """One change of published data."""

    time = serializers.DateTimeField(source="positioned_at", help_text="When the change committed.")
    url = serializers.SerializerMethodField(help_text="Where to fetch the resource now; null when removed.")

    class Meta:
        model = ChangeLogEntry
        fields = ["position", "resource", "key", "action", "billing_code", "time", "url"]
        extra_kwargs = {
            "position": {"help_text": "Commit order; send the last one you applied as `after`."},
            "key": {"help_text": "Its lookup value: the code for codes, the slug for payers, else the id."},
            "action": {"help_text": "`upserted`: fetch it again; `removed`: no longer published, drop it."},
            "billing_code": {"help_text": "The billing code the changed row belongs to, if any."},
        }

    def get_url(self, entry) -> str | None:
        # Reversed once per page (the entries of a page share the context).
        if "api_root" not in self.context:
            self.context["api_root"] = reverse("api:api-root", request=self.context.get("request"))
        return entry_url(self.context["api_root"], entry.resource, entry.key, entry.action)


def entry_url(api_root: str, resource: str, key: str, action: str) -> str | None:
    """Where to fetch a changed resource now; None when it was removed. `resource` is the router's
    prefix and `key` the lookup value, so the API root's URL is all it takes."""
    if action == ChangeAction.REMOVED:
        return None
    return f"{api_root}{resource}/{key if _URL_SAFE.fullmatch(key) else quote(key, safe='')}/"


# What `quote` leaves as it is: codes, slugs and ids, nearly every key.
_URL_SAFE = re.compile(r"[A-Za-z0-9_.~-]+")


def entries_from_values(rows, api_root: str) -> list[dict]:
    """`ChangeSerializer`'s output for rows of `changelog.ENTRY_COLUMNS`, built by hand: a feed page is
    up to 500 entries of seven plain fields, and DRF's per-field calls cost more than the page's own
    query (docs/bench.md). `api_root` is the API root's absolute URL."""
    return [
        {
            "position": position,
            "resource": resource,
            "key": key,
            "action": action,
            "billing_code": billing_code,
            "time": time_text(time),
            "url": entry_url(api_root, resource, key, action),
        }
        for position, resource, key, action, billing_code, time in rows
    ]


class ChangePageSerializer(serializers.Serializer):
    next = serializers.URLField(allow_null=True, help_text="The following entries; null when you are up to date.")
    change_position = serializers.IntegerField(help_text="The newest committed position when this was served.")
    results = ChangeSerializer(many=True)


class ChangeFeedSchema(ApiAutoSchema):
    """The feed's `list` answers one page object (`ChangePageSerializer`), not an array of entries."""

    def _is_list_view(self, serializer=None):
        return False


@extend_schema_view(
    list=extend_schema(
        summary="List changes after a position",
        operation_id="changes_list",  # not derived: the schema treats the one-object page as a detail
        description="The change log in commit order: each entry names the resource and key to refetch "
        "(`upserted`) or drop (`removed`). Follow `next` until it is null, then poll again with `after=` the last "
        "`position` applied. A change to a code's brief text, modifier guidance, sites, related codes or associated "
        "diagnoses is reported as a change of the code.",
        parameters=[ChangeQuerySerializer],
        responses=ChangePageSerializer,
    ),
)
class ChangeViewSet(ConditionalMixin, viewsets.GenericViewSet):
    """The changes feed (`/api/v1/changes/?after=1234`)."""

    schema_tag = "changes"
    serializer_class = ChangeSerializer
    schema = ChangeFeedSchema()
    pagination_class = None
    filter_backends = []
    queryset = ChangeLogEntry.objects.none()

    def check_parameters(self, request):
        self.params = _plain_parameters(request.query_params)
        if self.params is None:
            params = ChangeQuerySerializer(data=request.query_params)
            params.is_valid(raise_exception=True)
            self.params = params.validated_data

    def list(self, request, *args, **kwargs):
        self.check_parameters(request)
        self.read_entries(request)
        return self.conditional(request, lambda: self.page(request))

    def read_entries(self, request) -> None:
        """The page's entries and the request's change position, in one statement where it can be.

        Read before the preconditions are checked, so a 304 reads the entries for nothing; but a
        client polling with `after=` its last position gets few or none, and one that reads a page
        again with its ETag is rare."""
        self.after = self.params.get("after", 0)
        if "since" in self.params:
            self.after = _position_before(self.params["since"])
        self.size = min(self.params.get("page_size", PAGE_SIZE), MAX_PAGE_SIZE)
        self.resources = sorted(self.params.get("resource", ()))
        self.rows = None
        read = newest_change_and_entries(after=self.after, limit=self.size + 1, resources=self.resources)
        if read is not None:
            newest, self.rows = read
            use_newest_change(request, newest)

    def page(self, request) -> Response:
        top = change_position(request)
        rows = self.rows
        if rows is None:  # entries waited for positions, or none had one: numbered now, read now
            rows = entry_rows(after=self.after, upto=top, limit=self.size + 1, resources=self.resources)
        next_url = None
        if len(rows) > self.size:
            rows = rows[: self.size]
            url = remove_query_param(request.build_absolute_uri(), "since")
            next_url = replace_query_param(url, "after", rows[-1][0])
        results = entries_from_values(rows, reverse("api:api-root", request=request))
        return Response({"next": next_url, "change_position": top, "results": results})


def _plain_parameters(query) -> dict | None:
    """What `ChangeQuerySerializer` validates `query` to, read directly when it is what a syncing
    client sends every time (`after` and `page_size` in plain digits, known resources); None for
    anything else, which the serializer checks and, where wrong, explains. Building and running the
    serializer took longer than the page's statement (docs/bench.md)."""
    params = {"resource": set()}
    for name, values in query.lists():
        if name == "resource" and all(value in RESOURCES for value in values):
            params[name] = set(values)
        elif name in ("after", "page_size") and len(values) == 1 and _WHOLE_NUMBER.fullmatch(values[0]):
            params[name] = int(values[0])
        else:
            return None
    return None if params.get("page_size") == 0 else params


# Digits a Python int and a database's bigint both take.
_WHOLE_NUMBER = re.compile(r"[0-9]{1,18}")


def _position_before(since) -> int:
    """The last position committed before `since`: `since` as a position."""
    entry = ChangeLogEntry.objects.filter(positioned_at__lt=since).order_by("-positioned_at", "-position").first()
    return entry.position if entry else 0
