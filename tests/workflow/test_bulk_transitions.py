"""The admin's list actions move up to ADMIN_ACTION_MAX_ROWS rows in one go, all or none.

On the 1M data set, approving 2,000 criteria with the action took 34 s (22.5 statements a row): each
row looked up its code, payer and users again, asked the database a check constraint on columns it
had stored, read its history on its own and wrote its change-log entries on its own. The checks that
can fail still run on every row: these tests hold both halves.
"""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from briefs.change_sets import send_back_change_set
from codes.models import ModifierGuidance
from payers.models import CoverageCriterion
from policyhub.changelog import ChangeLogEntry
from policyhub.choices import WorkflowState
from policyhub.revisions import start_revision
from policyhub.workflow import WorkflowError, submit_for_review
from tests.factories import (
    BillingCodeFactory,
    CoverageCriterionFactory,
    ModifierFactory,
    ModifierGuidanceFactory,
    PayerFactory,
    PolicyDocumentFactory,
)
from tests.workflow.adminpages import admin_url, messages_of

pytestmark = pytest.mark.django_db


def in_review(count: int, *, by) -> list[CoverageCriterion]:
    """`count` criteria submitted by `by`, each of its own code and payer; every other one cites a
    published policy of its payer."""
    rows = []
    for number in range(count):
        payer = PayerFactory()
        policy = PolicyDocumentFactory(payer=payer) if number % 2 else None
        rows.append(CoverageCriterionFactory(payer=payer, policy=policy, state=WorkflowState.DRAFT))
    for row in rows:
        submit_for_review(item=row, by=by)
    return rows


def approve_with_the_action(client, rows):
    with CaptureQueriesContext(connection) as queries:
        response = client.post(
            admin_url(CoverageCriterion, "changelist"),
            {"action": "workflow_approve", "_selected_action": [row.pk for row in rows]},
        )
    assert response.status_code == 302
    return [query["sql"] for query in queries.captured_queries]


def test_approving_many_rows_reads_only_what_can_have_changed(editor, reviewer, login):
    """Per row: no look-up of its code, payer or users, no check constraint on its content, no history
    read of its own; the change log written in one statement. Six rows cost at most 14 statements
    each more than two (22.5 before)."""
    client = login(reviewer)
    client.get(admin_url(CoverageCriterion, "changelist"))
    two = approve_with_the_action(client, in_review(2, by=editor))
    six_rows = in_review(6, by=editor)
    six = approve_with_the_action(client, six_rows)

    assert set(
        CoverageCriterion.objects.filter(pk__in=[row.pk for row in six_rows]).values_list("state", flat=True)
    ) == {WorkflowState.PUBLISHED}
    for looked_up in ('SELECT 1 AS "a" FROM "codes_billingcode"', 'SELECT 1 AS "a" FROM "payers_payer"'):
        assert not [sql for sql in six if sql.startswith(looked_up)], looked_up
    assert not [sql for sql in six if sql.startswith('SELECT 1 AS "a" FROM "auth_user"')]
    # The cited policy must still be current: that reference is still looked up, once per citing row.
    assert len([sql for sql in six if sql.startswith('SELECT 1 AS "a" FROM "payers_policydocument"')]) == 3
    # The state check runs on every row; the effective dates' check does not (the database keeps it).
    assert len([sql for sql in six if sql.startswith('SELECT 1 AS "_check"')]) == 6
    assert len([sql for sql in six if 'FROM "payers_historicalcoveragecriterion"' in sql]) == 1
    assert len([sql for sql in six if sql.startswith('INSERT INTO "policyhub_changelogentry"')]) == 1
    assert (len(six) - len(two)) / 4 <= 14


def test_every_approved_row_reaches_the_change_feed(editor, reviewer, login):
    """The change log's entries are written together at the end of the action, one per row, and say
    what the row became (a retired row is removed from readers' copies)."""
    rows = in_review(3, by=editor)
    before = ChangeLogEntry.objects.count()
    approve_with_the_action(login(reviewer), rows)
    written = ChangeLogEntry.objects.filter(resource="coverage-criteria").order_by("key")
    assert ChangeLogEntry.objects.count() == before + 3
    assert sorted(written.values_list("key", flat=True)) == sorted(str(row.pk) for row in rows)
    assert set(written.values_list("action", flat=True)) == {"upserted"}

    login(reviewer).post(
        admin_url(CoverageCriterion, "changelist"), {"action": "workflow_retire", "_selected_action": [rows[0].pk]}
    )
    newest = ChangeLogEntry.objects.order_by("-pk").first()
    assert (newest.key, newest.action) == (str(rows[0].pk), "removed")


def test_a_refused_row_stops_the_whole_action_and_every_refusal_is_said(editor, reviewer, login):
    """One row cites a policy still in draft, one is a draft itself: nothing changes, nothing reaches
    the change feed, and the message names both."""
    fine = in_review(1, by=editor)[0]
    payer = PayerFactory()
    drafted_policy = PolicyDocumentFactory(payer=payer, state=WorkflowState.DRAFT)
    citing = CoverageCriterionFactory(payer=payer, policy=drafted_policy, state=WorkflowState.DRAFT)
    submit_for_review(item=citing, by=editor)
    draft = CoverageCriterionFactory(state=WorkflowState.DRAFT)
    before = ChangeLogEntry.objects.count()

    response = login(reviewer).post(
        admin_url(CoverageCriterion, "changelist"),
        {"action": "workflow_approve", "_selected_action": [fine.pk, citing.pk, draft.pk]},
        follow=True,
    )

    message = messages_of(response)
    assert message.startswith("Nothing was changed. ")
    assert f"cites the draft payer policy document “{drafted_policy}”; it must be approved first" in message
    assert f"“{draft}” is draft; only in review items can be approved." in message
    assert set(CoverageCriterion.objects.filter(pk__in=[fine.pk, citing.pk]).values_list("state", flat=True)) == {
        WorkflowState.IN_REVIEW
    }
    assert ChangeLogEntry.objects.count() == before


def test_approving_a_revision_still_checks_uniqueness_against_other_rows(editor, reviewer, login):
    """A revision may take a key another published row holds meanwhile: its approval is refused, not
    published over it (the content came from a stored row, but other rows change)."""
    code = BillingCodeFactory()
    kept = ModifierGuidanceFactory(code=code, modifier=ModifierFactory(code="26"))
    moved = ModifierGuidanceFactory(code=code, modifier=ModifierFactory(code="59"))
    revision = start_revision(item=moved, by=editor, changes={"modifier": kept.modifier})
    submit_for_review(item=revision, by=editor)

    response = login(reviewer).post(
        admin_url(ModifierGuidance, "changelist"),
        {"action": "workflow_approve", "_selected_action": [revision.pk]},
        follow=True,
    )

    assert messages_of(response) == "Nothing was changed. This modifier already has guidance for the code."
    assert ModifierGuidance.objects.get(pk=moved.pk).modifier.code == "59"


def test_sending_back_a_change_set_without_a_comment_says_so_once(editor, reviewer):
    code = BillingCodeFactory()
    for _ in range(3):
        submit_for_review(item=CoverageCriterionFactory(code=code, state=WorkflowState.DRAFT), by=editor)
    with pytest.raises(WorkflowError) as refused:
        send_back_change_set(code=code, by=reviewer, comment=" ")
    assert refused.value.messages == ["Say what must change: a comment is required to send an item back."]
