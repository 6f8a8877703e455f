"""Deep page numbers found from checkpoints instead of a long OFFSET (issue 15): every page is the
same rows, in the same order, with the same JSON, as the plain OFFSET gives; only the way the
database reaches it changes. The thresholds are lowered so that a few dozen rows make pages "deep"."""

import datetime as dt
import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from payers.choices import GapStatus
from policyhub import paginators
from policyhub.changelog import assign_positions
from policyhub.paginators import CappedCountPaginator
from tests.factories import (
    BillingCodeFactory,
    CoverageCriterionFactory,
    DocumentationRequirementFactory,
    FollowUpGapFactory,
    PayerFactory,
)

pytestmark = pytest.mark.django_db
CRITERIA = "/api/v1/coverage-criteria/"
PAGE_SIZE = 3
SORTED_OTHERWISE = paginators.sorted_otherwise


@pytest.fixture
def many_rows():
    """Criteria over nine codes and four payers, some with two periods; requirements and gaps."""
    payers = [PayerFactory(name=name, slug=name.lower()) for name in ("Aetna", "Cigna", "Humana", "Medicare")]
    codes = [BillingCodeFactory(code=f"9359{n}") for n in range(9)]
    for i, code in enumerate(codes):
        for j, payer in enumerate(payers[: 1 + i % 4]):
            CoverageCriterionFactory(code=code, payer=payer, effective_end=dt.date(2024, 12, 31))
            if (i + j) % 3 == 0:
                CoverageCriterionFactory(code=code, payer=payer, effective_start=dt.date(2025, 1, 1))
        for kind in ("imaging", "operative"):
            DocumentationRequirementFactory(code=code, kind=kind, payer=payers[i % 4])
        FollowUpGapFactory(code=code, status=(GapStatus.OPEN, GapStatus.IN_PROGRESS, GapStatus.RESOLVED)[i % 3])
    assign_positions()  # what the writers' commit does (PostgreSQL); tests never commit


def every_page(client, url, params) -> list[dict]:
    bodies, page = [], 1
    while True:
        response = client.get(url, {**params, "page": page, "page_size": PAGE_SIZE})
        if response.status_code == 404:
            return bodies
        assert response.status_code == 200, response.content
        bodies.append(response.json())
        page += 1


def offset_answers(client, url, params, monkeypatch) -> list[dict]:
    monkeypatch.setattr(CappedCountPaginator, "SEEK_FROM", 10**9)
    monkeypatch.setattr(CappedCountPaginator, "NARROW_FROM", 10**9)
    monkeypatch.setattr(paginators, "sorted_otherwise", lambda queryset: False)
    return every_page(client, url, params)


def seeking(monkeypatch, exact_up_to=None):
    """Deep pages from checkpoints; where a list cannot be sought (a reader's `?ordering=`), by key."""
    monkeypatch.setattr(CappedCountPaginator, "SEEK_FROM", PAGE_SIZE)
    monkeypatch.setattr(CappedCountPaginator, "NARROW_FROM", PAGE_SIZE)
    monkeypatch.setattr(paginators, "sorted_otherwise", SORTED_OTHERWISE)
    monkeypatch.setattr(paginators, "CHECKPOINT_EVERY", 4)
    if exact_up_to is not None:
        monkeypatch.setattr(CappedCountPaginator, "EXACT_UP_TO", exact_up_to)


@pytest.mark.parametrize(
    ("url", "params"),
    [
        (CRITERIA, {}),
        (CRITERIA, {"payer": "cigna"}),
        (CRITERIA, {"effective_on": "2025-06-01"}),
        (CRITERIA, {"ordering": "-effective_start"}),
        ("/api/v1/documentation-requirements/", {}),
        ("/api/v1/gaps/", {}),
    ],
)
def test_deep_pages_answer_exactly_what_offset_answers(api_client, many_rows, monkeypatch, url, params):
    expected = offset_answers(api_client, url, params, monkeypatch)
    assert len(expected) >= 3
    seeking(monkeypatch)
    assert every_page(api_client, url, params) == expected


@pytest.mark.skipif(connection.vendor != "postgresql", reason="counts are estimated on PostgreSQL only")
def test_deep_pages_of_an_estimated_count_answer_what_offset_answers(api_client, many_rows, monkeypatch):
    """Past the count cap the pages run until one is empty: that holds when they are sought."""
    monkeypatch.setattr(CappedCountPaginator, "EXACT_UP_TO", 5)
    expected = offset_answers(api_client, CRITERIA, {}, monkeypatch)
    seeking(monkeypatch, exact_up_to=5)
    assert every_page(api_client, CRITERIA, {}) == expected


def test_a_deep_page_starts_from_a_checkpoint_not_from_the_first_row(api_client, many_rows, monkeypatch):
    """The page's statement skips fewer rows than come before the page: it starts from a code."""
    seeking(monkeypatch)
    api_client.get(CRITERIA, {"page": 9, "page_size": PAGE_SIZE})  # the checkpoints, read once
    with CaptureQueriesContext(connection) as queries:
        response = api_client.get(CRITERIA, {"page": 9, "page_size": PAGE_SIZE})
    assert response.status_code == 200
    (page_sql,) = [query["sql"] for query in queries if "LIMIT 3" in query["sql"]]
    skipped = re.search(r"OFFSET (\d+)", page_sql)
    assert int(skipped.group(1) if skipped else 0) < 8 * PAGE_SIZE
    assert ">=" in page_sql


def test_deep_pages_follow_a_newly_published_criterion(api_client, many_rows, monkeypatch):
    """Checkpoints are read again once published data changes: a criterion of the first code
    moves every later row one place on, on every page."""
    seeking(monkeypatch)
    before = every_page(api_client, CRITERIA, {})
    CoverageCriterionFactory(code=BillingCodeFactory(code="93589"), payer=PayerFactory(slug="aetna"))
    assign_positions()
    after = every_page(api_client, CRITERIA, {})
    rows_before = [row["id"] for body in before for row in body["results"]]
    rows_after = [row["id"] for body in after for row in body["results"]]
    assert rows_after[1:] == rows_before
    assert after == offset_answers(api_client, CRITERIA, {}, monkeypatch)


def test_lists_that_cannot_be_sought_are_read_with_offset():
    """A reader's own sort, or a unique leading column (one row per checkpoint value)."""
    from payers.models import CoverageCriterion, Payer

    criteria = CoverageCriterion.objects.all()
    assert paginators.leading_column(criteria) == "code__code"
    assert paginators.leading_column(criteria.order_by("-code__code", "id")) is None  # not the model's own sort
    assert paginators.leading_column(criteria.order_by("effective_start")) is None
    assert paginators.leading_column(Payer.objects.all()) is None  # `name` is unique
