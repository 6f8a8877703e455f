"""Choosing the payers of the coverage matrix: the tracked ones by default, any others on request, and a CSV
that holds exactly the cells the matrix shows."""

import csv
import io
import re
from html import unescape

import pytest

from payers.models import Payer
from tests.factories import BillingCodeFactory, CoverageCriterionFactory, PayerFactory
from tests.pages.pagetext import page_text, table_rows

pytestmark = pytest.mark.django_db


@pytest.fixture
def payers(db):
    tracked = [PayerFactory(name=name, slug=name.lower(), is_tracked=True) for name in ("Aetna", "Medicare")]
    others = [PayerFactory(name=f"Regional plan {n}", slug=f"regional-plan-{n}", is_tracked=False) for n in range(3)]
    for code in ("93590", "93592"):
        billing_code = BillingCodeFactory(code=code)
        for payer in tracked + others:
            CoverageCriterionFactory(code=billing_code, payer=payer)
    return tracked, others


def header(client, query=""):
    rows = table_rows(client.get(f"/coverage/?{query}").content, "coverage-matrix")
    return rows[0][1:]


def csv_cells(client, html) -> set[tuple[str, str]]:
    href = unescape(re.search(r'href="(/coverage/coverage\.csv[^"]*)"', html).group(1))
    body = b"".join(client.get(href).streaming_content).decode()
    return {(row[0], row[4]) for row in list(csv.reader(io.StringIO(body)))[1:]}


def shown_cells(html) -> set[tuple[str, str]]:
    rows = table_rows(html, "coverage-matrix")
    payers = rows[0][1:]
    return {
        (row[0].split()[0], payer)
        for row in rows[1:]
        for payer, cell in zip(payers, row[1:], strict=True)
        if cell != "—"
    }


def test_tracked_payers_are_the_default_columns(reader_client, payers):
    """Without a choice, the matrix compares the tracked payers and says so."""
    assert header(reader_client) == ["Aetna", "Medicare"]
    assert "the tracked payers; pick others under Filters" in page_text(reader_client.get("/coverage/").content)


def test_reader_picks_payers_to_compare(reader_client, payers):
    """Ticking payers shows exactly those columns; clearing every payer shows them all."""
    assert header(reader_client, "filtered=1&payer=medicare&payer=regional-plan-1") == ["Medicare", "Regional plan 1"]
    assert len(header(reader_client, "filtered=1")) == Payer.objects.count()


def test_the_payer_picker_offers_every_payer_with_the_tracked_ones_ticked(reader_client, payers):
    html = reader_client.get("/coverage/").content.decode()
    ticked = re.findall(r'<input type="checkbox" name="payer" value="([^"]+)"[^>]*checked', html)
    assert sorted(ticked) == ["aetna", "medicare"]
    assert html.count('name="payer"') == Payer.objects.count()


@pytest.mark.parametrize("query", ["", "filtered=1&payer=regional-plan-0&payer=aetna", "filtered=1"])
def test_csv_holds_exactly_the_cells_shown(reader_client, payers, query):
    html = reader_client.get(f"/coverage/?{query}").content.decode()
    assert csv_cells(reader_client, html) == shown_cells(html)
    assert shown_cells(html)
