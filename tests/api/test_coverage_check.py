"""POST /api/v1/coverage-check/: every row of the decision table in docs/coverage-check.md, the demo
payers, unknown inputs, the audit record and the query budget."""

import datetime as dt

import pytest

from briefs.models import CoverageAssertion
from codes.choices import RelationshipKind
from codes.models import DiagnosisCode
from payers.choices import CoverageStatus, DocumentationPurpose, GapCategory, GapStatus, PriorAuth
from payers.demo_content import PAYERS
from policyhub.choices import WorkflowState
from tests.factories import (
    BillingCodeFactory,
    CodeRelationshipFactory,
    CoverageCriterionFactory,
    DiagnosisCodeFactory,
    DocumentationRequirementFactory,
    FollowUpGapFactory,
    ModifierFactory,
    PayerFactory,
    PlaceOfServiceFactory,
    PolicyDocumentFactory,
    SiteOfServiceFactory,
)

pytestmark = pytest.mark.django_db

DAY = dt.date(2026, 3, 2)
URL = "/api/v1/coverage-check/"


class World:
    """A payer, the three valve-leak codes and the catalogue rows the rules read."""


@pytest.fixture
def world(db):
    w = World()
    w.payer = PayerFactory(name="Acme Health", slug="acme")
    w.other = PayerFactory(name="Other Plan", slug="other")
    w.mitral = BillingCodeFactory(code="93590", short_descriptor="Mitral leak closure, first device")
    w.aortic = BillingCodeFactory(code="93591", short_descriptor="Aortic leak closure, first device")
    w.addon = BillingCodeFactory(code="93592", short_descriptor="Additional occlusion device", is_add_on=True)
    for primary in (w.mitral, w.aortic):
        CodeRelationshipFactory(from_code=w.addon, to_code=primary, kind=RelationshipKind.ADD_ON_TO)
    w.office = PlaceOfServiceFactory(code="11", name="Office", setting="non_facility")
    w.inpatient = PlaceOfServiceFactory(code="21", name="Inpatient Hospital")
    w.outpatient = PlaceOfServiceFactory(code="22", name="On Campus-Outpatient Hospital")
    for place in (w.inpatient, w.outpatient):
        SiteOfServiceFactory(code=w.mitral, place_of_service=place)
    w.i340 = DiagnosisCodeFactory(code="I340", description="Nonrheumatic mitral (valve) insufficiency")
    w.i350 = DiagnosisCodeFactory(code="I350", description="Nonrheumatic aortic (valve) stenosis")
    w.t82 = DiagnosisCodeFactory(code="T8209", description="Other mechanical complication of heart valve prosthesis")
    w.m62 = ModifierFactory(code="62", description="Two surgeons")
    w.policy = PolicyDocumentFactory(
        payer=w.payer, number="CPB 0826", title="Paravalvular leak closure", url="https://example.org/cpb0826"
    )
    return w


def criterion(w, code=None, **fields):
    fields.setdefault("coverage_status", CoverageStatus.COVERED)
    fields.setdefault("prior_auth", PriorAuth.NOT_REQUIRED)
    return CoverageCriterionFactory(code=code or w.mitral, payer=w.payer, **fields)


def check(client, *, codes=("93590",), **fields):
    body = {
        "payer": "acme",
        "date_of_service": DAY.isoformat(),
        "items": [{"code": code} for code in codes],
        "diagnosis_codes": ["I34.0"],
        "place_of_service": "22",
        **fields,
    }
    return client.post(URL, body, format="json")


def item(response, n=0) -> dict:
    assert response.status_code == 200, response.content
    return response.json()["items"][n]


def rules(answer: dict) -> list[str]:
    return [reason["rule"] for reason in answer["reasons"]]


