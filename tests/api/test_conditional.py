"""Conditional requests: ETag and Last-Modified on lists and details; If-None-Match answers 304."""

from datetime import timedelta
from email.utils import parsedate_to_datetime

import pytest
from django.core.cache import caches
from django.db import connection
from django.db.models import F
from django.test.utils import CaptureQueriesContext

from payers.choices import CoverageStatus, GapStatus
from policyhub.changelog import ChangeLogEntry
from policyhub.choices import WorkflowState
from policyhub.filtersets import BaseFilterSet
from tests.api.helpers import RESOURCES, detail_url, list_url
from tests.factories import CoverageCriterionFactory, PayerFactory

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
    yield "/api/v1/changes/?after=0"


def test_every_list_and_detail_carries_validators(api_client, dataset):
    """Each list and detail answers with a weak ETag, Last-Modified and 'revalidate, do not share'."""
    for url in _urls(dataset):
        response = api_client.get(url)
        assert response["ETag"].startswith('W/"'), url
        assert "private" in response["Cache-Control"]
        assert "no-cache" in response["Cache-Control"]
        assert response["Last-Modified"].endswith("GMT"), url
        assert int(response["X-Change-Position"]) > 0


def test_matching_etag_answers_304_without_a_body(api_client, dataset):
    """Sending the ETag back as If-None-Match answers 304 with no body, on every list and detail."""
    for url in _urls(dataset):
        etag = _etag(api_client, url)
        response = api_client.get(url, HTTP_IF_NONE_MATCH=etag)
        assert response.status_code == 304, url
        assert response.content == b""
        assert response["ETag"] == etag


def test_304_costs_a_few_indexed_lookups_and_serialises_nothing(api_client, dataset):
    """A 304 for the whole brief costs the token lookup, the read check, the code's existence and
    the newest change-log entry, whatever the brief holds."""
    etag = _etag(api_client, BRIEF)
    caches["answers"].clear()  # a brief built, not one kept from the request above
    with CaptureQueriesContext(connection) as full:
        api_client.get(BRIEF)
    with CaptureQueriesContext(connection) as not_modified:
        assert api_client.get(BRIEF, HTTP_IF_NONE_MATCH=etag).status_code == 304
    not_data = ("policyhub_requestcount", "policyhub_cache", "SAVEPOINT")  # the throttle's count, the cache's
    data_queries = [query for query in not_modified if not any(part in query["sql"] for part in not_data)]
    assert len(data_queries) <= 5
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


def test_draft_changes_keep_the_brief_etag(api_client, dataset):
    """Drafts nobody may read leave the brief's ETag alone: they write nothing to the change log."""
    payer = PayerFactory()
    etag = _etag(api_client, BRIEF)
    dataset.pending_revision.criteria = "Still a draft"
    dataset.pending_revision.save()
    CoverageCriterionFactory(code=dataset.mitral, payer=payer, state=WorkflowState.DRAFT)
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


def test_last_modified_is_when_the_newest_change_committed(api_client, dataset):
    """Last-Modified moves forward to the commit time of the newest change."""
    before = parsedate_to_datetime(api_client.get(BRIEF)["Last-Modified"])
    dataset.aetna_mitral.save()
    after = parsedate_to_datetime(api_client.get(BRIEF)["Last-Modified"])
    newest = ChangeLogEntry.objects.order_by("-position").first()
    assert (newest.resource, newest.key) == ("coverage-criteria", str(dataset.aetna_mitral.pk))
    assert after == newest.positioned_at.replace(microsecond=0)
    assert after >= before


def test_if_modified_since_answers_304_until_a_change(api_client, dataset):
    """Sending Last-Modified back as If-Modified-Since answers 304 until something is published."""
    for url in _urls(dataset):
        last_modified = api_client.get(url)["Last-Modified"]
        response = api_client.get(url, HTTP_IF_MODIFIED_SINCE=last_modified)
        assert response.status_code == 304, url
        assert response.content == b""
    ChangeLogEntry.objects.update(positioned_at=F("positioned_at") - timedelta(seconds=5))
    last_modified = api_client.get(BRIEF)["Last-Modified"]
    dataset.aetna.save()
    assert api_client.get(BRIEF, HTTP_IF_MODIFIED_SINCE=last_modified).status_code == 200


