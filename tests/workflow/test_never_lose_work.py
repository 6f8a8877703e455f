"""Never lose work, never answer 500: adding a brief a code already has, submitting a form with unsaved
edits, approving one's own work."""

import pytest

from codes.models import CodeBrief
from policyhub.choices import WorkflowState
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