# --- The criterion in force ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("status", "covered", "rule"),
    [
        (CoverageStatus.COVERED, "covered", "status-covered"),
        (CoverageStatus.COVERED_WITH_CRITERIA, "conditional", "status-covered-with-criteria"),
        (CoverageStatus.NOT_COVERED, "not-covered", "status-not-covered"),
        (CoverageStatus.NO_POLICY, "indeterminate", "status-no-policy"),
        (CoverageStatus.UNKNOWN, "indeterminate", "status-unknown"),
    ],
)
def test_coverage_status_maps_to_crd_covered(api_client, world, status, covered, rule):
    """The payer's published status becomes CRD `covered`; not-covered carries no prior-auth answer."""
    c = criterion(world, coverage_status=status, policy=world.policy)
    answer = item(check(api_client))
    assert answer["covered"] == covered
    assert rule in rules(answer)
    assert answer["criterion"]["id"] == c.pk
    assert answer["criterion"]["policy"]["url"] == "https://example.org/cpb0826"
    assert answer["policies"][0]["number"] == "CPB 0826"
    if covered == "not-covered":
        assert answer["pa_needed"] is None
    if covered == "conditional":
        assert answer["info_needed"] == ["OTH"]


@pytest.mark.parametrize(
    ("prior_auth", "pa_needed"),
    [
        (PriorAuth.REQUIRED, "auth-needed"),
        (PriorAuth.NOT_REQUIRED, "no-auth"),
        (PriorAuth.VARIES, "conditional"),
        (PriorAuth.UNKNOWN, "indeterminate"),
    ],
)
def test_prior_auth_maps_to_crd_pa_needed(api_client, world, prior_auth, pa_needed):
    """The criterion's prior-authorization status becomes CRD `pa-needed`, with its delegate named."""
    criterion(world, prior_auth=prior_auth, prior_auth_delegate="CardioBM")
    answer = item(check(api_client))
    assert answer["pa_needed"] == pa_needed
    assert f"prior-auth-{prior_auth.replace('_', '-')}" in rules(answer)
    assert "CardioBM" in " ".join(r["text"] for r in answer["reasons"])
    if pa_needed == "conditional":
        assert answer["info_needed"] == ["OTH"]


def test_no_criterion_is_indeterminate(api_client, world):
    """Without a published criterion the answer is indeterminate, and drafts do not count."""
    criterion(world, state=WorkflowState.DRAFT)
    answer = item(check(api_client))
    assert (answer["covered"], answer["pa_needed"]) == ("indeterminate", "indeterminate")
    assert rules(answer) == ["no-criterion"]
    assert answer["criterion"] is None


def test_criterion_not_yet_in_force(api_client, world):
    """A criterion that starts after the date of service does not apply; the answer says when it starts."""
    criterion(world, effective_start=dt.date(2026, 4, 1))
    answer = item(check(api_client))
    assert answer["covered"] == "indeterminate"
    assert rules(answer) == ["criterion-not-yet-in-force"]
    assert "2026-04-01" in answer["reasons"][0]["text"]


def test_criterion_ended(api_client, world):
    """A criterion that ended before the date of service does not apply."""
    criterion(world, effective_end=dt.date(2025, 12, 31))
    answer = item(check(api_client))
    assert answer["covered"] == "indeterminate"
    assert rules(answer) == ["criterion-ended"]


def test_the_period_in_force_on_the_date_is_used(api_client, world):
    """Of two periods, the one in force on the date of service decides."""
    criterion(world, coverage_status=CoverageStatus.NOT_COVERED, effective_end=dt.date(2025, 12, 31))
    current = criterion(world, effective_start=dt.date(2026, 1, 1))
    answer = item(check(api_client))
    assert (answer["covered"], answer["criterion"]["id"]) == ("covered", current.pk)


def test_terminated_code_is_not_covered(api_client, world):
    """A code terminated before the date of service cannot be billed."""
    world.mitral.termination_date = dt.date(2025, 12, 31)
    world.mitral.save()
    criterion(world)
    answer = item(check(api_client))
    assert (answer["covered"], answer["pa_needed"], rules(answer)) == ("not-covered", None, ["code-not-valid"])


# --- Diagnoses and place of service ----------------------------------------------------------------


def test_supported_diagnosis(api_client, world):
    """An order diagnosis on the criterion's list (or under a listed category) keeps the answer."""
    c = criterion(world)
    c.diagnosis_codes.add(DiagnosisCodeFactory(code="I34", description="Nonrheumatic mitral valve disorders"))
    answer = item(check(api_client))
    assert answer["covered"] == "covered"
    assert "diagnosis-supported" in rules(answer)
    assert answer["criterion"]["diagnosis_codes"] == ["I34"]


