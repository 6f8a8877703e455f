"""The API writes JSON with orjson (`policyhub.api_renderers`), and the bytes are DRF's own."""

import datetime
import uuid
from decimal import Decimal

import pytest
from django.utils.translation import gettext_lazy
from rest_framework.renderers import JSONRenderer as DrfJSONRenderer

from policyhub.api_renderers import JSONRenderer

AWKWARD = {
    "text": "Zoë’s “quoted” \\ text\n\twith\u2028line\u2029separators and \x01 controls and 𝔘nicode",
    "time": datetime.datetime(2026, 12, 4, 18, 25, 47, 907457, tzinfo=datetime.UTC),
    "naive_time": datetime.datetime(2026, 1, 2, 3, 4, 5),
    "date": datetime.date(2026, 1, 1),
    "clock": datetime.time(9, 30, 15, 250000),
    "amount": Decimal("1234.50"),
    "lazy": gettext_lazy("Not found."),
    "id": uuid.UUID("12345678-1234-5678-1234-567812345678"),
    "nested": [{"a": None, "b": True, "c": 0, "d": -7}, [], {}],
    "huge": 2**70,
    3: "a number as key",
}


def test_awkward_values_are_written_byte_for_byte_as_drf_writes_them():
    """Line separators escaped, times to the millisecond with Z, decimals, lazy text, UUIDs,
    integers too big for orjson, non-text keys: the same bytes as DRF's renderer."""
    assert JSONRenderer().render(AWKWARD) == DrfJSONRenderer().render(AWKWARD)
    without_huge = {key: value for key, value in AWKWARD.items() if key != "huge"}
    assert JSONRenderer().render(without_huge) == DrfJSONRenderer().render(without_huge)


def test_indented_answers_are_left_to_drf():
    """`Accept: application/json; indent=2` still indents."""
    body = JSONRenderer().render({"a": [1]}, "application/json; indent=2")
    assert body == b'{\n  "a": [\n    1\n  ]\n}'


@pytest.mark.parametrize(
    "path",
    [
        "/api/v1/codes/93590/",
        "/api/v1/codes/",
        "/api/v1/coverage-criteria/?page_size=500",
        "/api/v1/coverage-criteria/?cursor=",
        "/api/v1/changes/",
        "/api/v1/payers/",
        "/api/v1/codes/?coverage_status=nonsense",
    ],
)
def test_api_answers_are_drfs_bytes(api_client, dataset, path):
    """Real answers, lists, a whole brief, the changes feed and a 400, are the bytes DRF would write."""
    response = api_client.get(path)
    assert response.status_code in (200, 400)
    assert response.content == DrfJSONRenderer().render(response.data)
