"""Admin messages read as sentences: counts pluralised, one full stop, dates without a doubled period,
and the history never sends an editor to a user page they may not open."""

import re

import pytest
from django.urls import reverse

from codes.models import CodeBrief
from policyhub.choices import WorkflowState
from policyhub.workflow import submit_for_review
from tests.factories import BillingCodeFactory, CodeBriefFactory, CoverageCriterionFactory
from tests.workflow.adminpages import admin_url, messages_of

pytestmark = pytest.mark.django_db


def test_a_transition_says_what_happened_in_a_sentence(editor, reviewer, login):
    """ "Code brief “…” was approved and published." instead of "…: approve and publish done."."""
    brief = CodeBriefFactory(state=WorkflowState.DRAFT)
    submitted = messages_of(login(editor).post(admin_url(brief, "workflow"), {"transition": "submit"}, follow=True))
    assert submitted == f"Code brief “{brief}” was submitted for review."
    approved = messages_of(login(reviewer).post(admin_url(brief, "workflow"), {"transition": "approve"}, follow=True))
    assert approved == f"Code brief “{CodeBrief.objects.get(pk=brief.pk)}” was approved and published."
    assert "done" not in submitted + approved


def test_list_actions_count_items_in_words(editor, reviewer, login):
    """One item "was", several "were", with the plural noun."""
    items = [CoverageCriterionFactory(state=WorkflowState.DRAFT) for _ in range(2)]
    for item in items:
        submit_for_review(item=item, by=editor)
    response = login(reviewer).post(
        admin_url(items[0], "changelist"),
        {"action": "workflow_approve", "_selected_action": [item.pk for item in items]},
        follow=True,
    )
    assert messages_of(response) == "2 coverage criteria were approved and published."


@pytest.mark.parametrize(
    ("selected", "expected"), [(1, "Gap detection for 1 code: "), (2, "Gap detection for 2 codes: ")]
)
def test_gap_detection_message_is_pluralised(staff_client, selected, expected):
    codes = [BillingCodeFactory() for _ in range(selected)]
    response = staff_client.post(
        reverse("admin:codes_billingcode_changelist"),
        {"action": "detect_gaps_of_codes", "_selected_action": [code.pk for code in codes]},
        follow=True,
    )
    message = messages_of(response)
    assert message.startswith(expected) and message.endswith(" unchanged.") and ".." not in message


def test_workflow_panel_dates_end_with_one_full_stop(editor, reviewer, login):
    """ "Submitted by erin on 2026-12-01 06:16." — never "on Dec. 1, 2026, 6:16 a.m.."."""
    brief = CodeBriefFactory(state=WorkflowState.DRAFT)
    submit_for_review(item=brief, by=editor)
    page = login(reviewer).get(admin_url(brief, "change")).content.decode()
    assert re.search(r"Submitted by erin-editor on \d{4}-\d{2}-\d{2} \d{2}:\d{2}\.", page)
    assert ".." not in re.sub(r"<[^>]+>", "", page.split('id="workflow-panel"')[1].split("</form>")[0])


def test_history_names_the_user_without_a_link_editors_cannot_open(editor, login, staff_client):
    """An editor sees who changed a row as plain text (the user admin would answer 403); a superuser gets the link."""
    brief = CodeBriefFactory(state=WorkflowState.DRAFT)
    submit_for_review(item=brief, by=editor)
    user_page = reverse("admin:auth_user_change", args=[editor.pk])
    editor_history = login(editor).get(admin_url(brief, "history")).content.decode()
    assert "erin-editor" in editor_history and user_page not in editor_history
    assert login(editor).get(user_page).status_code == 403
    assert user_page in staff_client.get(admin_url(brief, "history")).content.decode()