def test_diagnosis_not_listed_is_indeterminate(api_client, world):
    """The criterion lists diagnoses, the order's is not among them, and the criterion does not say more."""
    criterion(world, coverage_status=CoverageStatus.COVERED_WITH_CRITERIA).diagnosis_codes.add(world.t82)
    answer = item(check(api_client, diagnosis_codes=["I35.0"]))
    assert answer["covered"] == "indeterminate"
    assert "diagnosis-not-listed" in rules(answer)
    assert "T82.09" in answer["reasons"][-1]["text"]


def test_diagnosis_missing_is_conditional(api_client, world):
    """The criterion lists diagnoses and the order sends none: covered only if one applies."""
    criterion(world).diagnosis_codes.add(world.i340)
    answer = item(check(api_client, diagnosis_codes=[]))
    assert (answer["covered"], answer["info_needed"]) == ("conditional", ["OTH"])
    assert "diagnosis-missing" in rules(answer)


def test_place_not_typical_is_conditional_on_location(api_client, world):
    """A place of service that is not a typical site of the code makes coverage depend on the location."""
    criterion(world)
    assert item(check(api_client))["covered"] == "covered"
    answer = item(check(api_client, place_of_service="11"))
    assert (answer["covered"], answer["info_needed"]) == ("conditional", ["location"])
    assert "place-not-typical" in rules(answer)


# --- Add-on codes ------------------------------------------------------------------------------------


def test_add_on_without_primary_is_not_covered(api_client, world):
    """93592 alone is never reported: not covered, naming the primaries."""
    criterion(world, code=world.addon)
    answer = item(check(api_client, codes=["93592"]))
    assert (answer["covered"], rules(answer)) == ("not-covered", ["add-on-without-primary"])
    assert "93590 or 93591" in answer["reasons"][0]["text"]


def test_add_on_follows_its_primary(api_client, world):
    """With 93590 on the order and no criterion of its own, 93592 is judged as 93590 is."""
    criterion(world, prior_auth=PriorAuth.REQUIRED)
    answer = item(check(api_client, codes=["93590", "93592"]), 1)
    assert (answer["covered"], answer["pa_needed"], answer["primary_code"]) == ("covered", "auth-needed", "93590")
    assert rules(answer) == ["add-on-follows-primary"]


def test_add_on_is_covered_no_better_than_its_primary(api_client, world):
    """The add-on's own criterion applies, capped by its primary's answer."""
    criterion(world, coverage_status=CoverageStatus.NOT_COVERED)
    criterion(world, code=world.addon)
    answer = item(check(api_client, codes=["93592", "93590"]), 0)
    assert (answer["code"], answer["covered"], answer["primary_code"]) == ("93592", "not-covered", "93590")
    assert "add-on-with-primary" in rules(answer)


# --- Open gaps -----------------------------------------------------------------------------------------


def test_open_coverage_gap_is_indeterminate_naming_the_gap(api_client, world):
    """An open coverage-criteria gap for the code and payer outweighs the criterion; a resolved one does not."""
    criterion(world)
    gap = FollowUpGapFactory(
        code=world.mitral, payer=world.payer, category=GapCategory.COVERAGE_CRITERIA, description="Criteria missing"
    )
    FollowUpGapFactory(code=world.mitral, payer=world.payer, category=GapCategory.PRIOR_AUTH, status=GapStatus.RESOLVED)
    FollowUpGapFactory(code=world.mitral, payer=world.other, category=GapCategory.COVERAGE_CRITERIA)
    answer = item(check(api_client))
    assert (answer["covered"], answer["pa_needed"]) == ("indeterminate", "indeterminate")
    assert "open-gap-coverage" in rules(answer)
    assert f"#{gap.pk}" in answer["reasons"][-1]["text"] and "Criteria missing" in answer["reasons"][-1]["text"]
    assert [g["id"] for g in answer["open_gaps"]] == [gap.pk]


def test_open_prior_auth_gap(api_client, world):
    """An open prior-authorization gap makes only `pa_needed` indeterminate."""
    criterion(world, prior_auth=PriorAuth.REQUIRED)
    FollowUpGapFactory(code=world.mitral, payer=world.payer, category=GapCategory.PRIOR_AUTH)
    answer = item(check(api_client))
    assert (answer["covered"], answer["pa_needed"]) == ("covered", "indeterminate")
    assert "open-gap-prior-auth" in rules(answer)


