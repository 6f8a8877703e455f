"""A hook call that is malformed gets a 400 naming what, or is read as far as it can be: never a 500.

Found by posting an order-sign call with each part of it replaced by a value of another JSON type, a
NUL character or a deep nest: a code, coding, reason or location that was not a list, a payor,
contained resource or identifier that was not one, a NUL anywhere and a body nested 3,000 deep all
answered 500 (TypeError, PostgreSQL's DataError, RecursionError).
"""

import json

import pytest

from briefs.models import CoverageAssertion
from tests.api.cds_requests import SIGN, bearer, hook_body, service_request, token

pytestmark = pytest.mark.django_db

ORDER = ("context", "draftOrders", "entry", 0, "resource")
COVERAGE = ("prefetch", "coverage", "entry", 0, "resource")
PARTS = [
    (*ORDER, "code"),
    (*ORDER, "code", "coding"),
    (*ORDER, "code", "coding", 0),
    (*ORDER, "reasonCode"),
    (*ORDER, "locationCode"),
    (*ORDER, "occurrenceDateTime"),
    (*COVERAGE, "payor"),
    (*COVERAGE, "payor", 0, "reference"),
    (*COVERAGE, "contained"),
    (*COVERAGE, "contained", 0, "identifier"),
    (*COVERAGE, "contained", 0, "identifier", 0, "value"),
]


def call_with(path: tuple, value) -> dict:
    body = hook_body("order-sign", [service_request("sr1", "93590")])
    node = body
    for step in path[:-1]:
        node = node[step]
    node[path[-1]] = value
    return body


def post(ec_key, body):
    content = body if isinstance(body, bytes) else json.dumps(body).encode()
    return bearer(token(ec_key, SIGN)).post(SIGN, content, content_type="application/json")


@pytest.mark.parametrize("path", PARTS, ids=lambda path: ".".join(map(str, path[5:])))
def test_a_part_of_another_json_type_is_read_as_absent(cds_client, ec_key, crd_world, path):
    for value in (5, True, "x", [5], {"a": 1}):
        response = post(ec_key, call_with(path, value))
        assert response.status_code in (200, 400), (value, response.status_code)
        assert response["Content-Type"].startswith("application/json")


def test_an_order_whose_code_is_not_a_concept_is_skipped_and_said(cds_client, ec_key, crd_world):
    response = post(ec_key, call_with((*ORDER, "code"), 93590))
    assert response.status_code == 200
    assert "carries no CPT or HCPCS code" in json.dumps(response.json()["cards"])


@pytest.mark.parametrize(
    ("path", "named"),
    [
        (("hookInstance",), "hookInstance"),
        ((*ORDER, "code", "coding", 0, "code"), "context.draftOrders.entry[0].resource.code.coding[0].code"),
        ((*COVERAGE, "contained", 0, "identifier", 0, "value"), "prefetch.coverage.entry[0].resource.contained[0]"),
    ],
)
def test_a_nul_character_is_refused_where_it_is(cds_client, ec_key, crd_world, path, named):
    response = post(ec_key, call_with(path, "93\x00590"))
    assert response.status_code == 400
    (where, messages), *_ = response.json()["errors"].items()
    assert where.startswith(named) and messages == ["A NUL character (U+0000) is not allowed."]
    assert not CoverageAssertion.objects.exists()


def test_a_key_with_a_nul_character_is_refused_too(cds_client, ec_key, crd_world):
    body = hook_body("order-sign", [service_request("sr1", "93590")])
    body["context"]["x\x00y"] = 1
    response = post(ec_key, body)
    assert response.status_code == 400
    assert response.json()["errors"] == {"context.xy": ["A NUL character (U+0000) is not allowed."]}


def test_a_body_nested_deeper_than_json_reads_is_a_400(cds_client, ec_key, crd_world):
    response = post(ec_key, b'{"a":' * 3000 + b"1" + b"}" * 3000)
    assert response.status_code == 400
    assert "nested too deeply" in response.json()["detail"]
