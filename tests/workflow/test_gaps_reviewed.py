"""Follow-up gaps are reviewed content: readers see a code's open gaps in its brief, on the worklist and
in the API, so a gap an editor opens or works (assigns, resolves) reaches them only after a reviewer
approves it — with the change set of its code, or on its own page for a gap about a policy alone.
Gaps that detection opens and resolves restate published data and are published as written."""

from datetime import date

import pytest
from django.db import IntegrityError, transaction
from django.urls import reverse

from briefs.change_sets import approve_change_set, change_set, reviewed_alone, submit_change_set
from payers.choices import GapCategory, GapStatus
from payers.models import FollowUpGap
from payers.services import detect_gaps
from policyhub.choices import WorkflowState
from policyhub.revisions import start_revision
from policyhub.workflow import WorkflowError, approve, retire, submit_for_review
from tests.factories import (
    BillingCodeFactory,
    CodeBriefFactory,
    CoverageCriterionFactory,
    FollowUpGapFactory,
    PayerFactory,
    PolicyDocumentFactory,
)
from tests.migrations import upgraded_from
from tests.workflow.adminpages import admin_url, form_data, messages_of, page_errors

pytestmark = pytest.mark.django_db

TODAY = date(2026, 11, 23)


@pytest.fixture
def code(db):
    code = BillingCodeFactory(code="33361", short_descriptor="TAVR, femoral")
    CodeBriefFactory(code=code, state=WorkflowState.PUBLISHED)
    return code


def api_gaps(api) -> list[str]:
    return [row["description"] for row in api.get("/api/v1/gaps/?status=open&status=in_progress").json()["results"]]


def brief_gaps(api) -> list[str]:
    return [row["description"] for row in api.get("/api/v1/codes/33361/").json()["open_gaps"]]


def add_gap_in_the_admin(client, code, description) -> FollowUpGap:
    data = {"code": code.pk, "category": GapCategory.PRIOR_AUTH, "description": description, "status": "open"}
    response = client.post(admin_url(FollowUpGap, "add"), {**data, "priority": 2})
    assert response.status_code == 302, page_errors(response)
    return FollowUpGap._base_manager.get(description=description)


def test_a_gap_an_editor_opens_is_published_with_the_codes_change_set(code, editor, reviewer, viewer, login, api):
    gap = add_gap_in_the_admin(login(editor), code, "Ask Aetna whether 33361 needs a heart-team note")
    assert gap.state == WorkflowState.DRAFT
    readers = login(viewer)
    assert "heart-team note" not in readers.get("/gaps/").content.decode()
    assert "heart-team note" not in readers.get("/codes/33361/").content.decode()
    assert readers.get(reverse("gap-detail", args=[gap.pk])).status_code == 404
    assert api_gaps(api) == [] and brief_gaps(api) == []
    assert change_set(code).counts == {"follow-up gap": 1}

    submit_change_set(code=code, by=editor)
    approve_change_set(code=code, by=reviewer)

    assert FollowUpGap.objects.get(pk=gap.pk).state == WorkflowState.PUBLISHED
    assert api_gaps(api) == brief_gaps(api) == ["Ask Aetna whether 33361 needs a heart-team note"]
    assert "heart-team note" in readers.get("/gaps/").content.decode()


def test_resolving_a_published_gap_is_a_revision_readers_see_once_approved(code, editor, reviewer, login, api):
    gap = FollowUpGapFactory(code=code, description="Find the LCD for 33361", status=GapStatus.OPEN)
    opened_at = FollowUpGap.objects.get(pk=gap.pk).opened_at
    page = login(editor).get(admin_url(gap, "change"))
    changes = {"status": GapStatus.RESOLVED, "resolution_note": "L36668 applies"}
    response = login(editor).post(admin_url(gap, "change"), form_data(page, **changes))
    assert response.status_code == 302, page_errors(response)

    revision = FollowUpGap._base_manager.get(revision_of=gap)
    assert FollowUpGap.objects.get(pk=gap.pk).status == GapStatus.OPEN
    assert api_gaps(api) == ["Find the LCD for 33361"], "readers keep the open gap until the resolution is approved"
    assert [str(change) for change in change_set(code).changes[0].fields][:2] == [
        "Status: Open → Resolved",
        "Resolution note: (empty) → L36668 applies",
    ]

    submit_for_review(item=revision, by=editor)
    approve(item=FollowUpGap._base_manager.get(pk=revision.pk), by=reviewer)
    resolved = FollowUpGap.objects.get(pk=gap.pk)
    assert (resolved.status, resolved.resolution_note) == (GapStatus.RESOLVED, "L36668 applies")
    assert resolved.resolved_at is not None and resolved.opened_at == opened_at
    assert api_gaps(api) == []


