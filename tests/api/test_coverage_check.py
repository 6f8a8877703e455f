"""POST /api/v1/coverage-check/: every row of the decision table in docs/coverage-check.md. The demo
payers, refused questions, the audit record and the query budget: test_coverage_check_endpoint.py."""

import datetime as dt

import pytest

from codes.choices import RelationshipKind
from payers.choices import CoverageStatus, DocumentationPurpose, GapCategory, GapStatus, PriorAuth
from policyhub.choices import WorkflowState
from tests.api.coverage_check import check, criterion, item, rules
from tests.factories import (
    BillingCodeFactory,
    CodeRelationshipFactory,
    DiagnosisCodeFactory,
    DocumentationRequirementFactory,
    FollowUpGapFactory,
    SiteOfServiceFactory,
)

pytestmark = pytest.mark.django_db


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
def test_coverage_status_maps_to_crd_covered(api_client, check_world, status, covered, rule):
    """The payer's published status becomes CRD `covered`; not-covered carries no prior-auth answer."""
    c = criterion(check_world, coverage_status=status, policy=check_world.policy)
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
def test_prior_auth_maps_to_crd_pa_needed(api_client, check_world, prior_auth, pa_needed):
    """The criterion's prior-authorization status becomes CRD `pa-needed`, with its delegate named."""
    criterion(check_world, prior_auth=prior_auth, prior_auth_delegate="CardioBM")
    answer = item(check(api_client))
    assert answer["pa_needed"] == pa_needed
    assert f"prior-auth-{prior_auth.replace('_', '-')}" in rules(answer)
    assert "CardioBM" in " ".join(r["text"] for r in answer["reasons"])
    if pa_needed == "conditional":
        assert answer["info_needed"] == ["OTH"]


def test_no_criterion_is_indeterminate(api_client, check_world):
    """Without a published criterion the answer is indeterminate, and drafts do not count."""
    criterion(check_world, state=WorkflowState.DRAFT)
    answer = item(check(api_client))
    assert (answer["covered"], answer["pa_needed"]) == ("indeterminate", "indeterminate")
    assert rules(answer) == ["no-criterion"]
    assert answer["criterion"] is None


def test_criterion_not_yet_in_force(api_client, check_world):
    """A criterion that starts after the date of service does not apply; the answer says when it starts."""
    criterion(check_world, effective_start=dt.date(2026, 4, 1))
    answer = item(check(api_client))
    assert answer["covered"] == "indeterminate"
    assert rules(answer) == ["criterion-not-yet-in-force"]
    assert "2026-04-01" in answer["reasons"][0]["text"]


def test_criterion_ended(api_client, check_world):
    """A criterion that ended before the date of service does not apply."""
    criterion(check_world, effective_end=dt.date(2025, 12, 31))
    answer = item(check(api_client))
    assert answer["covered"] == "indeterminate"
    assert rules(answer) == ["criterion-ended"]


def test_the_period_in_force_on_the_date_is_used(api_client, check_world):
    """Of two periods, the one in force on the date of service decides."""
    criterion(check_world, coverage_status=CoverageStatus.NOT_COVERED, effective_end=dt.date(2025, 12, 31))
    current = criterion(check_world, effective_start=dt.date(2026, 1, 1))
    answer = item(check(api_client))
    assert (answer["covered"], answer["criterion"]["id"]) == ("covered", current.pk)


def test_terminated_code_is_not_covered(api_client, check_world):
    """A code terminated before the date of service cannot be billed."""
    check_world.mitral.termination_date = dt.date(2025, 12, 31)
    check_world.mitral.save()
    criterion(check_world)
    answer = item(check(api_client))
    assert (answer["covered"], answer["pa_needed"], rules(answer)) == ("not-covered", None, ["code-not-valid"])


# --- Diagnoses and place of service ----------------------------------------------------------------