@pytest.mark.parametrize(
    "url", ["/api/v1/codes/?cursor=forged", "/api/v1/codes/?status=nope", "/api/v1/codes/?page_size=x"]
)
def test_star_never_hides_a_bad_parameter(api_client, dataset, url):
    """`If-None-Match: *` answers 304 only where the full answer is a 200: bad parameters stay 400."""
    response = api_client.get(url, HTTP_IF_NONE_MATCH="*")
    assert response.status_code == 400
    assert response.json()["code"] == "invalid"


def test_changes_feed_etag_follows_new_changes(api_client, dataset):
    """The changes feed answers 304 until something new is published."""
    url = "/api/v1/changes/?after=0"
    etag = _etag(api_client, url)
    assert api_client.get(url, HTTP_IF_NONE_MATCH=etag).status_code == 304
    dataset.medicare.website = "https://www.medicare.gov"
    dataset.medicare.save()
    assert api_client.get(url, HTTP_IF_NONE_MATCH=etag).status_code == 200


def test_unknown_object_answers_404_even_with_if_none_match(api_client, dataset):
    """If-None-Match never turns a missing object into a 304."""
    assert api_client.get("/api/v1/codes/99999/", HTTP_IF_NONE_MATCH="*").status_code == 404


def test_brief_answer_is_kept_until_published_data_changes(api_client, dataset):
    """A code's brief is built once per change position: asked again, the same body comes from the
    cache without the brief's queries; after a published change the new body is built and kept."""
    first = api_client.get(BRIEF)
    with CaptureQueriesContext(connection) as again:
        second = api_client.get(BRIEF)
    assert second.json() == first.json()
    assert second["ETag"] == first["ETag"]
    assert not any("payers_coveragecriterion" in query["sql"] for query in again.captured_queries)
    # Kept in the process's own cache, not the shared one that holds the throttle's counts.
    assert not any("api-answer" in query["sql"] for query in again.captured_queries)
    dataset.aetna.name = "Aetna Inc."
    dataset.aetna.save()
    changed = api_client.get(BRIEF).json()
    assert {row["payer"]["name"] for row in changed["coverage"]} >= {"Aetna Inc."}
    assert api_client.get(BRIEF).json() == changed


def test_kept_brief_holds_its_answer_not_the_rows_it_was_built_from(api_client, dataset):
    """A kept brief costs about its own JSON in memory: DRF's links hold the model instance they
    were made from (for the code, its whole prefetched brief), and kept as they were they made the
    entry many times larger, and pickling them cost some 6 ms of a 40 ms brief."""
    caches["answers"].clear()
    body = api_client.get(BRIEF).content
    kept = caches["answers"]
    # LocMemCache keeps pickled values.
    [entry] = kept._cache.values()
    assert len(entry) < 1.5 * len(body)
    assert b"django.db.models" not in entry


def test_kept_brief_links_follow_the_address_asked(api_client, dataset):
    """The brief's links are absolute: a body kept for one address is not served to another."""
    plain = api_client.get(BRIEF).json()
    secure = api_client.get(BRIEF, secure=True).json()
    assert plain["coverage"][0]["url"].startswith("http://")
    assert secure["coverage"][0]["url"].startswith("https://")


def test_code_list_pages_are_read_each_time(api_client, dataset):
    """Only a code's brief is kept: a sync walks each list page once, so pages are not kept."""
    api_client.get("/api/v1/codes/")
    with CaptureQueriesContext(connection) as again:
        api_client.get("/api/v1/codes/")
    assert any("codes_billingcode" in query["sql"] for query in again.captured_queries)
    assert not any("api-answer" in query["sql"] for query in again.captured_queries)


def test_304_without_a_query_string_builds_no_filterset(api_client, dataset, monkeypatch):
    """Nothing to validate, nothing built: a poller's 304 of a first page or a brief skips the
    FilterSet (its form and filters), and a query string still has every parameter checked first."""
    built = []
    original = BaseFilterSet.__init__

    def counting(self, *args, **kwargs):
        built.append(type(self).__name__)
        original(self, *args, **kwargs)

    monkeypatch.setattr(BaseFilterSet, "__init__", counting)
    url = "/api/v1/coverage-criteria/"
    for plain_url in (url, BRIEF):
        etag = _etag(api_client, plain_url)
        built.clear()
        assert api_client.get(plain_url, HTTP_IF_NONE_MATCH=etag).status_code == 304
        assert built == []
    assert api_client.get(url, {"effective_on": "soon"}, HTTP_IF_NONE_MATCH="*").status_code == 400
    assert built
