"""The editorial workflow: which role may move which item from which state, and maker-checker."""

import pytest
from django.core.exceptions import PermissionDenied
from django.db import IntegrityError, transaction

from policyhub.choices import WorkflowState
from policyhub.revisions import start_revision
from policyhub.workflow import (
    Transition,
    WorkflowError,
    allowed_transitions,
    approve,
    retire,
    send_back,
    submit_for_review,
)
from tests.factories import CodeBriefFactory, CoverageCriterionFactory, DocumentationRequirementFactory
from tests.workflow.adminpages import admin_url, form_data, messages_of

pytestmark = pytest.mark.django_db

FACTORIES = {
    "code brief": CodeBriefFactory,
    "coverage criterion": CoverageCriterionFactory,
    "documentation requirement": DocumentationRequirementFactory,
}


@pytest.fixture(params=list(FACTORIES), ids=list(FACTORIES))
def make_item(request):
    factory = FACTORIES[request.param]

    def make(state=WorkflowState.DRAFT, **kwargs):
        return factory(state=state, **kwargs)

    return make


def reload(item):
    return type(item)._base_manager.get(pk=item.pk)


class TestServiceByRoleAndState:
    def test_full_cycle_records_who_and_when(self, make_item, editor, reviewer):
        """Draft -> in review -> published -> retired, each step stamped with its user and time."""
        item = make_item()
        submit_for_review(item=item, by=editor)
        item = reload(item)
        assert item.state == WorkflowState.IN_REVIEW
        assert item.submitted_by == editor and item.submitted_at is not None

        approve(item=item, by=reviewer)
        item = reload(item)
        assert item.state == WorkflowState.PUBLISHED
        assert item.reviewed_by == reviewer and item.reviewed_at >= item.submitted_at

        retire(item=item, by=reviewer, reason="Policy withdrawn")
        item = reload(item)
        assert item.state == WorkflowState.RETIRED
        assert item.history.first().history_change_reason == "Retired: Policy withdrawn"

    def test_editor_may_submit_but_not_approve_send_back_or_retire(self, make_item, editor, other_editor):
        item = make_item()
        assert allowed_transitions(item=item, user=editor) == [Transition.SUBMIT]
        submit_for_review(item=item, by=other_editor)
        item = reload(item)
        assert allowed_transitions(item=item, user=editor) == []
        with pytest.raises(PermissionDenied, match="Only a reviewer can approve and publish"):
            approve(item=item, by=editor)
        with pytest.raises(PermissionDenied, match="Only a reviewer can send back"):
            send_back(item=item, by=editor, comment="Fix it")
        assert reload(item).state == WorkflowState.IN_REVIEW

    def test_viewer_may_do_nothing(self, make_item, viewer):
        item = make_item()
        assert allowed_transitions(item=item, user=viewer) == []
        with pytest.raises(PermissionDenied, match="Only an editor or reviewer can submit"):
            submit_for_review(item=item, by=viewer)
        with pytest.raises(PermissionDenied):
            start_revision(item=make_item(state=WorkflowState.PUBLISHED), by=viewer)

    @pytest.mark.parametrize(
        ("state", "transition"),
        [
            (WorkflowState.DRAFT, Transition.APPROVE),
            (WorkflowState.DRAFT, Transition.RETIRE),
            (WorkflowState.DRAFT, Transition.SEND_BACK),
            (WorkflowState.IN_REVIEW, Transition.SUBMIT),
            (WorkflowState.IN_REVIEW, Transition.RETIRE),
            (WorkflowState.PUBLISHED, Transition.SUBMIT),
            (WorkflowState.PUBLISHED, Transition.APPROVE),
            (WorkflowState.RETIRED, Transition.APPROVE),
            (WorkflowState.RETIRED, Transition.SUBMIT),
        ],
    )
    def test_wrong_state_is_refused_with_the_reason(self, make_item, reviewer, state, transition):
        item = make_item(state=state)
        call = {
            Transition.SUBMIT: lambda: submit_for_review(item=item, by=reviewer),
            Transition.APPROVE: lambda: approve(item=item, by=reviewer),
            Transition.SEND_BACK: lambda: send_back(item=item, by=reviewer, comment="x"),
            Transition.RETIRE: lambda: retire(item=item, by=reviewer),
        }[transition]
        with pytest.raises(WorkflowError, match=f"is {WorkflowState(state).label.lower()}; only"):
            call()
        assert reload(item).state == state

    def test_send_back_needs_a_comment_and_keeps_it(self, make_item, editor, reviewer):
        item = make_item()
        submit_for_review(item=item, by=editor)
        with pytest.raises(WorkflowError, match="a comment is required"):
            send_back(item=reload(item), by=reviewer, comment="   ")
        send_back(item=reload(item), by=reviewer, comment="Cite the policy section.")
        item = reload(item)
        assert item.state == WorkflowState.DRAFT
        assert item.review_comment == "Cite the policy section."
        assert item.reviewed_by == reviewer

    def test_database_refuses_an_unknown_state(self, make_item):
        item = make_item()
        with pytest.raises(IntegrityError), transaction.atomic():
            type(item)._base_manager.filter(pk=item.pk).update(state="approved-ish")


