"""The overview page: counts, open gaps by category and recently changed briefs."""

import pytest

from policyhub.changelog import assign_positions
from tests.pages.pagetext import page_text, table_rows

pytestmark = pytest.mark.django_db


def test_overview_counts_and_recent_briefs(reader_client, demo, django_assert_max_num_queries):
    """The overview counts codes, payers and open gaps, charts gaps by category and lists the published briefs."""
    assign_positions()  # what the demo's commit does (the test's transaction never commits)
    # 10, and the change position the counts are remembered at (two queries on PostgreSQL).
    with django_assert_max_num_queries(12):
        response = reader_client.get("/")
    text = page_text(response.content)
    assert "3 billing codes" in text
    assert "5 payers" in text
    assert "19 open follow-up gaps" in text
    assert "0 overdue gaps" in text
    assert "Payer coverage criteria 10" in text
    recent = [row[0] for row in table_rows(response.content, "recent-briefs")[1:]]
    assert sorted(recent) == ["93590", "93592"]
