"""Conditional requests: ETag and Last-Modified on lists and details; If-None-Match answers 304."""

from email.utils import parsedate_to_datetime

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from payers.choices import CoverageStatus, GapStatus
from policyhub.choices import WorkflowState
from tests.api.helpers import RESOURCES, detail_url, list_url
from tests.factories import BenchmarkFactory, CoverageCriterionFactory, PayerFactory

pytestmark = pytest.mark.django_db

BRIEF = "/api/v1/codes/93590/"


def _etag(client, url, **params) -> str:
    response = client.get(url, params)
    assert response.status_code == 200
    return response["ETag"]


def _urls(dataset):
    for basename, (row, _) in RESOURCES.items():
        yield list_url(basename)
        yield detail_url(basename, getattr(dataset, row))
    yield "/api/v1/changes/?since=2000-01-01T00:00:00Z"


def test_every_list_and_detail_carries_validators(api_client, dataset):
    """Each list and detail answers with a weak ETag, Last-Modified and 'revalidate, do not share'."""
    for url in _urls(dataset):
        response = api_client.get(url)
        assert response["ETag"].startswith('W/"'), url
        assert "private" in response["Cache-Control"]
        assert "no-cache" in response["Cache-Control"]
        if "changes" not in url:
            assert response["Last-Modified"].endswith("GMT"), url


def test_matching_etag_answers_304_without_a_body(api_client, dataset):
    """Sending the ETag back as If-None-Match answers 304 with no body, on every list and detail."""
    for url in _urls(dataset):
        etag = _etag(api_client, url)
        response = api_client.get(url, HTTP_IF_NONE_MATCH=etag)
        assert response.status_code == 304, url
        assert response.content == b""
        assert response["ETag"] == etag


def test_304_costs_one_query_and_serialises_nothing(api_client, dataset):
    """A 304 for the whole brief is answered from one aggregate query (plus the token lookup and the read check)."""
    etag = _etag(api_client, BRIEF)
    with CaptureQueriesContext(connection) as full:
        api_client.get(BRIEF)
    with CaptureQueriesContext(connection) as not_modified:
        assert api_client.get(BRIEF, HTTP_IF_NONE_MATCH=etag).status_code == 304
    assert len(not_modified) == 3
    assert len(full) > 10


def test_etag_comparison_is_weak_and_accepts_lists_and_star(api_client, dataset):
    """If-None-Match matches with or without W/, within a list of tags, and '*' matches anything."""
    etag = _etag(api_client, BRIEF)
    strong = etag.removeprefix("W/")
    for header in (strong, f'"other", {etag}', "*"):
        assert api_client.get(BRIEF, HTTP_IF_NONE_MATCH=header).status_code == 304
    assert api_client.get(BRIEF, HTTP_IF_NONE_MATCH='"stale"').status_code == 200


def test_brief_etag_changes_when_its_coverage_changes(api_client, dataset):
    """After a payer's criterion for the code changes, the old ETag gets the full, new brief."""
    etag = _etag(api_client, BRIEF)
    criterion = dataset.aetna_mitral
    criterion.criteria = "Updated criteria"
    criterion.save()
    response = api_client.get(BRIEF, HTTP_IF_NONE_MATCH=etag)
    assert response.status_code == 200
    assert response["ETag"] != etag
    assert response.json()["coverage"][0]["criteria"] == "Updated criteria"


@pytest.mark.parametrize(
    "change",
    [
        "payer renamed",
        "site removed",
        "gap resolved",
        "related code renamed",
        "brief retired",
        "criterion added",
    ],
)
def test_brief_etag_follows_every_section(api_client, dataset, change):
    """Any change to what the brief shows, including removals, gives the brief a new ETag."""
    etag = _etag(api_client, BRIEF)
    if change == "payer renamed":
        dataset.aetna.name = "Aetna Inc."
        dataset.aetna.save()
    elif change == "site removed":
        dataset.mitral.sites_of_service.get().delete()
    elif change == "gap resolved":
        dataset.open_gap.status = GapStatus.RESOLVED
        dataset.open_gap.save()
    elif change == "related code renamed":
        dataset.addon.short_descriptor = "Each additional device"
        dataset.addon.save()
    elif change == "brief retired":
        dataset.brief.state = WorkflowState.RETIRED
        dataset.brief.save()
    elif change == "criterion added":
        CoverageCriterionFactory(code=dataset.mitral, payer=PayerFactory(), coverage_status=CoverageStatus.COVERED)
    assert api_client.get(BRIEF, HTTP_IF_NONE_MATCH=etag).status_code == 200


def test_unrelated_and_draft_changes_keep_the_brief_etag(api_client, dataset):
    """Changes another code's brief shows, or drafts nobody may read, leave the brief's ETag alone."""
    etag = _etag(api_client, BRIEF)
    BenchmarkFactory(code=dataset.addon, period="2025 Q1")
    dataset.pending_revision.criteria = "Still a draft"
    dataset.pending_revision.save()
    CoverageCriterionFactory(code=dataset.mitral, payer=PayerFactory(), state=WorkflowState.DRAFT)
    assert api_client.get(BRIEF, HTTP_IF_NONE_MATCH=etag).status_code == 304


def test_list_etag_follows_its_filters_and_rows(api_client, dataset):
    """A list's ETag depends on its query and changes when a listed row changes or disappears."""
    url = "/api/v1/coverage-criteria/"
    etag = _etag(api_client, url, payer="medicare")
    assert _etag(api_client, url, payer="aetna") != etag
    assert api_client.get(url, {"payer": "medicare"}, HTTP_IF_NONE_MATCH=etag).status_code == 304
    dataset.medicare_addon.state = WorkflowState.RETIRED
    dataset.medicare_addon.save()
    response = api_client.get(url, {"payer": "medicare"}, HTTP_IF_NONE_MATCH=etag)
    assert response.status_code == 200
    assert dataset.medicare_addon.pk not in {row["id"] for row in response.json()["results"]}


def test_last_modified_is_the_newest_change_shown(api_client, dataset):
    """Last-Modified moves forward when a row the response shows changes."""
    before = parsedate_to_datetime(api_client.get(BRIEF)["Last-Modified"])
    dataset.aetna_mitral.save()
    after = parsedate_to_datetime(api_client.get(BRIEF)["Last-Modified"])
    assert after == dataset.aetna_mitral.updated_at.replace(microsecond=0)
    assert after >= before


def test_changes_feed_etag_follows_new_changes(api_client, dataset):
    """The changes feed answers 304 until something new is published."""
    url = "/api/v1/changes/?since=2000-01-01T00:00:00Z"
    etag = _etag(api_client, url)
    assert api_client.get(url, HTTP_IF_NONE_MATCH=etag).status_code == 304
    dataset.medicare.website = "https://www.medicare.gov"
    dataset.medicare.save()
    assert api_client.get(url, HTTP_IF_NONE_MATCH=etag).status_code == 200


def test_unknown_object_answers_404_even_with_if_none_match(api_client, dataset):
    """If-None-Match never turns a missing object into a 304."""
    assert api_client.get("/api/v1/codes/99999/", HTTP_IF_NONE_MATCH="*").status_code == 404
