"""Change sets: a code's pending brief, criteria and documentation are submitted once, reviewed once with a
field-by-field diff, and published together in one transaction."""

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from briefs.change_sets import (
    approve_change_set,
    change_set,
    review_queue,
    send_back_change_set,
    submit_change_set,
)
from codes.models import CodeBrief
from payers.models import CoverageCriterion, DocumentationRequirement
from policyhub.choices import WorkflowState
from policyhub.revisions import start_revision
from policyhub.workflow import WorkflowError
from tests.factories import (
    BillingCodeFactory,
    CodeBriefFactory,
    CoverageCriterionFactory,
    DiagnosisCodeFactory,
    DocumentationRequirementFactory,
    PayerFactory,
)
from tests.workflow.adminpages import messages_of

pytestmark = pytest.mark.django_db


@pytest.fixture
def pending_brief(editor):
    """CPT 33361 with a published brief being revised, a new criterion for two payers and a new requirement."""
    code = BillingCodeFactory(code="33361")
    brief = CodeBriefFactory(code=code, state=WorkflowState.PUBLISHED, headline="TAVR, old headline")
    revision = start_revision(item=brief, by=editor, changes={"headline": "TAVR, new headline"})
    for name in ("Aetna", "Cigna"):
        criterion = CoverageCriterionFactory(code=code, payer=PayerFactory(name=name), state=WorkflowState.DRAFT)
        criterion.diagnosis_codes.add(DiagnosisCodeFactory(code="I350"))
        criterion.history.update(history_user=editor)
    DocumentationRequirementFactory(code=code, state=WorkflowState.DRAFT).history.update(history_user=editor)
    return code, brief, revision


def test_the_change_set_lists_every_pending_part_with_its_field_changes(pending_brief):
    code, _brief, _revision = pending_brief
    pending = change_set(code)
    assert pending.counts == {"code brief": 1, "coverage criterion": 2, "documentation requirement": 1}
    headline = next(change for change in pending.changes if change.kind == "code brief").fields
    assert [(f.field, f.old, f.new) for f in headline] == [("Headline", "TAVR, old headline", "TAVR, new headline")]
    criterion = next(change for change in pending.changes if change.kind == "coverage criterion")
    assert criterion.is_new
    fields = [(f.field, f.old, f.new) for f in criterion.fields]
    assert ("Supporting diagnosis codes", "", "I35.0") in [(name, old, new.split(" ")[0]) for name, old, new in fields]


def test_submitted_once_approved_once_published_together(pending_brief, editor, reviewer):
    code, brief, _revision = pending_brief
    submit_change_set(code=code, by=editor)
    queue = review_queue()
    assert [s.code for s in queue] == [code] and queue[0].submitters == [editor.username]

    published = approve_change_set(code=code, by=reviewer)
    assert len(published) == 4
    assert CodeBrief.objects.get(pk=brief.pk).headline == "TAVR, new headline"
    assert set(CoverageCriterion.objects.filter(code=code).values_list("state", flat=True)) == {"published"}
    assert DocumentationRequirement.objects.get(code=code).state == WorkflowState.PUBLISHED
    assert change_set(code).changes == [] and review_queue() == []


def test_approval_is_all_or_nothing(pending_brief, editor, reviewer):
    """The last row failing validation leaves every row, the brief's revision included, in review."""
    code, brief, _revision = pending_brief
    submit_change_set(code=code, by=editor)
    DocumentationRequirement.objects.filter(code=code).update(text="")
    with pytest.raises(ValidationError):
        approve_change_set(code=code, by=reviewer)
    assert CodeBrief.objects.get(pk=brief.pk).headline == "TAVR, old headline"
    assert set(CoverageCriterion.objects.filter(code=code).values_list("state", flat=True)) == {"in_review"}


def test_nobody_who_wrote_any_part_may_approve(pending_brief, editor, reviewer, other_reviewer):
    code, brief, _revision = pending_brief
    criterion = CoverageCriterion.objects.filter(code=code).first()
    criterion.criteria = "Reviewer's own wording"
    criterion._history_user = reviewer
    criterion.save()
    submit_change_set(code=code, by=editor)
    with pytest.raises(PermissionDenied, match="another reviewer must approve it"):
        approve_change_set(code=code, by=reviewer)
    approve_change_set(code=code, by=other_reviewer)