def test_open_documentation_gap(api_client, world):
    """An open documentation gap (for the payer or for every payer) makes `doc_needed` indeterminate."""
    criterion(world)
    FollowUpGapFactory(code=world.mitral, payer=None, category=GapCategory.DOCUMENTATION)
    answer = item(check(api_client))
    assert answer["doc_needed"] == ["indeterminate"]
    assert "open-gap-documentation" in rules(answer)


# --- Documentation -------------------------------------------------------------------------------------


def test_documentation_required(api_client, world):
    """Required documentation of the payer and of all payers gives doc-needed and purposes; other payers'
    and recommended-only requirements do not."""
    criterion(world, prior_auth=PriorAuth.REQUIRED)
    tee = DocumentationRequirementFactory(
        code=world.mitral, payer=world.payer, kind="imaging", text="TEE report", purpose=DocumentationPurpose.WITH_PA
    )
    approval = DocumentationRequirementFactory(
        code=world.mitral, payer=None, kind="prior_auth_approval", text="PA number", purpose="withclaim"
    )
    recommended = DocumentationRequirementFactory(code=world.mitral, payer=None, level="recommended")
    DocumentationRequirementFactory(code=world.mitral, payer=world.other, text="Not ours")
    DocumentationRequirementFactory(code=world.mitral, payer=world.payer, state=WorkflowState.DRAFT)
    answer = item(check(api_client))
    assert set(answer["doc_needed"]) == {"admin", "clinical"}
    assert set(answer["doc_purpose"]) == {"withpa", "withclaim"}
    assert {d["id"] for d in answer["documentation"]} == {tee.pk, approval.pk, recommended.pk}
    assert "documentation-required" in rules(answer)


def test_no_withpa_documentation_without_prior_auth(api_client, world):
    """When no prior authorization is needed, documentation for one is not asked for (CRD rule)."""
    criterion(world, prior_auth=PriorAuth.NOT_REQUIRED)
    DocumentationRequirementFactory(code=world.mitral, payer=world.payer, purpose=DocumentationPurpose.WITH_PA)
    answer = item(check(api_client))
    assert (answer["doc_needed"], answer["doc_purpose"]) == (["clinical"], [])
    assert "documentation-without-pa" in rules(answer)


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
def test_unknown_inputs_answer_400_naming_the_field(api_client, world, fields, field):
    """Unknown codes, payers, diagnoses, places, modifiers and bad dates answer 400 with the usual error body."""
    response = check(api_client, **fields)
    assert response.status_code == 400
    body = response.json()
    assert body["code"] == "invalid"
    assert field in body["errors"], body
    assert field in body["detail"]
    assert not CoverageAssertion.objects.exists()


def test_needs_a_token(anon_client, world):
    """Like the rest of the API, the coverage check needs credentials."""
    response = check(anon_client)
    assert response.status_code == 401
    assert response.json()["code"] == "not_authenticated"


def test_only_post(api_client, world):
    assert api_client.get(URL).status_code == 405


def test_answer_is_recorded_under_its_assertion_id(api_client, reader, world):
    """Each answer is kept with its question, the answer and the criterion versions it used."""
    c = criterion(world)
    body = check(api_client).json()
    record = CoverageAssertion.objects.get()
    assert str(record.assertion_id) == body["coverage_assertion_id"]
    assert (record.channel, record.user, record.payer, record.service_date) == ("rest", reader, world.payer, DAY)
    assert record.response == body
    assert record.request["items"][0]["code"] == "93590"
    used = {"id": c.pk, "version": c.version, "code": world.mitral.pk, "payer": world.payer.pk}
    assert record.criteria_versions == [used]
    second = check(api_client).json()
    assert second["coverage_assertion_id"] != body["coverage_assertion_id"]


def test_query_count_does_not_grow_with_the_order(api_client, world, django_assert_max_num_queries):
    """Five items with every kind of fact cost no more queries than one."""
    for code in (world.mitral, world.aortic, world.addon):
        c = criterion(world, code=code, policy=world.policy)
        c.diagnosis_codes.add(world.i340)
        DocumentationRequirementFactory(code=code, payer=world.payer, policy=world.policy)
        FollowUpGapFactory(code=code, payer=world.payer, category=GapCategory.BENCHMARK)
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
