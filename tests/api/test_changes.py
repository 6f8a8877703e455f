"""The changes feed: the change log of published data, in commit order, after a position."""

import pytest
from django.http import QueryDict
from django.urls import resolve
from django.utils import timezone

from codes.models import SiteOfService
from payers.choices import CoverageStatus
from policyhub.api_changes import RESOURCES, ChangeQuerySerializer, _plain_parameters
from policyhub.choices import WorkflowState
from tests.factories import CoverageCriterionFactory

pytestmark = pytest.mark.django_db

FEED = "/api/v1/changes/"


@pytest.fixture
def after(api_client, dataset) -> int:
    """The change position once the dataset exists: only what tests change afterwards comes after it."""
    return api_client.get(FEED).json()["change_position"]


def _changes(client, after, **params) -> list[tuple]:
    response = client.get(FEED, {"after": after, "page_size": 500, **params})
    assert response.status_code == 200, response.json()
    return [(row["resource"], row["key"], row["action"]) for row in response.json()["results"]]


def test_feed_lists_published_changes_in_commit_order(api_client, dataset, after):
    """A newly published criterion, then an edited payer, appear in that order with their keys."""
    criterion = CoverageCriterionFactory(code=dataset.addon, payer=dataset.aetna)
    dataset.medicare.website = "https://www.medicare.gov"
    dataset.medicare.save()
    response = api_client.get(FEED, {"after": after})
    rows = response.json()["results"]
    assert [(r["resource"], r["key"], r["action"]) for r in rows[:2]] == [
        ("coverage-criteria", str(criterion.pk), "upserted"),
        ("payers", "medicare", "upserted"),
    ]
    # Rows that show the payer's name changed with it: the criteria, policies and gaps of medicare.
    shown = {(r["resource"], r["key"]) for r in rows[2:]}
    assert ("coverage-criteria", str(dataset.medicare_addon.pk)) in shown
    assert ("coverage-criteria", str(criterion.pk)) not in shown
    assert rows[0]["billing_code"] == "93592"
    assert rows[0]["url"].endswith(f"/api/v1/coverage-criteria/{criterion.pk}/")
    assert rows[0]["position"] < rows[1]["position"] < rows[-1]["position"] == response.json()["change_position"]
    assert response["X-Change-Position"] == str(rows[-1]["position"])


def test_everything_from_the_beginning_covers_the_dataset(api_client, dataset):
    """From position 0, the feed names every published row of the dataset and no draft."""
    changes = _changes(api_client, 0)
    keys = {(resource, key) for resource, key, _ in changes}
    assert ("coverage-criteria", str(dataset.aetna_mitral.pk)) in keys
    assert ("codes", "93590") in keys
    assert ("diagnosis-codes", "T82857A") in keys
    for draft in (dataset.draft_coverage, dataset.pending_revision):
        assert ("coverage-criteria", str(draft.pk)) not in keys
    assert ("documentation-requirements", str(dataset.draft_doc.pk)) not in keys


def test_drafts_never_appear_until_published(api_client, dataset, after):
    """Work on a draft is invisible; publishing it appears as an upsert to fetch."""
    draft = CoverageCriterionFactory(code=dataset.addon, payer=dataset.aetna, state=WorkflowState.DRAFT)
    draft.criteria = "Work in progress"
    draft.save()
    dataset.pending_revision.criteria = "Reworded"
    dataset.pending_revision.save()
    assert _changes(api_client, after) == []
    draft.state = WorkflowState.PUBLISHED
    draft.save()
    assert _changes(api_client, after) == [("coverage-criteria", str(draft.pk), "upserted")]


def test_retired_and_deleted_rows_appear_as_removals(api_client, dataset, after):
    """Retiring a criterion or deleting a gap tells clients to drop them, with no URL."""
    dataset.medicare_addon.state = WorkflowState.RETIRED
    dataset.medicare_addon.save()
    gap_key = str(dataset.resolved_gap.pk)
    dataset.resolved_gap.delete()
    response = api_client.get(FEED, {"after": after})
    rows = response.json()["results"]
    assert [(r["resource"], r["key"], r["action"], r["url"]) for r in rows] == [
        ("coverage-criteria", str(dataset.medicare_addon.pk), "removed", None),
        ("gaps", gap_key, "removed", None),
    ]