class TestMakerChecker:
    def test_submitter_cannot_approve_even_as_reviewer(self, make_item, reviewer, other_reviewer):
        item = make_item()
        submit_for_review(item=item, by=reviewer)
        item = reload(item)
        assert Transition.APPROVE not in allowed_transitions(item=item, user=reviewer)
        with pytest.raises(PermissionDenied, match="another reviewer must approve it"):
            approve(item=item, by=reviewer)
        assert reload(item).state == WorkflowState.IN_REVIEW

        approve(item=item, by=other_reviewer)
        item = reload(item)
        assert item.state == WorkflowState.PUBLISHED
        assert (item.submitted_by, item.reviewed_by) == (reviewer, other_reviewer)


class TestRevisions:
    def test_editing_published_item_keeps_it_until_the_revision_is_approved(self, editor, reviewer):
        published = CodeBriefFactory(state=WorkflowState.PUBLISHED, headline="Old headline")
        revision = start_revision(item=published, by=editor, changes={"headline": "New headline"})
        assert revision.pk != published.pk and revision.state == WorkflowState.DRAFT
        assert reload(published).headline == "Old headline"
        assert reload(published).state == WorkflowState.PUBLISHED

        with pytest.raises(WorkflowError, match="already has a draft revision"):
            start_revision(item=reload(published), by=editor, changes={"headline": "Third"})

        submit_for_review(item=reload(revision), by=editor)
        result = approve(item=reload(revision), by=reviewer)
        assert result.pk == published.pk
        published = reload(published)
        assert published.headline == "New headline" and published.state == WorkflowState.PUBLISHED
        assert not type(published)._base_manager.filter(pk=revision.pk).exists()

    def test_a_revision_saved_without_a_reason_is_approved_with_the_editors_latest_reason(self, editor, reviewer):
        """A save that gave no reason (stored as NULL: any save outside the admin's form) is passed
        over; approving such a revision without a comment failed (an error instead of publishing)."""
        published = CoverageCriterionFactory(state=WorkflowState.PUBLISHED, criteria="Old criteria")
        revision = start_revision(item=published, by=editor, changes={"criteria": "New criteria"})
        with_reason = reload(revision)
        with_reason.criteria, with_reason._history_user = "Newer criteria", editor
        with_reason._change_reason = "Payer's 2025 update"
        with_reason.save()
        without = reload(revision)
        without.criteria, without._history_user = "Newest criteria", editor
        without.save()
        assert without.history.first().history_change_reason is None
        submit_for_review(item=reload(revision), by=editor)

        result = approve(item=reload(revision), by=reviewer)
        assert result.criteria == "Newest criteria" and result.state == WorkflowState.PUBLISHED
        reason = result.history.first().history_change_reason
        assert reason == f"Revision #{revision.pk} approved by {reviewer}: Payer's 2025 update"

    def test_published_item_with_pending_revision_cannot_be_retired(self, editor, reviewer):
        published = CoverageCriterionFactory(state=WorkflowState.PUBLISHED)
        start_revision(item=published, by=editor, changes={"criteria": "New criteria"})
        with pytest.raises(WorkflowError, match="approve it or delete it before retiring"):
            retire(item=reload(published), by=reviewer)


