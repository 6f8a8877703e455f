"""The changes feed lists published changes since a time, for incremental sync."""

import pytest
from django.urls import resolve
from django.utils import timezone

from briefs.api.changes import RESOURCES
from codes.models import SiteOfService
from payers.choices import CoverageStatus
from policyhub.choices import WorkflowState
from tests.factories import CoverageCriterionFactory

pytestmark = pytest.mark.django_db

FEED = "/api/v1/changes/"


@pytest.fixture
def since(dataset):
    """A time after the dataset was created: only what tests change afterwards is new."""
    return timezone.now().isoformat()


def _changes(client, since, **params) -> list[tuple]:
    response = client.get(FEED, {"since": since, "page_size": 500, **params})
    assert response.status_code == 200, response.json()
    return [(row["model"], row["key"], row["action"]) for row in response.json()["results"]]


def test_feed_lists_published_changes_oldest_first(api_client, dataset, since):
    """A newly published criterion, then an edited payer, appear in that order with their keys."""
    criterion = CoverageCriterionFactory(code=dataset.addon, payer=dataset.aetna)
    dataset.medicare.website = "https://www.medicare.gov"
    dataset.medicare.save()
    response = api_client.get(FEED, {"since": since})
    rows = response.json()["results"]
    assert [(r["model"], r["key"], r["action"]) for r in rows] == [
        ("coverage-criteria", str(criterion.pk), "created"),
        ("payers", "medicare", "updated"),
    ]
    assert rows[0]["billing_code"] == "93592"
    assert rows[0]["url"].endswith(f"/api/v1/coverage-criteria/{criterion.pk}/")
    assert rows[0]["time"] <= rows[1]["time"]


def test_everything_since_the_beginning_covers_the_dataset(api_client, dataset):
    """Asked from long ago, the feed names every published row of the dataset and no draft."""
    changes = _changes(api_client, "2000-01-01T00:00:00Z")
    keys = {(model, key) for model, key, _ in changes}
    assert ("coverage-criteria", str(dataset.aetna_mitral.pk)) in keys
    assert ("codes", "93590") in keys
    assert ("diagnosis-codes", "T82857A") in keys
    for draft in (dataset.draft_coverage, dataset.pending_revision):
        assert ("coverage-criteria", str(draft.pk)) not in keys
    assert ("documentation-requirements", str(dataset.draft_doc.pk)) not in keys


def test_drafts_never_appear_until_published(api_client, dataset, since):
    """Work on a draft is invisible; publishing it appears as an update to fetch."""
    draft = CoverageCriterionFactory(code=dataset.addon, payer=dataset.aetna, state=WorkflowState.DRAFT)
    draft.criteria = "Work in progress"
    draft.save()
    dataset.pending_revision.criteria = "Reworded"
    dataset.pending_revision.save()
    assert _changes(api_client, since) == []
    draft.state = WorkflowState.PUBLISHED
    draft.save()
    assert _changes(api_client, since) == [("coverage-criteria", str(draft.pk), "updated")]


def test_retired_and_deleted_rows_appear_as_deletions(api_client, dataset, since):
    """Retiring a criterion or deleting a gap tells clients to drop them, with no URL."""
    dataset.medicare_addon.state = WorkflowState.RETIRED
    dataset.medicare_addon.save()
    gap_key = str(dataset.resolved_gap.pk)
    dataset.resolved_gap.delete()
    response = api_client.get(FEED, {"since": since})
    rows = response.json()["results"]
    assert [(r["model"], r["key"], r["action"], r["url"]) for r in rows] == [
        ("coverage-criteria", str(dataset.medicare_addon.pk), "deleted", None),
        ("gaps", gap_key, "deleted", None),
    ]


def test_brief_sections_are_reported_as_changes_of_the_code(api_client, dataset, since):
    """Brief text, sites and related codes belong to the code: the feed says the code changed."""
    dataset.brief.lead = "A new lead"
    dataset.brief.save()
    SiteOfService.objects.filter(code=dataset.mitral).delete()
    relationship = dataset.addon.relationships_from.get()
    relationship.note = "Report with the primary code"
    relationship.save()
    assert _changes(api_client, since) == [
        ("codes", "93590", "updated"),
        ("codes", "93590", "updated"),
        ("codes", "93590", "updated"),
        ("codes", "93592", "updated"),
    ]


def test_until_and_model_narrow_the_feed(api_client, dataset, since):
    """`until` stops at a time and `model` keeps the named resources."""
    CoverageCriterionFactory(code=dataset.addon, payer=dataset.aetna, coverage_status=CoverageStatus.COVERED)
    middle = timezone.now().isoformat()
    dataset.aetna.name = "Aetna Inc."
    dataset.aetna.save()
    assert [model for model, _, _ in _changes(api_client, since, until=middle)] == ["coverage-criteria"]
    assert [model for model, _, _ in _changes(api_client, since, model="payers")] == ["payers"]
    assert _changes(api_client, middle, model=["codes", "gaps"]) == []


@pytest.mark.parametrize(
    ("params", "parameter"),
    [
        ({}, "since"),
        ({"since": "last week"}, "since"),
        ({"since": "2025-01-02T00:00:00Z", "until": "2025-01-01T00:00:00Z"}, "until"),
        ({"since": "2025-01-01T00:00:00Z", "model": "widgets"}, "model"),
    ],
)
def test_bad_parameters_answer_400(api_client, dataset, params, parameter):
    """A missing or invalid parameter answers 400 naming it."""
    response = api_client.get(FEED, params)
    assert response.status_code == 400
    assert parameter in response.json()["errors"]


def test_feed_pages_in_a_stable_order(api_client, dataset):
    """Following `next` lists each change once."""
    rows, url = [], f"{FEED}?since=2000-01-01T00:00:00Z&page_size=7"
    while url:
        body = api_client.get(url).json()
        rows += [(r["time"], r["model"], r["key"]) for r in body["results"]]
        url = body["next"]
    assert rows == sorted(rows)
    assert len(rows) == api_client.get(FEED, {"since": "2000-01-01T00:00:00Z"}).json()["count"]


def test_every_resource_the_feed_reports_is_a_detail_route_of_the_router():
    """A change's `url` is `<router root><model>/<key>/`: each model must be a router prefix with a detail view."""
    for resource in RESOURCES:
        match = resolve(f"/api/v1/{resource}/A0021/")
        assert match.url_name.endswith("-detail"), resource