def test_a_change_set_with_drafts_left_cannot_be_approved(pending_brief, editor, other_reviewer):
    code, _brief, revision = pending_brief
    submit_change_set(code=code, by=editor)
    CoverageCriterionFactory(code=code, state=WorkflowState.DRAFT)
    with pytest.raises(WorkflowError, match="still has 1 draft"):
        approve_change_set(code=code, by=other_reviewer)


def test_sent_back_as_a_whole_with_the_comment(pending_brief, editor, reviewer):
    code, _brief, _revision = pending_brief
    submit_change_set(code=code, by=editor)
    pending = send_back_change_set(code=code, by=reviewer, comment="Cite Cigna's policy")
    assert pending.state == WorkflowState.DRAFT and pending.review_comment == "Cite Cigna's policy"
    assert review_queue() == []


class TestReviewPages:
    def test_editor_submits_once_and_reviewer_approves_from_the_queue(self, pending_brief, editor, reviewer, login):
        code, brief, _revision = pending_brief
        editor_client = login(editor)
        index = editor_client.get("/admin/").content.decode()
        assert "Your drafts" in index and "/admin/review/33361/" in index

        response = editor_client.post("/admin/review/33361/transition/", {"action": "submit"}, follow=True)
        assert "was submitted for review" in messages_of(response)

        reviewer_client = login(reviewer)
        index = reviewer_client.get("/admin/").content.decode()
        assert "/admin/review/33361/" in index
        assert "1 code brief, 2 coverage criteria, 1 documentation requirement" in index
        diff = reviewer_client.get("/admin/review/33361/").content.decode()
        assert "TAVR, old headline" in diff and "TAVR, new headline" in diff and 'value="approve"' in diff

        response = reviewer_client.post("/admin/review/33361/transition/", {"action": "approve"}, follow=True)
        assert "was approved and published" in messages_of(response)
        assert CodeBrief.objects.get(pk=brief.pk).headline == "TAVR, new headline"

    def test_the_author_sees_why_they_cannot_approve(self, pending_brief, editor, reviewer, login):
        code, _brief, _revision = pending_brief
        submit_change_set(code=code, by=reviewer)
        page = login(reviewer).get("/admin/review/33361/").content.decode()
        assert 'value="approve"' not in page and "another reviewer must approve it" in page
        response = login(reviewer).post("/admin/review/33361/transition/", {"action": "approve"}, follow=True)
        assert "Nothing was changed" in messages_of(response)
        assert CoverageCriterion.objects.filter(code=code, state=WorkflowState.IN_REVIEW).count() == 2

    def test_sending_back_needs_a_comment_and_shows_it_to_the_editor(self, pending_brief, editor, reviewer, login):
        code, _brief, _revision = pending_brief
        submit_change_set(code=code, by=editor)
        client = login(reviewer)
        response = client.post("/admin/review/33361/transition/", {"action": "send_back"}, follow=True)
        assert "comment is required" in messages_of(response)
        client.post("/admin/review/33361/transition/", {"action": "send_back", "comment": "Cite the LCD"})
        assert "Cite the LCD" in login(editor).get("/admin/").content.decode()

    def test_viewers_have_no_review_pages(self, pending_brief, viewer, login):
        response = login(viewer).post("/admin/review/33361/transition/", {"action": "submit"})
        assert response.status_code == 302 and "/admin/login/" in response["Location"]


class TestPreview:
    def test_the_editors_preview_shows_pending_criteria_and_documentation_marked(self, pending_brief, editor, login):
        code, _brief, _revision = pending_brief
        CoverageCriterion.objects.filter(code=code, payer__name="Cigna").update(criteria="Cigna's pending criteria")
        page = login(editor).get(f"/codes/{code.code}/").content.decode()
        assert "Cigna&#x27;s pending criteria" in page or "Cigna's pending criteria" in page
        assert "Pending: draft" in page
        assert "TAVR, new headline" in page

    def test_readers_never_see_pending_content(self, pending_brief, viewer, login):
        code, _brief, _revision = pending_brief
        CoverageCriterion.objects.filter(code=code, payer__name="Cigna").update(criteria="Cigna's pending criteria")
        page = login(viewer).get(f"/codes/{code.code}/").content.decode()
        assert "pending criteria" not in page and "Pending:" not in page
