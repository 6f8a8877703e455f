"""Never lose work, never answer 500: adding a brief a code already has, submitting a form with unsaved
edits, approving one's own work."""

import pytest
from django.core.exceptions import PermissionDenied

from codes.models import CodeBrief
from policyhub.choices import WorkflowState
from policyhub.revisions import start_revision
from policyhub.workflow import Transition, allowed_transitions, approve, send_back, submit_for_review
from tests.factories import BillingCodeFactory, CodeBriefFactory
from tests.workflow.adminpages import admin_url, form_data, messages_of, page_errors

pytestmark = pytest.mark.django_db


class TestAddingABriefACodeHas:
    def test_saving_a_second_brief_is_a_form_error_with_a_link_not_a_500(self, editor, login):
        brief = CodeBriefFactory(state=WorkflowState.PUBLISHED, headline="In force")
        client = login(editor)
        page = client.get(admin_url(CodeBrief, "add"))
        response = client.post(
            admin_url(CodeBrief, "add"), form_data(page, code=str(brief.code_id), headline="My new headline")
        )
        errors = page_errors(response)
        assert f"{brief.code.code} already has a brief" in errors
        assert admin_url(brief, "change") in response.content.decode()
        # The editor's entry stays on the page.
        assert response.context["adminform"].form["headline"].value() == "My new headline"
        assert CodeBrief.objects.filter(code=brief.code).count() == 1

    def test_add_for_a_code_with_a_brief_opens_that_brief(self, editor, login):
        brief = CodeBriefFactory(state=WorkflowState.DRAFT)
        response = login(editor).get(admin_url(CodeBrief, "add") + f"?code={brief.code_id}", follow=True)
        assert response.redirect_chain[-1][0] == admin_url(brief, "change")
        assert "already has a brief; it is opened here" in messages_of(response)

    def test_add_for_a_code_with_an_open_revision_opens_the_revision(self, editor, login):
        brief = CodeBriefFactory(state=WorkflowState.PUBLISHED)
        revision = CodeBriefFactory(code=brief.code, state=WorkflowState.DRAFT, revision_of=brief)
        response = login(editor).get(admin_url(CodeBrief, "add") + f"?code={brief.code_id}")
        assert response.status_code == 302
        assert response["Location"] == admin_url(revision, "change")

    def test_add_for_a_code_without_a_brief_still_works(self, editor, login):
        code = BillingCodeFactory()
        client = login(editor)
        page = client.get(admin_url(CodeBrief, "add") + f"?code={code.pk}")
        assert page.status_code == 200
        response = client.post(admin_url(CodeBrief, "add"), form_data(page, code=str(code.pk), headline="New"))
        assert response.status_code == 302, page_errors(response)
        assert CodeBrief.objects.get(code=code).headline == "New"


class TestSubmitSavesFirst:
    def test_submitting_a_draft_saves_the_edits_on_the_page_first(self, editor, login):
        brief = CodeBriefFactory(state=WorkflowState.DRAFT, headline="Old")
        client = login(editor)
        page = client.get(admin_url(brief, "change"))
        assert 'value="submit"' not in page.content.decode(), "the panel must not submit past unsaved edits"
        response = client.post(
            admin_url(brief, "change"), form_data(page, headline="Edited", _submit_for_review="1"), follow=True
        )
        assert "saved and submitted for review" in messages_of(response)
        brief.refresh_from_db()
        assert (brief.headline, brief.state, brief.submitted_by) == ("Edited", WorkflowState.IN_REVIEW, editor)

    def test_submitting_an_edit_of_published_content_submits_its_new_revision(self, editor, login):
        brief = CodeBriefFactory(state=WorkflowState.PUBLISHED, headline="In force")
        client = login(editor)
        page = client.get(admin_url(brief, "change"))
        client.post(admin_url(brief, "change"), form_data(page, headline="Proposed", _submit_for_review="1"))
        revision = CodeBrief.objects.get(revision_of=brief)
        assert (revision.headline, revision.state) == ("Proposed", WorkflowState.IN_REVIEW)
        assert CodeBrief.objects.get(pk=brief.pk).headline == "In force"

    def test_a_new_brief_can_be_added_and_submitted_at_once(self, editor, login):
        code = BillingCodeFactory()
        client = login(editor)
        page = client.get(admin_url(CodeBrief, "add"))
        response = client.post(
            admin_url(CodeBrief, "add"), form_data(page, code=str(code.pk), headline="New", _submit_for_review="1")
        )
        assert response.status_code == 302, page_errors(response)
        assert CodeBrief.objects.get(code=code).state == WorkflowState.IN_REVIEW


class TestMakerChecker:
    def test_a_reviewer_who_wrote_a_revision_cannot_approve_it_after_an_editor_submits_it(
        self, editor, reviewer, other_reviewer
    ):
        published = CodeBriefFactory(state=WorkflowState.PUBLISHED, headline="In force")
        revision = start_revision(item=published, by=reviewer, changes={"headline": "Reviewer's own wording"})
        submit_for_review(item=revision, by=editor)
        assert Transition.APPROVE not in allowed_transitions(item=revision, user=reviewer)
        with pytest.raises(PermissionDenied, match="You wrote part of"):
            approve(item=revision, by=reviewer)
        approve(item=revision, by=other_reviewer)
        assert CodeBrief.objects.get(pk=published.pk).headline == "Reviewer's own wording"

    def test_a_reviewer_who_edited_a_draft_in_the_admin_cannot_approve_it(
        self, editor, reviewer, other_reviewer, login
    ):
        brief = CodeBriefFactory(state=WorkflowState.DRAFT, headline="Editor's")
        client = login(reviewer)
        client.post(admin_url(brief, "change"), form_data(client.get(admin_url(brief, "change")), headline="Mine"))
        brief.refresh_from_db()
        submit_for_review(item=brief, by=editor)
        response = client.post(admin_url(brief, "workflow"), {"transition": "approve"}, follow=True)
        assert "You wrote part of" in messages_of(response)
        brief.refresh_from_db()
        assert brief.state == WorkflowState.IN_REVIEW

    def test_sending_back_is_not_authoring(self, editor, reviewer):
        """The reviewer who sent a draft back may approve it once the editor has fixed it."""
        brief = CodeBriefFactory(state=WorkflowState.DRAFT)
        brief.history.update(history_user=editor)
        submit_for_review(item=brief, by=editor)
        send_back(item=brief, by=reviewer, comment="Add the source")
        submit_for_review(item=CodeBrief.objects.get(pk=brief.pk), by=editor)
        approve(item=CodeBrief.objects.get(pk=brief.pk), by=reviewer)
        assert CodeBrief.objects.get(pk=brief.pk).state == WorkflowState.PUBLISHED
