"""POST /api/v1/coverage-check/ around the decision table (test_coverage_check.py): the demo payers,
unknown inputs, credentials, the audit record and the query budget."""

import pytest

from briefs.models import CoverageAssertion
from codes.models import DiagnosisCode
from payers.choices import GapCategory
from payers.demo_content import PAYERS
from tests.api.coverage_check import DAY, URL, check, criterion, item, rules
from tests.factories import DocumentationRequirementFactory, FollowUpGapFactory

pytestmark = pytest.mark.django_db


# --- The demo payers -----------------------------------------------------------------------------------


@pytest.mark.parametrize("slug", [payer["slug"] for payer in PAYERS])
def test_demo_93590_with_i340_at_pos_22(api_client, demo, slug):
    """With the seed data, every demo payer's answer for 93590 is indeterminate and names the open gap."""
    DiagnosisCode.objects.create(code="I340", description="Nonrheumatic mitral (valve) insufficiency")
    answer = item(check(api_client, payer=slug))
    assert (answer["covered"], answer["pa_needed"], answer["doc_needed"]) == (
        "indeterminate",
        "indeterminate",
        ["indeterminate"],
    )
    texts = " ".join(r["text"] for r in answer["reasons"])
    assert "Detailed payer-specific coverage criteria were not supplied." in texts
    assert {"status-unknown", "open-gap-coverage", "open-gap-documentation"} <= set(rules(answer))


# --- Refused questions, authentication, audit, queries -------------------------------------------------


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"payer": "nobody"}, "payer"),
        ({"codes": ["99999"]}, "items[0].code"),
        ({"diagnosis_codes": ["Z99.99"]}, "diagnosis_codes[0]"),
        ({"place_of_service": "99"}, "place_of_service"),
        ({"items": [{"code": "93590", "modifiers": ["ZZ"]}]}, "items[0].modifiers[0]"),
        ({"date_of_service": "2026-02-30"}, "date_of_service"),
        ({"items": []}, "items"),
    ],
)
def test_unknown_inputs_answer_400_naming_the_field(api_client, check_world, fields, field):
    """Unknown codes, payers, diagnoses, places, modifiers and bad dates answer 400 with the usual error body."""
    response = check(api_client, **fields)
    assert response.status_code == 400
    body = response.json()
    assert body["code"] == "invalid"
    assert field in body["errors"], body
    assert field in body["detail"]
    assert not CoverageAssertion.objects.exists()


def test_needs_a_token(anon_client, check_world):
    """Like the rest of the API, the coverage check needs credentials."""
    response = check(anon_client)
    assert response.status_code == 401
    assert response.json()["code"] == "not_authenticated"


def test_only_post(api_client, check_world):
    assert api_client.get(URL).status_code == 405


def test_answer_is_recorded_under_its_assertion_id(api_client, reader, check_world):
    """Each answer is kept with its question, the answer and the criterion versions it used."""
    c = criterion(check_world)
    body = check(api_client).json()
    record = CoverageAssertion.objects.get()
    assert str(record.assertion_id) == body["coverage_assertion_id"]
    assert (record.channel, record.user, record.payer, record.service_date) == ("rest", reader, check_world.payer, DAY)
    assert record.response == body
    assert record.request["items"][0]["code"] == "93590"
    used = {"id": c.pk, "version": c.version, "code": check_world.mitral.pk, "payer": check_world.payer.pk}
    assert record.criteria_versions == [used]
    second = check(api_client).json()
    assert second["coverage_assertion_id"] != body["coverage_assertion_id"]


def test_query_count_does_not_grow_with_the_order(api_client, check_world, django_assert_max_num_queries):
    """Five items with every kind of fact cost no more queries than one."""
    for code in (check_world.mitral, check_world.aortic, check_world.addon):
        c = criterion(check_world, code=code, policy=check_world.policy)
        c.diagnosis_codes.add(check_world.i340)
        DocumentationRequirementFactory(code=code, payer=check_world.payer, policy=check_world.policy)
        FollowUpGapFactory(code=code, payer=check_world.payer, category=GapCategory.BENCHMARK)
    check(api_client)  # warm up the token's last-used time
    # 11 reads of the decision, the audit insert (with savepoint), token, role check and the
    # throttle's six queries on the shared database cache.
    with django_assert_max_num_queries(22):
        response = check(
            api_client,
            items=[{"code": c, "modifiers": ["62"]} for c in ("93590", "93591", "93592", "93590", "93592")],
        )
    assert response.status_code == 200
    assert len(response.json()["items"]) == 5


def test_a_body_nested_deeper_than_json_reads_is_a_400(api_client, check_world):
    """Python's `json` raises RecursionError there, which DRF's parser let through as a 500."""
    response = api_client.post(URL, b'{"a":' * 3000 + b"1" + b"}" * 3000, content_type="application/json")
    assert response.status_code == 400
    assert response.json()["detail"] == "JSON parse error - the body is nested too deeply."
    assert not CoverageAssertion.objects.exists()
