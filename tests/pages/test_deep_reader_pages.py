"""Reader pages deep in a list, or sorted otherwise than their model, find their rows by key first
(`RememberedCountPaginator.rows`): every page shows the same rows, in the same order, as the plain
OFFSET gives. The page sizes and the threshold are lowered so that a few dozen rows make pages deep."""

import datetime as dt

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from briefs.views import CodeListView
from payers.choices import GapStatus
from payers.views import CoverageMatrixView, GapWorklistView, PayerListView
from policyhub import paginators
from policyhub.changelog import assign_positions
from policyhub.paginators import RememberedCountPaginator
from tests.factories import BillingCodeFactory, CoverageCriterionFactory, FollowUpGapFactory, PayerFactory
from tests.pages.pagetext import table_rows

pytestmark = pytest.mark.django_db
PAGE_SIZE = 3
SORTED_OTHERWISE = paginators.sorted_otherwise


@pytest.fixture
def many_rows(monkeypatch):
    """Twelve codes with criteria of up to four of eight payers, and gaps; pages of three."""
    payers = [
        PayerFactory(name=name, slug=name.lower(), is_tracked=True) for name in ("Kaiser", "Aetna", "Humana", "Cigna")
    ]
    for n in reversed(range(12)):  # keys in another order than every list's, so a page read by key shows it
        code = BillingCodeFactory(code=f"935{n:02d}")
        for payer in payers[: 1 + n % 4]:
            CoverageCriterionFactory(code=code, payer=payer, effective_end=dt.date(2024, 12, 31))
            CoverageCriterionFactory(code=code, payer=payer, effective_start=dt.date(2025, 1, 1))
        FollowUpGapFactory(code=code, status=(GapStatus.OPEN, GapStatus.IN_PROGRESS, GapStatus.RESOLVED)[n % 3])
        FollowUpGapFactory(code=code, payer=payers[n % 4], status=GapStatus.OPEN, due_date=dt.date(2026, 1, 1 + n))
    for name in ("Wellcare", "Oscar", "Tricare", "Molina"):  # payers without criteria are listed too
        PayerFactory(name=name, slug=name.lower())
    assign_positions()  # what the writers' commit does (PostgreSQL); tests never commit
    for view in (CodeListView, GapWorklistView, PayerListView, CoverageMatrixView):
        monkeypatch.setattr(view, "paginate_by", PAGE_SIZE)


PAGES = [
    ("/codes/", "code-list"),
    ("/codes/?has_open_gaps=true", "code-list"),
    ("/gaps/", "gap-worklist"),
    ("/gaps/?sort=due", "gap-worklist"),
    ("/payers/", "payer-list"),
    ("/coverage/", "coverage-matrix"),
]


def every_page(client, url, table) -> list[list[list[str]]]:
    pages, number = [], 1
    joiner = "&" if "?" in url else "?"
    while True:
        response = client.get(f"{url}{joiner}page={number}")
        assert response.status_code == 200, response.content
        pages.append(table_rows(response.content, table))
        if not response.context["page_obj"].has_next():
            return pages
        number += 1


@pytest.mark.parametrize(("url", "table"), PAGES)
def test_every_page_by_key_is_the_page_offset_gives(reader_client, many_rows, monkeypatch, url, table):
    """Each page, deep or sorted, shows what the plain OFFSET shows; the lists have several pages."""
    monkeypatch.setattr(RememberedCountPaginator, "NARROW_FROM", 10**9)
    monkeypatch.setattr(paginators, "sorted_otherwise", lambda queryset: False)
    by_offset = every_page(reader_client, url, table)
    monkeypatch.setattr(RememberedCountPaginator, "NARROW_FROM", PAGE_SIZE)
    monkeypatch.setattr(paginators, "sorted_otherwise", SORTED_OTHERWISE)
    by_key = every_page(reader_client, url, table)
    assert len(by_offset) >= 3
    assert all(len(rows) > 1 for rows in by_offset)  # a header and at least one row on every page
    assert by_key == by_offset


def test_a_deep_page_skips_its_rows_by_key_alone(reader_client, many_rows, monkeypatch):
    """The statement that walks past the skipped codes selects their key only, not their summaries
    (each code's criteria and open gaps counted: at 1M criteria the last page of /codes/ counted
    20,000 codes', 0.82 s); the page's rows are then read by key."""
    monkeypatch.setattr(RememberedCountPaginator, "NARROW_FROM", PAGE_SIZE)
    with CaptureQueriesContext(connection) as queries:
        assert reader_client.get("/codes/?page=3").status_code == 200
    offsets = [q["sql"] for q in queries.captured_queries if "OFFSET" in q["sql"]]
    assert len(offsets) == 1
    assert offsets[0].startswith('SELECT "codes_billingcode"."id" AS "pk" FROM')
    assert "COUNT(" not in offsets[0]
