"""Reading large tables: counts that are not exact beyond a cap, searches that go by code,
and filters that add no DISTINCT (issue 15)."""

import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from payers.choices import GapStatus
from policyhub import filtersets
from policyhub.paginators import CappedCountPaginator
from tests.factories import BillingCodeFactory, CoverageCriterionFactory, FollowUpGapFactory

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


def test_admin_search_leaves_short_words_out_of_the_criteria_text(staff_client, dataset):
    """A word without three letters or digits in a row cannot be found through the criteria's trigram
    index (at 1M criteria it read every one, 1.9-2.7 s): it is looked for in the other fields only,
    once, and the list says so. A longer word is looked for in the criteria's text as before."""
    in_text = CoverageCriterionFactory(
        code=BillingCodeFactory(code="33418"),
        payer=dataset.medicare,
        policy=dataset.lcd,
        criteria="Only ae-class devices",
    )
    with CaptureQueriesContext(connection) as queries:
        page = staff_client.get(ADMIN_LISTS[0], {"q": "ae", "_facets": "1"})
    rows = list(page.context["cl"].result_list)
    assert rows and {row.payer for row in rows} == {dataset.aetna}  # payer names are still searched
    assert in_text not in rows
    said = [str(message) for message in page.context["messages"]]
    assert said == [
        "Not looked for in the criteria: “ae”. "
        "A word is found there when it holds at least 3 letters or digits in a row."
    ]
    text_searched = re.compile(r'"payers_coveragecriterion"\."criteria"(::text\))? LIKE')
    assert not [query["sql"] for query in queries if text_searched.search(query["sql"])]

    with CaptureQueriesContext(connection) as queries:
        longer = staff_client.get(ADMIN_LISTS[0], {"q": "ae-class"})
    assert list(longer.context["cl"].result_list) == [in_text]
    assert [query["sql"] for query in queries if text_searched.search(query["sql"])]
    assert not list(longer.context["messages"])


ADMIN_LISTS = (
    "/admin/payers/coveragecriterion/",
    "/admin/payers/documentationrequirement/",
    "/admin/payers/followupgap/",
)


@pytest.mark.parametrize("term", ["aetn", "medic", "cpb 0826", "l36668", "zzz-nothing"])
def test_related_matches_written_as_keys_find_what_a_subquery_finds(
    api_client, staff_client, dataset, monkeypatch, term
):
    """Payers and policy documents a term matches go into the search as their keys (an index look-up
    in an OR); past MATCHING_KEYS_AT_MOST they stay a subquery. Both find the same rows, in the API
    and in the admin's search box."""

    def found():
        api = [_ids(api_client.get(url, {"q": term, "page_size": 100})) for url in (CRITERIA, "/api/v1/gaps/")]
        admin = [
            [row.pk for row in staff_client.get(url, {"q": term}).context["cl"].result_list] for url in ADMIN_LISTS
        ]
        return api, admin

    by_keys = found()
    if term != "zzz-nothing":
        assert by_keys[0][0] and by_keys[1][0]
    monkeypatch.setattr(filtersets, "MATCHING_KEYS_AT_MOST", 0)
    assert found() == by_keys


def test_a_search_names_the_payers_it_matches_not_a_subquery(api_client, staff_client, dataset):
    """PostgreSQL checks `payer_id IN (SELECT ...)` inside an OR row by row (2 s for a rare term on
    1M criteria); `payer_id IN (<key>)` it reads from an index."""
    for client, url in ((api_client, CRITERIA), (staff_client, ADMIN_LISTS[0])):
        with CaptureQueriesContext(connection) as queries:
            assert client.get(url, {"q": "aetn"}).status_code == 200
        searched = [query["sql"] for query in queries if "LIKE" in query["sql"] and "coveragecriterion" in query["sql"]]
        assert searched
        assert not [sql for sql in searched if 'FROM "payers_payer"' in sql and "IN (SELECT" in sql]
        assert all(f'"payer_id" IN ({dataset.aetna.pk})' in sql for sql in searched)
