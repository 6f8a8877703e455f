"""The review queue, a curator's drafts and a change set's page read the same statements however many
rows are pending. With 2,500 pending criteria beside 1M published ones, the admin's front page took
12 s and 7,682 statements (a change set and its differences per code, a history read per draft)."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from briefs.change_sets import drafts_of
from policyhub.choices import WorkflowState
from tests.factories import (
    BillingCodeFactory,
    CoverageCriterionFactory,
    DiagnosisCodeFactory,
    PayerFactory,
    PolicyDocumentFactory,
)

pytestmark = pytest.mark.django_db


def pend(codes, per_code: int, *, state, by, submitted_by=None):
    """`per_code` new criteria of each code, written by `by`, each citing a pending policy document of
    its own and supported by a diagnosis."""
    for code in codes:
        for _ in range(per_code):
            payer = PayerFactory()
            policy = PolicyDocumentFactory(payer=payer, state=state, submitted_by=submitted_by)
            criterion = CoverageCriterionFactory(
                code=code, payer=payer, policy=policy, state=state, submitted_by=submitted_by
            )
            criterion.diagnosis_codes.add(DiagnosisCodeFactory())
            criterion.history.update(history_user=by)
            policy.history.update(history_user=by)


def read(client, url: str) -> tuple[int, str]:
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)
    assert response.status_code == 200
    return len(queries), response.content.decode()


def test_the_front_page_and_the_queue_read_the_same_for_one_code_or_four(editor, other_editor, login):
    """The editor's front page lists the change sets in review and their own drafts; both pages read
    the same statements for one code of each with two criteria as for four codes with two or three."""
    in_review, drafted = [BillingCodeFactory() for _ in range(4)], [BillingCodeFactory() for _ in range(4)]
    pend(in_review[:1], 2, state=WorkflowState.IN_REVIEW, by=other_editor, submitted_by=other_editor)
    pend(drafted[:1], 2, state=WorkflowState.DRAFT, by=editor)
    client = login(editor)
    client.get("/admin/")
    few = {url: read(client, url) for url in ("/admin/", "/admin/review/")}

    pend(in_review[1:], 3, state=WorkflowState.IN_REVIEW, by=other_editor, submitted_by=other_editor)
    pend(drafted[1:], 3, state=WorkflowState.DRAFT, by=editor)
    many = {url: read(client, url) for url in ("/admin/", "/admin/review/")}

    for url, (count, html) in many.items():
        assert count == few[url][0], url
        for code in [*in_review, *drafted]:
            assert f"/admin/review/{code.code}/" in html, (url, code)
    assert "3 coverage criteria, 3 payer policy documents" in many["/admin/"][1]


def test_a_change_sets_page_reads_the_same_for_two_criteria_or_eight(editor, reviewer, login):
    """Each pending criterion shows its code, payer, diagnoses and cited document; read with the set."""
    code = BillingCodeFactory()
    pend([code], 2, state=WorkflowState.IN_REVIEW, by=editor, submitted_by=editor)
    client = login(reviewer)
    client.get("/admin/")
    few, _ = read(client, f"/admin/review/{code.code}/")
    pend([code], 6, state=WorkflowState.IN_REVIEW, by=editor, submitted_by=editor)
    many, html = read(client, f"/admin/review/{code.code}/")
    assert many == few
    assert html.count("Supporting diagnosis codes") == 8
    assert 'value="approve"' in html


def test_a_curators_drafts_are_those_they_wrote_or_submitted(editor, other_editor):
    """Read from every draft's history at once: a save of theirs that changed no content (a comment,
    a state) does not make a curator an author; one that changed the criteria does."""
    untouched, rewritten, submitted, own = [BillingCodeFactory() for _ in range(4)]
    drafts = {}
    for code in (untouched, rewritten, submitted):
        drafts[code] = CoverageCriterionFactory(code=code, state=WorkflowState.DRAFT, criteria="As the payer wrote it")
        drafts[code].history.update(history_user=other_editor)
    CoverageCriterionFactory(code=own, state=WorkflowState.DRAFT).history.update(history_user=editor)

    drafts[untouched].review_comment = "Checked the wording"
    drafts[untouched]._history_user = editor
    drafts[untouched].save()
    drafts[rewritten].criteria = "As the payer wrote it, with the 2025 update"
    drafts[rewritten]._history_user = editor
    drafts[rewritten].save()
    drafts[submitted].submitted_by = editor
    drafts[submitted].save()

    assert [change_set.code for change_set in drafts_of(editor)] == sorted(
        [rewritten, submitted, own], key=lambda code: code.code
    )
    assert [change_set.code for change_set in drafts_of(other_editor)] == sorted(
        [untouched, rewritten, submitted], key=lambda code: code.code
    )