def test_supported_diagnosis(api_client, check_world):
    """An order diagnosis on the criterion's list (or under a listed category) keeps the answer."""
    c = criterion(check_world)
    c.diagnosis_codes.add(DiagnosisCodeFactory(code="I34", description="Nonrheumatic mitral valve disorders"))
    answer = item(check(api_client))
    assert answer["covered"] == "covered"
    assert "diagnosis-supported" in rules(answer)
    assert answer["criterion"]["diagnosis_codes"] == ["I34"]


def test_diagnosis_not_listed_is_indeterminate(api_client, check_world):
    """The criterion lists diagnoses, the order's is not among them, and the criterion does not say more."""
    criterion(check_world, coverage_status=CoverageStatus.COVERED_WITH_CRITERIA).diagnosis_codes.add(check_world.t82)
    answer = item(check(api_client, diagnosis_codes=["I35.0"]))
    assert answer["covered"] == "indeterminate"
    assert "diagnosis-not-listed" in rules(answer)
    assert "T82.09" in answer["reasons"][-1]["text"]


def test_diagnosis_missing_is_conditional(api_client, check_world):
    """The criterion lists diagnoses and the order sends none: covered only if one applies."""
    criterion(check_world).diagnosis_codes.add(check_world.i340)
    answer = item(check(api_client, diagnosis_codes=[]))
    assert (answer["covered"], answer["info_needed"]) == ("conditional", ["OTH"])
    assert "diagnosis-missing" in rules(answer)


def test_place_not_typical_is_conditional_on_location(api_client, check_world):
    """A place of service that is not a typical site of the code makes coverage depend on the location."""
    criterion(check_world)
    assert item(check(api_client))["covered"] == "covered"
    answer = item(check(api_client, place_of_service="11"))
    assert (answer["covered"], answer["info_needed"]) == ("conditional", ["location"])
    assert "place-not-typical" in rules(answer)


def test_draft_sites_and_add_on_links_do_not_count(api_client, check_world):
    """The check reads published catalogue facts only: a draft typical site of the office does not make
    the office typical, and a draft add-on link to 93590 is no primary until a reviewer approves it."""
    w = check_world
    criterion(w)
    SiteOfServiceFactory(code=w.mitral, place_of_service=w.office, state=WorkflowState.DRAFT)
    assert "place-not-typical" in rules(item(check(api_client, place_of_service="11")))
    lone = BillingCodeFactory(code="93593", short_descriptor="Another add-on", is_add_on=True)
    CodeRelationshipFactory(
        from_code=lone, to_code=w.mitral, kind=RelationshipKind.ADD_ON_TO, state=WorkflowState.DRAFT
    )
    answer = item(check(api_client, codes=["93590", "93593"]), 1)
    assert answer.get("primary_code") is None


# --- Add-on codes ------------------------------------------------------------------------------------


def test_add_on_without_primary_is_not_covered(api_client, check_world):
    """93592 alone is never reported: not covered, naming the primaries."""
    criterion(check_world, code=check_world.addon)
    answer = item(check(api_client, codes=["93592"]))
    assert (answer["covered"], rules(answer)) == ("not-covered", ["add-on-without-primary"])
    assert "93590 or 93591" in answer["reasons"][0]["text"]


def test_add_on_follows_its_primary(api_client, check_world):
    """With 93590 on the order and no criterion of its own, 93592 is judged as 93590 is."""
    criterion(check_world, prior_auth=PriorAuth.REQUIRED)
    answer = item(check(api_client, codes=["93590", "93592"]), 1)
    assert (answer["covered"], answer["pa_needed"], answer["primary_code"]) == ("covered", "auth-needed", "93590")
    assert rules(answer) == ["add-on-follows-primary"]


def test_add_on_is_covered_no_better_than_its_primary(api_client, check_world):
    """The add-on's own criterion applies, capped by its primary's answer."""
    criterion(check_world, coverage_status=CoverageStatus.NOT_COVERED)
    criterion(check_world, code=check_world.addon)
    answer = item(check(api_client, codes=["93592", "93590"]), 0)
    assert (answer["code"], answer["covered"], answer["primary_code"]) == ("93592", "not-covered", "93590")
    assert "add-on-with-primary" in rules(answer)


