"""Reading large tables: counts that are not exact beyond a cap, searches that go by code,
and filters that add no DISTINCT (issue 15)."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from payers.choices import GapStatus
from policyhub.paginators import CappedCountPaginator
from tests.factories import CoverageCriterionFactory, FollowUpGapFactory

pytestmark = pytest.mark.django_db
CRITERIA = "/api/v1/coverage-criteria/"
postgresql_only = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="counts are estimated on PostgreSQL only"
)


def _ids(response) -> list[int]:
    return [row["id"] for row in response.json()["results"]]


@postgresql_only
def test_pages_beyond_the_count_cap_are_served_until_they_run_out(api_client, dataset, monkeypatch):
    """Past the cap the count is an estimate, yet every row is served once, in the same order,
    and the page after the last answers 404 with the error body."""
    exact = _ids(api_client.get(CRITERIA, {"page_size": 50}))
    assert len(exact) == 4
    monkeypatch.setattr(CappedCountPaginator, "EXACT_UP_TO", 2)
    first = api_client.get(CRITERIA, {"page_size": 2})
    assert first.json()["count"] >= 3
    assert first.json()["next"]
    second = api_client.get(first.json()["next"])
    assert _ids(first) + _ids(second) == exact
    beyond = api_client.get(CRITERIA, {"page_size": 2, "page": 3})
    assert beyond.status_code == 404
    assert beyond.json()["code"] == "not_found"


def test_counts_below_the_cap_stay_exact(api_client, dataset):
    body = api_client.get(CRITERIA, {"page_size": 1}).json()
    assert body["count"] == 4


def test_searching_a_code_lists_that_code_alone(api_client, dataset):
    """A code-shaped term matches the code exactly (any case), not text that mentions it."""
    CoverageCriterionFactory(code=dataset.addon, payer=dataset.aetna, criteria="Only with 93590 in the same session")
    rows = api_client.get(CRITERIA, {"q": "93590"}).json()["results"]
    assert rows and {row["code"]["code"] for row in rows} == {"93590"}
    ambulance = api_client.get(CRITERIA, {"q": "a0021"}).json()["results"]
    assert {row["code"]["code"] for row in ambulance} == {"A0021"}


def test_text_search_still_matches_payers_policies_and_criteria(api_client, dataset):
    assert api_client.get(CRITERIA, {"q": "aetn"}).json()["count"] == 1  # the payer's name
    by_policy = api_client.get(CRITERIA, {"q": dataset.lcd.number.lower()}).json()["results"]
    assert by_policy and {row["policy"]["number"] for row in by_policy} == {dataset.lcd.number}


def test_single_table_filters_add_no_distinct(api_client, dataset):
    """`?status=` is a multiple-choice filter on the gap's own column: no SELECT DISTINCT."""
    FollowUpGapFactory(code=dataset.mitral, status=GapStatus.OPEN)
    with CaptureQueriesContext(connection) as queries:
        response = api_client.get("/api/v1/gaps/", {"status": ["open", "in_progress"], "payer": "aetna"})
    assert response.status_code == 200
    assert not [query["sql"] for query in queries if "DISTINCT" in query["sql"]]


def test_admin_search_by_code_lists_that_code_alone(staff_client, dataset):
    CoverageCriterionFactory(code=dataset.addon, payer=dataset.aetna, criteria="Only with 93590 in the same session")
    page = staff_client.get("/admin/payers/coveragecriterion/", {"q": "93590"})
    assert page.status_code == 200
    assert {row.code.code for row in page.context["cl"].result_list} == {"93590"}


def test_admin_text_search_matches_related_names(staff_client, dataset):
    """Every word must match one searched field, a payer's name included, as Django's search does."""
    page = staff_client.get("/admin/payers/coveragecriterion/", {"q": "medic"})
    assert {row.payer.name for row in page.context["cl"].result_list} == {"Medicare"}
    both = staff_client.get("/admin/payers/coveragecriterion/", {"q": "medic zzz-nothing"})
    assert list(both.context["cl"].result_list) == []
