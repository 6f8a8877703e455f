"""The coverage matrix with many payers (issue 15): payer columns come a page at a time, and the
CSV is written in code order chunk by chunk."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from payers.selectors import coverage_in_force
from payers.views import CoverageMatrixView, in_code_order
from tests.factories import BillingCodeFactory, CoverageCriterionFactory, PayerFactory, PolicyDocumentFactory
from tests.pages.pagetext import table_rows

pytestmark = pytest.mark.django_db


def test_payer_columns_come_a_page_at_a_time(reader_client):
    """30 payers: the first 25 by name as columns, the other 5 on the next payer page."""
    code = BillingCodeFactory()
    payers = sorted((PayerFactory(name=f"Plan {n:02d}") for n in range(30)), key=lambda payer: payer.name)
    for payer in payers:
        CoverageCriterionFactory(code=code, payer=payer)
    assert CoverageMatrixView.payers_per_page == 25
    first = reader_client.get("/coverage/")
    header = table_rows(first.content, "coverage-matrix")[0]
    assert header == ["Code", *(payer.name for payer in payers[:25])]
    assert "Payers 1–25 of 30" in first.content.decode()
    second = reader_client.get("/coverage/?payer_page=2")
    assert table_rows(second.content, "coverage-matrix")[0] == ["Code", *(payer.name for payer in payers[25:])]
    assert len(table_rows(second.content, "coverage-matrix")[1]) == 1 + 5


def test_csv_order_is_the_same_read_in_chunks(db):
    """Reading a few codes at a time gives exactly the order of one global sort."""
    payers = [PayerFactory(name=name) for name in ("Zeta", "Alpha", "Mid")]
    for code in [BillingCodeFactory() for _ in range(7)]:
        for payer in payers:
            CoverageCriterionFactory(code=code, payer=payer)
    criteria = coverage_in_force(timezone.localdate())
    expected = list(criteria.order_by("code__code", "payer__name", "-effective_start"))
    assert list(in_code_order(criteria, codes_per_query=2)) == expected
    assert len(expected) == 21


def test_payer_columns_probe_only_the_chosen_payers(reader_client, db):
    """The criteria are narrowed to the chosen payers' keys; the payer columns say so too, so the
    database probes those payers' criteria only (one untracked payer's criteria were read in full for
    each: 100 ms on the 1M data set)."""
    tracked, untracked = PayerFactory(name="Aetna", slug="aetna"), PayerFactory(name="Cigna", is_tracked=False)
    for payer in (tracked, untracked):
        CoverageCriterionFactory(payer=payer, policy=PolicyDocumentFactory(payer=payer))
    with CaptureQueriesContext(connection) as queries:
        html = reader_client.get("/coverage/").content.decode()
    assert "1 code × 1 payer" in html
    columns = [q["sql"] for q in queries if q["sql"].startswith('SELECT "payers_payer"."id"') and "EXISTS" in q["sql"]]
    assert columns
    assert all(f'"payers_payer"."id" IN ({tracked.pk})' in sql for sql in columns)
