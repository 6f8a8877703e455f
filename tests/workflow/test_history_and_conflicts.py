"""Audit history (who, when, why, field-level before/after, revert as a new change) and conflict-safe
editing (a save based on an outdated version is refused and loses nothing)."""

import pytest
from django.urls import reverse

from codes.models import BillingCode, CodeBrief, CodeCategory
from payers.choices import GapPriority, GapStatus
from payers.models import FollowUpGap
from policyhub.choices import WorkflowState
from tests.factories import BillingCodeFactory, CodeBriefFactory, FollowUpGapFactory
from tests.workflow.adminpages import admin_url, form_data, messages_of, page_errors

pytestmark = pytest.mark.django_db


def edit(client, obj, **changes):
    """Open the change page and save it with `changes`, as a curator does."""
    form = client.get(admin_url(obj, "change"))
    return client.post(admin_url(obj, "change"), form_data(form, **changes))


class TestHistory:
    def test_admin_edit_records_who_when_why_and_before_after(self, editor, login):
        code = BillingCodeFactory(code="93590", short_descriptor="Old descriptor")
        client = login(editor)
        response = edit(client, code, short_descriptor="Percutaneous mitral valve occlusion", change_reason="AMA 2026")
        assert response.status_code == 302, page_errors(response)

        latest = code.history.first()
        assert latest.history_user == editor
        assert latest.history_change_reason == "AMA 2026"
        assert latest.short_descriptor == "Percutaneous mitral valve occlusion"
        code.refresh_from_db()
        assert code.changed_by == editor and code.version == 2

        page = client.get(admin_url(code, "history")).content.decode()
        assert "AMA 2026" in page
        assert "Old descriptor" in page and "Percutaneous mitral valve occlusion" in page
        assert editor.username in page

    def test_workflow_fields_show_in_the_history(self, editor, reviewer, login):
        brief = CodeBriefFactory(state=WorkflowState.DRAFT)
        login(editor).post(admin_url(brief, "workflow"), {"transition": "submit"})
        page = login(reviewer).get(admin_url(brief, "history")).content.decode()
        assert "Submitted for review" in page
        assert "Draft" in page and "In review" in page

    def test_revert_is_a_new_change_and_keeps_history(self, editor, login):
        code = BillingCodeFactory(short_descriptor="First wording")
        client = login(editor)
        edit(client, code, short_descriptor="Second wording")
        edit(client, code, short_descriptor="Third wording")
        history = list(code.history.order_by("history_id").values_list("history_id", "short_descriptor"))
        assert [text for _, text in history] == ["First wording", "Second wording", "Third wording"]

        first_id = history[0][0]
        url = reverse("admin:codes_billingcode_simple_history", args=[code.pk, first_id])
        form = client.get(url)
        assert form.status_code == 200
        response = client.post(url, form_data(form))
        assert response.status_code == 302, page_errors(response)

        code.refresh_from_db()
        assert code.short_descriptor == "First wording"
        after = list(code.history.order_by("history_id").values_list("history_id", "short_descriptor"))
        assert after[:3] == history, "revert must not rewrite earlier history"
        assert len(after) == 4 and after[3][1] == "First wording"
        assert code.history.first().history_change_reason.startswith("Reverted to the version of")

    def test_reverting_a_published_brief_goes_through_review(self, editor, login):
        brief = CodeBriefFactory(state=WorkflowState.PUBLISHED, headline="Original")
        client = login(editor)
        old_id = brief.history.first().history_id
        # A reviewer-approved change moved the headline on; the editor reverts it.
        brief.headline = "Changed"
        brief.version += 1
        brief.save()
        url = reverse("admin:codes_codebrief_simple_history", args=[brief.pk, old_id])
        response = client.post(url, form_data(client.get(url)), follow=True)
        assert "saved as a draft revision" in messages_of(response)
        assert CodeBrief.objects.get(pk=brief.pk).headline == "Changed"
        assert CodeBrief.objects.get(revision_of=brief).headline == "Original"


