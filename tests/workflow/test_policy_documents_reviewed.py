"""Payer policy documents are reviewed content: readers see a document's number, title and dates beside
every criterion that cites it, so a new document or an edit of one reaches pages and the API only
after a reviewer approves it — with the change set of a code whose criteria cite it, or on its own."""

import pytest
from django.urls import reverse

from briefs.change_sets import approve_change_set, change_set, reviewed_alone, submit_change_set
from payers.models import CoverageCriterion, PolicyDocument
from payers.resources import PolicyWidget
from policyhub.choices import WorkflowState
from policyhub.revisions import start_revision
from policyhub.workflow import WorkflowError, approve, retire, submit_for_review
from tests.factories import (
    BillingCodeFactory,
    CodeBriefFactory,
    CoverageCriterionFactory,
    PayerFactory,
    PolicyDocumentFactory,
)
from tests.migrations import upgraded_from
from tests.workflow.adminpages import admin_url, form_data, messages_of, page_errors

pytestmark = pytest.mark.django_db


@pytest.fixture
def payer(db):
    return PayerFactory(name="Aetna", slug="aetna")


@pytest.fixture
def code(db):
    code = BillingCodeFactory(code="33361", short_descriptor="TAVR, femoral")
    CodeBriefFactory(code=code)
    return code


def policy_numbers(api) -> list[str]:
    return [row["number"] for row in api.get("/api/v1/payer-policies/").json()["results"]]


def add_policy_in_the_admin(client, payer, **fields) -> PolicyDocument:
    data = {"payer": payer.pk, "document_type": "policy", "number": "CPB 0826", "title": "TAVR", **fields}
    response = client.post(admin_url(PolicyDocument, "add"), data)
    assert response.status_code == 302, page_errors(response)
    return PolicyDocument._base_manager.get(number=data["number"])


def test_a_new_policy_is_a_draft_that_readers_and_the_api_do_not_see(payer, editor, viewer, login, api):
    policy = add_policy_in_the_admin(login(editor), payer)
    assert policy.state == WorkflowState.DRAFT
    assert "CPB 0826" not in login(viewer).get("/payers/aetna/").content.decode()
    assert policy_numbers(api) == []


def test_a_draft_policy_cited_by_a_criterion_is_published_with_the_codes_change_set(
    code, payer, editor, reviewer, viewer, login, api
):
    policy = add_policy_in_the_admin(login(editor), payer)
    CoverageCriterionFactory(code=code, payer=payer, policy=policy, state=WorkflowState.DRAFT, criteria="Severe AS")
    assert change_set(code).counts == {"coverage criterion": 1, "payer policy document": 1}

    submit_change_set(code=code, by=editor)
    assert PolicyDocument._base_manager.get(pk=policy.pk).state == WorkflowState.IN_REVIEW
    assert reviewed_alone() == [], "a cited document is reviewed within the change set, not on its own"
    approve_change_set(code=code, by=reviewer)

    assert PolicyDocument.objects.get(pk=policy.pk).state == WorkflowState.PUBLISHED
    assert policy_numbers(api) == ["CPB 0826"]
    brief = api.get("/api/v1/codes/33361/").json()
    assert [c["policy"]["number"] for c in brief["coverage"]] == ["CPB 0826"]
    assert "CPB 0826" in login(viewer).get("/payers/aetna/").content.decode()


def test_a_criterion_is_not_approved_while_the_policy_it_cites_is_unpublished(code, payer, editor, reviewer):
    policy = PolicyDocumentFactory(payer=payer, number="CPB 0826", state=WorkflowState.DRAFT)
    criterion = CoverageCriterionFactory(code=code, payer=payer, policy=policy, state=WorkflowState.DRAFT)
    submit_for_review(item=criterion, by=editor)
    with pytest.raises(WorkflowError, match="cites the draft payer policy document"):
        approve(item=criterion, by=reviewer)
    assert CoverageCriterion._base_manager.get(pk=criterion.pk).state == WorkflowState.IN_REVIEW


def test_editing_a_published_policy_is_a_revision_approved_from_the_queue(
    code, payer, editor, reviewer, viewer, login, api
):
    policy = PolicyDocumentFactory(payer=payer, number="CPB 0826", title="Old title")
    CoverageCriterionFactory(code=code, payer=payer, policy=policy)
    page = login(editor).get(admin_url(policy, "change"))
    response = login(editor).post(admin_url(policy, "change"), form_data(page, title="New title"))
    assert response.status_code == 302, page_errors(response)

    revision = PolicyDocument._base_manager.get(revision_of=policy)
    assert PolicyDocument.objects.get(pk=policy.pk).title == "Old title"
    assert api.get("/api/v1/codes/33361/").json()["coverage"][0]["policy"]["title"] == "Old title"
    submit_for_review(item=revision, by=editor)
    queue = login(reviewer).get("/admin/").content.decode()
    assert 'id="reviewed-alone"' in queue and admin_url(revision, "change") in queue
    assert "Revision of the published row: Title" in queue, "the queue says which fields the revision changes"

    workflow = reverse("admin:payers_policydocument_workflow", args=[revision.pk])
    response = login(reviewer).post(workflow, {"transition": "approve"}, follow=True)
    assert "approved and published" in messages_of(response)
    # The document keeps its id, so every criterion citing it now shows the new title.
    assert api.get("/api/v1/codes/33361/").json()["coverage"][0]["policy"]["title"] == "New title"
    assert not PolicyDocument._base_manager.filter(revision_of=policy).exists()


def test_a_policy_cited_by_published_criteria_cannot_be_retired(code, payer, reviewer):
    policy = PolicyDocumentFactory(payer=payer, number="CPB 0826")
    CoverageCriterionFactory(code=code, payer=payer, policy=policy)
    with pytest.raises(WorkflowError, match="is used by the published coverage criterion"):
        retire(item=policy, by=reviewer)
    assert PolicyDocument.objects.get(pk=policy.pk).state == WorkflowState.PUBLISHED


def test_a_spreadsheet_row_cites_the_policy_not_its_pending_revision(payer, editor):
    policy = PolicyDocumentFactory(payer=payer, number="CPB 0826")
    start_revision(item=policy, by=editor, changes={"title": "Retitled"})
    assert PolicyWidget().clean("CPB 0826", row={"payer": "aetna"}) == policy


@pytest.mark.django_db(transaction=True)
def test_policies_curated_before_review_stay_published_after_the_migration():
    with upgraded_from("payers", "0011_i13_benchmarks_reviewed") as old:
        payer = old.get_model("payers", "Payer").objects.create(name="Aetna", slug="aetna", kind="commercial")
        old.get_model("payers", "PolicyDocument").objects.create(payer=payer, number="CPB 0826", title="TAVR")
    assert list(PolicyDocument.objects.values_list("state", flat=True)) == [WorkflowState.PUBLISHED]
    assert PolicyDocument.objects.create(payer_id=payer.pk, number="CPB 0827", title="New").state == "draft"