# --- Open gaps -----------------------------------------------------------------------------------------


def test_open_coverage_gap_is_indeterminate_naming_the_gap(api_client, check_world):
    """An open coverage-criteria gap for the code and payer outweighs the criterion; a resolved one does not."""
    criterion(check_world)
    gap = FollowUpGapFactory(
        code=check_world.mitral,
        payer=check_world.payer,
        category=GapCategory.COVERAGE_CRITERIA,
        description="Criteria missing",
    )
    FollowUpGapFactory(
        code=check_world.mitral, payer=check_world.payer, category=GapCategory.PRIOR_AUTH, status=GapStatus.RESOLVED
    )
    FollowUpGapFactory(code=check_world.mitral, payer=check_world.other, category=GapCategory.COVERAGE_CRITERIA)
    answer = item(check(api_client))
    assert (answer["covered"], answer["pa_needed"]) == ("indeterminate", "indeterminate")
    assert "open-gap-coverage" in rules(answer)
    assert f"#{gap.pk}" in answer["reasons"][-1]["text"] and "Criteria missing" in answer["reasons"][-1]["text"]
    assert [g["id"] for g in answer["open_gaps"]] == [gap.pk]


def test_open_prior_auth_gap(api_client, check_world):
    """An open prior-authorization gap makes only `pa_needed` indeterminate."""
    criterion(check_world, prior_auth=PriorAuth.REQUIRED)
    FollowUpGapFactory(code=check_world.mitral, payer=check_world.payer, category=GapCategory.PRIOR_AUTH)
    answer = item(check(api_client))
    assert (answer["covered"], answer["pa_needed"]) == ("covered", "indeterminate")
    assert "open-gap-prior-auth" in rules(answer)


def test_open_documentation_gap(api_client, check_world):
    """An open documentation gap (for the payer or for every payer) makes `doc_needed` indeterminate."""
    criterion(check_world)
    FollowUpGapFactory(code=check_world.mitral, payer=None, category=GapCategory.DOCUMENTATION)
    answer = item(check(api_client))
    assert answer["doc_needed"] == ["indeterminate"]
    assert "open-gap-documentation" in rules(answer)


# --- Documentation -------------------------------------------------------------------------------------


def test_documentation_required(api_client, check_world):
    """Required documentation of the payer and of all payers gives doc-needed and purposes; other payers'
    and recommended-only requirements do not."""
    criterion(check_world, prior_auth=PriorAuth.REQUIRED)
    tee = DocumentationRequirementFactory(
        code=check_world.mitral,
        payer=check_world.payer,
        kind="imaging",
        text="TEE report",
        purpose=DocumentationPurpose.WITH_PA,
    )
    approval = DocumentationRequirementFactory(
        code=check_world.mitral, payer=None, kind="prior_auth_approval", text="PA number", purpose="withclaim"
    )
    recommended = DocumentationRequirementFactory(code=check_world.mitral, payer=None, level="recommended")
    DocumentationRequirementFactory(code=check_world.mitral, payer=check_world.other, text="Not ours")
    DocumentationRequirementFactory(code=check_world.mitral, payer=check_world.payer, state=WorkflowState.DRAFT)
    answer = item(check(api_client))
    assert set(answer["doc_needed"]) == {"admin", "clinical"}
    assert set(answer["doc_purpose"]) == {"withpa", "withclaim"}
    assert {d["id"] for d in answer["documentation"]} == {tee.pk, approval.pk, recommended.pk}
    assert "documentation-required" in rules(answer)


def test_no_withpa_documentation_without_prior_auth(api_client, check_world):
    """When no prior authorization is needed, documentation for one is not asked for (CRD rule)."""
    criterion(check_world, prior_auth=PriorAuth.NOT_REQUIRED)
    DocumentationRequirementFactory(
        code=check_world.mitral, payer=check_world.payer, purpose=DocumentationPurpose.WITH_PA
    )
    answer = item(check(api_client))
    assert (answer["doc_needed"], answer["doc_purpose"]) == (["clinical"], [])
    assert "documentation-without-pa" in rules(answer)