class TestConflicts:
    def test_second_save_on_a_stale_form_is_refused_and_nothing_is_lost(self, editor, other_editor, login):
        """A refused form is rebuilt on the current version: saving it again keeps the other change."""
        code = BillingCodeFactory(short_descriptor="Original", category="Cardiovascular")
        CodeCategory.objects.create(name="Structural heart")
        first, second = login(editor), login(other_editor)
        first_form = first.get(admin_url(code, "change"))
        second_form = second.get(admin_url(code, "change"))

        saved = first.post(admin_url(code, "change"), form_data(first_form, short_descriptor="Editor one's wording"))
        assert saved.status_code == 302
        refused = second.post(admin_url(code, "change"), form_data(second_form, category="Structural heart"))

        errors = page_errors(refused)
        assert "was changed by erin-editor" in errors
        assert "Short descriptor: Original → Editor one's wording" in errors
        assert "your change was not saved" in errors
        form = refused.context["adminform"].form
        # The second editor's own entry stays; the field they did not touch now shows the current value.
        assert form["category"].value() == "Structural heart"
        assert form["short_descriptor"].value() == "Editor one's wording"
        code.refresh_from_db()
        assert (code.short_descriptor, code.category) == ("Editor one's wording", "Cardiovascular")

        # Pressing Save again on the rebuilt form applies only the second editor's change.
        again = second.post(admin_url(code, "change"), form_data(refused))
        assert again.status_code == 302, page_errors(again)
        code.refresh_from_db()
        assert (code.short_descriptor, code.category) == ("Editor one's wording", "Structural heart")

    def test_a_field_both_changed_is_shown_side_by_side_and_never_overwritten_unasked(
        self, editor, other_editor, login
    ):
        """Both editors changed one field: the current value fills it, the refused entry is shown beside it."""
        code = BillingCodeFactory(short_descriptor="Original")
        first, second = login(editor), login(other_editor)
        first_form = first.get(admin_url(code, "change"))
        second_form = second.get(admin_url(code, "change"))
        first.post(admin_url(code, "change"), form_data(first_form, short_descriptor="Wording A"))

        refused = second.post(admin_url(code, "change"), form_data(second_form, short_descriptor="Wording B"))
        form = refused.context["adminform"].form
        assert form["short_descriptor"].value() == "Wording A"
        field_errors = " ".join(form.errors["short_descriptor"])
        assert "Wording A" in field_errors and "Wording B" in field_errors
        assert "You both changed short descriptor" in page_errors(refused)

        # Saved as is: the other editor's value stays.
        assert second.post(admin_url(code, "change"), form_data(refused)).status_code == 302
        code.refresh_from_db()
        assert code.short_descriptor == "Wording A"

    def test_choosing_ones_own_value_after_a_clash_applies_it(self, editor, other_editor, login):
        code = BillingCodeFactory(short_descriptor="Original")
        first, second = login(editor), login(other_editor)
        first_form = first.get(admin_url(code, "change"))
        second_form = second.get(admin_url(code, "change"))
        first.post(admin_url(code, "change"), form_data(first_form, short_descriptor="Wording A"))
        refused = second.post(admin_url(code, "change"), form_data(second_form, short_descriptor="Wording B"))

        chosen = second.post(admin_url(code, "change"), form_data(refused, short_descriptor="Wording B"))
        assert chosen.status_code == 302, page_errors(chosen)
        code.refresh_from_db()
        assert code.short_descriptor == "Wording B"
        assert list(code.history.values_list("history_user__username", flat=True)[:2]) == [
            "eddie-editor",
            "erin-editor",
        ]

    def test_stale_list_editable_row_is_refused(self, editor, other_editor, login):
        # A draft: a published gap's list edit would start a revision instead of changing the row.
        gap = FollowUpGapFactory(status=GapStatus.OPEN, priority=GapPriority.MEDIUM, state=WorkflowState.DRAFT)
        first, second = login(editor), login(other_editor)
        url = admin_url(FollowUpGap, "changelist")
        page = second.get(url)
        edit(first, gap, description="Now assigned to payer relations")

        formset = page.context["cl"].formset
        data = {f"form-{key}": value for key, value in formset.management_form.initial.items()}
        for form in formset.forms:
            for name in form.fields:
                value = form[name].value()
                if value is not None:
                    data[form.add_prefix(name)] = value
        row = next(i for i, form in enumerate(formset.forms) if form.instance.pk == gap.pk)
        data[f"form-{row}-priority"] = GapPriority.HIGH
        data["_save"] = "Save"
        response = second.post(url, data)
        assert response.status_code == 200
        assert "was changed by erin-editor" in response.content.decode()
        gap.refresh_from_db()
        assert gap.priority == GapPriority.MEDIUM
        assert gap.description == "Now assigned to payer relations"

    def test_action_on_a_stale_selection_does_nothing(self, editor, reviewer, login):
        brief = CodeBriefFactory(state=WorkflowState.DRAFT)
        shown_version = brief.version
        login(editor).post(admin_url(brief, "workflow"), {"transition": "submit"})
        response = login(reviewer).post(
            admin_url(brief, "changelist"),
            {
                "action": "workflow_approve",
                "_selected_action": [brief.pk],
                "_selected_version": [f"{brief.pk}:{shown_version}"],
            },
            follow=True,
        )
        assert "Nothing was done." in messages_of(response)
        assert CodeBrief.objects.get(pk=brief.pk).state == WorkflowState.IN_REVIEW

    def test_workflow_button_on_a_stale_page_is_refused(self, editor, other_editor, login):
        brief = CodeBriefFactory(state=WorkflowState.DRAFT, headline="Before")
        shown_version = brief.version
        edit(login(other_editor), brief, headline="Edited meanwhile")
        response = login(editor).post(
            admin_url(brief, "workflow"), {"transition": "submit", "base_version": shown_version}, follow=True
        )
        assert "was changed by eddie-editor" in messages_of(response)
        assert CodeBrief.objects.get(pk=brief.pk).state == WorkflowState.DRAFT

    def test_loaded_data_history_names_the_system_account(self, editor):
        """Rows written by a command (here load_demo) say who wrote them in their history."""
        from payers.demo import load_demo

        load_demo()
        code = BillingCode.objects.get(code="93590")
        record = code.history.first()
        assert record.history_user.username == "policyhub-system"
        gap = FollowUpGap.objects.filter(code=code).first()
        assert gap.history.exists()