def test_detected_gaps_are_published_and_ignore_an_editors_pending_revision(code, editor, reviewer):
    payer = PayerFactory(name="Aetna", slug="aetna", is_tracked=True)
    detect_gaps(today=TODAY, code_ids=[code.pk])
    detected = FollowUpGap.objects.get(code=code, rule="coverage_missing")
    assert detected.state == WorkflowState.PUBLISHED, "readers see what detection found without review"

    revision = start_revision(item=detected, by=editor, changes={"status": GapStatus.IN_PROGRESS})
    report = detect_gaps(today=TODAY, code_ids=[code.pk])
    assert report.opened["coverage_missing"] == 0, "the revision repeats the rule and subject; it is no new gap"
    assert FollowUpGap._base_manager.filter(code=code, rule="coverage_missing").count() == 2

    # A second open detected gap for the same rule and subject is still refused by the database.
    with pytest.raises(IntegrityError), transaction.atomic():
        FollowUpGapFactory(code=code, payer=payer, rule="coverage_missing", category=detected.category)

    # The coverage arrives: detection resolves the published gap and leaves the editor's draft alone,
    # which then cannot overwrite the resolution.
    CoverageCriterionFactory(code=code, payer=payer, state=WorkflowState.PUBLISHED)
    assert detect_gaps(today=TODAY, code_ids=[code.pk]).resolved["coverage_missing"] == 1
    assert FollowUpGap.objects.get(pk=detected.pk).status == GapStatus.RESOLVED
    draft = FollowUpGap._base_manager.get(pk=revision.pk)
    assert (draft.state, draft.status) == (WorkflowState.DRAFT, GapStatus.IN_PROGRESS)
    submit_for_review(item=draft, by=editor)
    with pytest.raises(WorkflowError, match="changed after revision"):
        approve(item=FollowUpGap._base_manager.get(pk=revision.pk), by=reviewer)


def test_a_retired_detected_gap_is_opened_again_while_its_cause_remains(code, reviewer):
    PayerFactory(name="Aetna", slug="aetna", is_tracked=True)
    detect_gaps(today=TODAY, code_ids=[code.pk])
    detected = FollowUpGap.objects.get(code=code, rule="coverage_missing")
    retire(item=detected, by=reviewer, reason="Opened in error")
    assert detect_gaps(today=TODAY, code_ids=[code.pk]).opened["coverage_missing"] == 1
    assert FollowUpGap.objects.published().filter(code=code, rule="coverage_missing").count() == 1


def test_a_draft_manual_gap_does_not_hold_back_detection(code):
    payer = PayerFactory(name="Aetna", slug="aetna", is_tracked=True)
    FollowUpGapFactory(code=code, payer=payer, category=GapCategory.COVERAGE_CRITERIA, state=WorkflowState.DRAFT)
    detect_gaps(today=TODAY, code_ids=[code.pk])
    assert FollowUpGap.objects.published().filter(code=code, rule="coverage_missing").exists()


def test_a_gap_about_a_policy_alone_is_approved_from_the_queue(editor, reviewer, login, api):
    policy = PolicyDocumentFactory(payer=PayerFactory(name="Aetna", slug="aetna"), number="CPB 0826")
    gap = FollowUpGapFactory(
        code=None, policy=policy, description="Has CPB 0826 been reviewed this year?", state=WorkflowState.DRAFT
    )
    submit_for_review(item=gap, by=editor)
    assert [change.item.pk for change in reviewed_alone()] == [gap.pk]
    queue = login(reviewer).get("/admin/").content.decode()
    assert 'id="reviewed-alone"' in queue and admin_url(gap, "change") in queue

    workflow = reverse("admin:payers_followupgap_workflow", args=[gap.pk])
    response = login(reviewer).post(workflow, {"transition": "approve"}, follow=True)
    assert "approved and published" in messages_of(response)
    assert api_gaps(api) == ["Has CPB 0826 been reviewed this year?"]
    assert reviewed_alone() == []


@pytest.mark.django_db(transaction=True)
def test_gaps_recorded_before_review_stay_published_after_the_migration():
    with upgraded_from("payers", "0012_i13_policy_documents_reviewed") as old:
        code = old.get_model("codes", "BillingCode").objects.create(code="33361", system="CPT")
        old.get_model("payers", "FollowUpGap").objects.create(code=code, category="other", description="Chase it")
    assert list(FollowUpGap.objects.values_list("state", flat=True)) == [WorkflowState.PUBLISHED]
    assert FollowUpGap.objects.create(code_id=code.pk, category="other", description="New").state == "draft"


def test_the_editors_preview_shows_pending_gaps_in_place(code, editor, viewer, login):
    resolved = FollowUpGapFactory(code=code, description="Find the LCD for 33361")
    start_revision(item=resolved, by=editor, changes={"status": GapStatus.RESOLVED, "resolution_note": "L36668"})
    FollowUpGapFactory(code=code, description="Ask about the heart-team note", state=WorkflowState.DRAFT)

    preview = login(editor).get("/codes/33361/").content.decode()
    assert "Ask about the heart-team note" in preview and "Pending: draft" in preview
    assert "Find the LCD for 33361" not in preview, "the pending resolution takes the gap off, as approval will"
    published = login(viewer).get("/codes/33361/").content.decode()
    assert "Find the LCD for 33361" in published and "heart-team note" not in published