class TestAdmin:
    """The same rules through the admin: buttons on the change page and actions on the list."""

    def test_buttons_shown_match_the_role(self, editor, reviewer, login):
        item = CodeBriefFactory(state=WorkflowState.DRAFT)
        editor_page = login(editor).get(admin_url(item, "change")).content.decode()
        assert 'name="_submit_for_review"' in editor_page and 'value="approve"' not in editor_page
        submit_for_review(item=item, by=editor)
        reviewer_page = login(reviewer).get(admin_url(item, "change")).content.decode()
        assert 'value="approve"' in reviewer_page and 'value="send_back"' in reviewer_page

    def test_button_post_runs_the_transition(self, editor, reviewer, login):
        item = CoverageCriterionFactory(state=WorkflowState.DRAFT)
        response = login(editor).post(admin_url(item, "workflow"), {"transition": "submit"}, follow=True)
        assert f"Coverage criterion “{reload(item)}” was submitted for review." == messages_of(response)
        assert reload(item).state == WorkflowState.IN_REVIEW

        response = login(reviewer).post(
            admin_url(item, "workflow"), {"transition": "approve", "comment": "Matches CPB 0826"}, follow=True
        )
        assert messages_of(response).endswith("was approved and published.")
        item = reload(item)
        assert item.state == WorkflowState.PUBLISHED and item.reviewed_by == reviewer

    def test_editor_forging_an_approve_post_is_refused(self, editor, other_editor, login):
        """Hidden buttons are not the protection: the server refuses the transition."""
        item = DocumentationRequirementFactory(state=WorkflowState.DRAFT)
        submit_for_review(item=item, by=other_editor)
        response = login(editor).post(admin_url(item, "workflow"), {"transition": "approve"}, follow=True)
        assert "Only a reviewer can approve and publish" in messages_of(response)
        assert reload(item).state == WorkflowState.IN_REVIEW

    def test_viewer_has_no_admin(self, viewer, login):
        item = CodeBriefFactory(state=WorkflowState.DRAFT)
        response = login(viewer).post(admin_url(item, "workflow"), {"transition": "submit"})
        assert response.status_code == 302 and "/admin/login/" in response["Location"]
        assert reload(item).state == WorkflowState.DRAFT

    def test_maker_checker_in_the_admin(self, reviewer, login):
        item = CodeBriefFactory(state=WorkflowState.DRAFT)
        client = login(reviewer)
        client.post(admin_url(item, "workflow"), {"transition": "submit"})
        page = client.get(admin_url(item, "change")).content.decode()
        assert 'value="approve"' not in page
        assert "another reviewer must approve it" in page
        response = client.post(admin_url(item, "workflow"), {"transition": "approve"}, follow=True)
        assert "another reviewer must approve it" in messages_of(response)
        assert reload(item).state == WorkflowState.IN_REVIEW

    def test_list_action_is_all_or_nothing(self, editor, reviewer, login):
        """Approving a selection where one item is still a draft approves none of them."""
        ready = CoverageCriterionFactory(state=WorkflowState.DRAFT)
        submit_for_review(item=ready, by=editor)
        still_draft = CoverageCriterionFactory(state=WorkflowState.DRAFT)
        response = login(reviewer).post(
            admin_url(ready, "changelist"),
            {"action": "workflow_approve", "_selected_action": [ready.pk, still_draft.pk]},
            follow=True,
        )
        assert "Nothing was changed." in messages_of(response)
        assert reload(ready).state == WorkflowState.IN_REVIEW

        response = login(reviewer).post(
            admin_url(ready, "changelist"), {"action": "workflow_approve", "_selected_action": [ready.pk]}, follow=True
        )
        assert messages_of(response) == "1 coverage criterion was approved and published."
        assert reload(ready).state == WorkflowState.PUBLISHED

    def test_send_back_action_asks_for_a_comment(self, editor, reviewer, login):
        item = CodeBriefFactory(state=WorkflowState.DRAFT)
        submit_for_review(item=item, by=editor)
        client = login(reviewer)
        page = client.post(
            admin_url(item, "changelist"), {"action": "workflow_send_back", "_selected_action": [item.pk]}
        )
        assert page.status_code == 200 and "say what must change" in page.content.decode()
        assert reload(item).state == WorkflowState.IN_REVIEW
        client.post(
            admin_url(item, "changelist"),
            {"action": "workflow_send_back", "_selected_action": [item.pk], "comment": "Add the source", "post": "1"},
        )
        item = reload(item)
        assert item.state == WorkflowState.DRAFT and item.review_comment == "Add the source"

    def test_editor_cannot_see_approve_action(self, editor, login):
        item = CodeBriefFactory(state=WorkflowState.DRAFT)
        page = login(editor).get(admin_url(item, "changelist")).content.decode()
        assert "workflow_submit" in page and "workflow_approve" not in page

    def test_saving_a_published_item_creates_a_revision(self, editor, login):
        item = CodeBriefFactory(state=WorkflowState.PUBLISHED, headline="Old headline")
        client = login(editor)
        form = client.get(admin_url(item, "change"))
        response = client.post(admin_url(item, "change"), form_data(form, headline="New headline"), follow=True)
        assert "saved as a draft revision" in messages_of(response)
        assert reload(item).headline == "Old headline"
        revision = type(item).objects.get(revision_of=item)
        assert revision.headline == "New headline" and revision.state == WorkflowState.DRAFT