def test_brief_sections_are_reported_as_changes_of_the_code(api_client, dataset, after):
    """Brief text, sites and related codes belong to the code: the feed says the code changed."""
    dataset.brief.lead = "A new lead"
    dataset.brief.save()
    SiteOfService.objects.filter(code=dataset.mitral).delete()
    relationship = dataset.addon.relationships_from.get()
    relationship.note = "Report with the primary code"
    relationship.save()
    changes = _changes(api_client, after)
    assert changes[0] == ("codes", "93590", "upserted")
    assert set(changes) == {("codes", "93590", "upserted"), ("codes", "93592", "upserted")}


def test_since_and_resource_narrow_the_feed(api_client, dataset, after):
    """`since` starts at a commit time and `resource` keeps the named resources."""
    start = timezone.now().isoformat()
    CoverageCriterionFactory(code=dataset.addon, payer=dataset.aetna, coverage_status=CoverageStatus.COVERED)
    dataset.aetna.name = "Aetna Inc."
    dataset.aetna.save()
    response = api_client.get(FEED, {"since": start})
    assert [row["resource"] for row in response.json()["results"]][:2] == ["coverage-criteria", "payers"]
    assert [resource for resource, _, _ in _changes(api_client, after, resource="payers")] == ["payers"]
    assert _changes(api_client, after, resource=["codes", "modifiers"]) == []


@pytest.mark.parametrize(
    ("params", "parameter"),
    [
        ({"after": "last"}, "after"),
        ({"after": "-1"}, "after"),
        ({"since": "last week"}, "since"),
        ({"since": "2025-01-02T00:00:00Z", "after": "3"}, "since"),
        ({"resource": "widgets"}, "resource"),
        ({"page_size": "0"}, "page_size"),
    ],
)
def test_bad_parameters_answer_400(api_client, dataset, params, parameter):
    """An invalid parameter answers 400 naming it, even under `If-None-Match: *`."""
    for headers in ({}, {"If-None-Match": "*"}):
        response = api_client.get(FEED, params, headers=headers)
        assert response.status_code == 400
        assert parameter in response.json()["errors"]


@pytest.mark.parametrize(
    "query",
    [
        "after=5&page_size=100",
        "",
        "resource=codes&resource=payers&after=3",
        "after=01",
        "page_size=0",
        "after=-1",
        "after=1.0",
        "after=5&after=6",
        "resource=widgets",
        "after=" + "9" * 30,
        "since=2025-01-02T00:00:00Z",
    ],
)
def test_the_usual_parameters_are_read_as_the_serializer_reads_them(query):
    """The feed reads what a syncing client sends every time without its serializer (docs/bench.md);
    what it reads that way means what `ChangeQuerySerializer` makes of it, and anything else, wrong
    values included, goes to the serializer, which explains what is wrong."""
    plain = _plain_parameters(QueryDict(query))
    checked = ChangeQuerySerializer(data=QueryDict(query))
    assert plain is None or (checked.is_valid() and plain == checked.validated_data)


def test_feed_pages_each_change_once_in_position_order(api_client, dataset):
    """Following `next` lists each change once, by position, up to the position of the first page."""
    rows, url = [], f"{FEED}?page_size=7"
    while url:
        body = api_client.get(url).json()
        rows += [r["position"] for r in body["results"]]
        url = body["next"]
    assert rows == sorted(set(rows))
    assert rows[-1] == body["change_position"]


def test_every_resource_the_feed_reports_is_a_detail_route_of_the_router():
    """An entry's `url` is `<router root><resource>/<key>/`: each resource must be a router detail route."""
    assert "diagnosis-codes" in RESOURCES
    for resource in RESOURCES:
        match = resolve(f"/api/v1/{resource}/A0021/")
        assert match.url_name.endswith("-detail"), resource
