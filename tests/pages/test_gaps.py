"""The gap worklist: open gaps by default, filters, sort by due date, overdue rows, chart by category."""

import datetime

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from payers.choices import GapCategory, GapPriority, GapStatus
from payers.models import FollowUpGap
from policyhub.changelog import assign_positions
from tests.factories import FollowUpGapFactory, PayerFactory, UserFactory
from tests.pages.pagetext import page_text, table_rows

pytestmark = pytest.mark.django_db


def worklist(client, query=""):
    response = client.get(f"/gaps/?{query}")
    assert response.status_code == 200
    return [row[0].split()[0] for row in table_rows(response.content, "gap-worklist")[1:]]


def gap_ids(*gaps):
    return [f"#{gap.pk}" for gap in gaps]


@pytest.fixture
def gaps(db):
    today = timezone.localdate()
    alice, bob = UserFactory(username="alice"), UserFactory(username="bob")
    aetna = PayerFactory(name="Aetna", slug="aetna")
    return {
        "late": FollowUpGapFactory(
            category=GapCategory.BENCHMARK, due_date=today - datetime.timedelta(days=3), assignee=alice
        ),
        "soon": FollowUpGapFactory(
            category=GapCategory.COVERAGE_CRITERIA,
            payer=aetna,
            due_date=today + datetime.timedelta(days=2),
            priority=GapPriority.HIGH,
            status=GapStatus.IN_PROGRESS,
            assignee=bob,
        ),
        "later": FollowUpGapFactory(
            category=GapCategory.BENCHMARK, due_date=today + datetime.timedelta(days=30), priority=GapPriority.LOW
        ),
        "undated": FollowUpGapFactory(category=GapCategory.DIAGNOSIS_CODING),
        "done": FollowUpGapFactory(
            category=GapCategory.BENCHMARK,
            status=GapStatus.RESOLVED,
            resolved_at=timezone.now(),
            due_date=today - datetime.timedelta(days=10),
        ),
    }


def test_open_gaps_sorted_by_priority_then_due_date_by_default(reader_client, gaps):
    """Without filters the worklist shows open and in-progress gaps, highest priority first, then soonest due
    (undated last within a priority)."""
    expected = gap_ids(gaps["soon"], gaps["late"], gaps["undated"], gaps["later"])
    assert worklist(reader_client) == expected
    assert worklist(reader_client, "sort=priority") == expected


def test_sort_by_due_date(reader_client, gaps):
    """Readers can sort by soonest or latest due date instead."""
    assert worklist(reader_client, "sort=due") == gap_ids(gaps["late"], gaps["soon"], gaps["later"], gaps["undated"])
    assert worklist(reader_client, "sort=-due") == gap_ids(gaps["later"], gaps["soon"], gaps["late"], gaps["undated"])


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("filtered=1&status=resolved", ["done"]),
        ("filtered=1", ["done", "late", "soon", "later", "undated"]),
        ("category=benchmark", ["late", "later"]),
        ("payer=aetna", ["soon"]),
        ("assignee=alice", ["late"]),
        ("priority=1", ["soon"]),
        ("overdue=true", ["late"]),
    ],
)
def test_filters(reader_client, gaps, query, expected):
    """Status, category, payer, assignee, priority and overdue filters narrow the worklist."""
    assert sorted(worklist(reader_client, query)) == sorted(gap_ids(*(gaps[name] for name in expected)))


def test_overdue_rows_are_highlighted_and_labelled(reader_client, gaps):
    """An open gap past its due date is highlighted and says "Overdue"; a resolved late one does not."""
    html = reader_client.get("/gaps/?filtered=1").content.decode()
    due = {row[0].split()[0]: row[-1] for row in table_rows(html, "gap-worklist")[1:]}
    assert "Overdue" in due[f"#{gaps['late'].pk}"]
    assert "Overdue" not in due[f"#{gaps['done'].pk}"]
    assert "Overdue" not in due[f"#{gaps['soon'].pk}"]
    assert html.count('<tr class="overdue">') == 1


def test_chart_counts_open_gaps_by_category(reader_client, gaps):
    """The chart lists each category with its number of open gaps, largest first, linked to the filter."""
    html = reader_client.get("/gaps/").content.decode()
    text = page_text(html)
    assert "Reimbursement or utilization benchmark 2 Payer coverage criteria 1 Diagnosis coding 1" in text
    assert 'href="/gaps/?category=benchmark"' in html


def test_filter_form_lists_assignees_and_keeps_choices(reader_client, gaps):
    """The assignee menu lists the people gaps are assigned to; chosen filters stay selected."""
    html = reader_client.get("/gaps/?assignee=bob&category=benchmark").content.decode()
    assert '<option value="alice">alice</option>' in html
    assert '<option value="bob" selected>bob</option>' in html
    assert 'value="benchmark" id="id_category_' in html and "checked" in html


def test_worklist_queries_stay_constant(reader_client, db, django_assert_max_num_queries):
    """The worklist runs the same number of queries for 3 or 40 gaps with codes, payers and assignees."""

    def add(n):
        for _ in range(n):
            FollowUpGapFactory(payer=PayerFactory(), assignee=UserFactory())
        assign_positions()  # what their commit does (the test's transaction never commits)

    add(3)
    with CaptureQueriesContext(connection) as small:
        reader_client.get("/gaps/")
    add(37)
    # 12, and the change position the totals are remembered at (two queries on PostgreSQL).
    with django_assert_max_num_queries(14), CaptureQueriesContext(connection) as large:
        reader_client.get("/gaps/")
    assert len(large) == len(small)
    assert FollowUpGap.objects.count() == 40
