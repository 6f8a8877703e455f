"""An admin action takes at most ADMIN_ACTION_MAX_ROWS rows at a time, "select all" included.

On 1M coverage criteria, "Select all" then "Delete" built one confirmation page listing every row
and what refers to it (142 s, 8.8 GB of one worker); a workflow action loaded every row first.
"""

import pytest

from payers.models import CoverageCriterion
from policyhub.choices import WorkflowState
from policyhub.workflow import submit_for_review
from tests.factories import CoverageCriterionFactory
from tests.workflow.adminpages import admin_url, messages_of

pytestmark = pytest.mark.django_db

REFUSED = (
    "Nothing was done. An action takes at most 3 coverage criteria at a time and {selected} were selected: "
    "narrow the list with its filters or search first."
)


@pytest.fixture
def limit(settings):
    settings.ADMIN_ACTION_MAX_ROWS = 3
    return 3


def select_all(client, action: str, **extra):
    """The change list's action with "Select all" ticked (one row on the page, all of them meant)."""
    first = CoverageCriterion.objects.order_by("pk").first()
    data = {"action": action, "select_across": "1", "index": "0", "_selected_action": [first.pk], **extra}
    return client.post(admin_url(CoverageCriterion, "changelist"), data, follow=True)


def test_select_all_beyond_the_limit_deletes_nothing_and_says_why(staff_client, limit):
    CoverageCriterionFactory.create_batch(limit + 1)
    response = select_all(staff_client, "delete_selected")
    assert messages_of(response) == REFUSED.format(selected="more than 3")
    assert "Are you sure" not in response.content.decode()
    # Even the confirmation's own post ("Yes, I'm sure") is refused.
    select_all(staff_client, "delete_selected", post="yes")
    assert CoverageCriterion.objects.count() == limit + 1


def test_select_all_within_the_limit_asks_to_confirm(staff_client, limit):
    CoverageCriterionFactory.create_batch(limit)
    response = select_all(staff_client, "delete_selected")
    assert response.status_code == 200 and "Are you sure" in response.content.decode()
    select_all(staff_client, "delete_selected", post="yes")
    assert CoverageCriterion.objects.count() == 0


def test_a_workflow_action_beyond_the_limit_changes_nothing(editor, reviewer, login, limit):
    drafts = CoverageCriterionFactory.create_batch(limit + 1, state=WorkflowState.DRAFT)
    for draft in drafts:
        submit_for_review(item=draft, by=editor)
    response = select_all(login(reviewer), "workflow_approve")
    assert messages_of(response) == REFUSED.format(selected="more than 3")
    assert set(CoverageCriterion.objects.values_list("state", flat=True)) == {WorkflowState.IN_REVIEW}


def test_ticked_rows_beyond_the_limit_are_refused_by_their_count(staff_client, limit):
    rows = CoverageCriterionFactory.create_batch(limit + 1)
    response = staff_client.post(
        admin_url(CoverageCriterion, "changelist"),
        {"action": "delete_selected", "_selected_action": [row.pk for row in rows], "post": "yes"},
        follow=True,
    )
    assert messages_of(response) == REFUSED.format(selected="4")
    assert CoverageCriterion.objects.count() == limit + 1
