"""Totals that read every matching row (the coverage matrix's codes and payers, each payer's counts on
/payers/, the overview's figures, every reader list's total) are remembered until published data
changes (issue 15): the same answers, without the counts."""

import re
from datetime import UTC, datetime

import pytest
from django.db import connection
from django.db.models import QuerySet
from django.test.utils import CaptureQueriesContext

from codes.models import BillingCode
from policyhub.remembered import remembered
from tests.factories import (
    BillingCodeFactory,
    CoverageCriterionFactory,
    FollowUpGapFactory,
    PayerFactory,
    PolicyDocumentFactory,
)

pytestmark = pytest.mark.django_db


def covered_codes(payer, count):
    for _ in range(count):
        CoverageCriterionFactory(code=BillingCodeFactory(), payer=payer, policy=PolicyDocumentFactory(payer=payer))


def counting_queries(queries) -> list[str]:
    return [query["sql"] for query in queries if "COUNT(" in query["sql"].upper()]


def test_matrix_totals_are_remembered_until_a_change_is_published(reader_client):
    payer = PayerFactory(name="Aetna", slug="aetna")
    covered_codes(payer, 2)
    assert "2 codes × 1 payer" in reader_client.get("/coverage/").content.decode()

    with CaptureQueriesContext(connection) as again:
        html = reader_client.get("/coverage/").content.decode()
    assert "2 codes × 1 payer" in html
    assert counting_queries(again) == []

    covered_codes(payer, 1)  # a published criterion: the change log moves on
    with CaptureQueriesContext(connection) as after_change:
        html = reader_client.get("/coverage/").content.decode()
    assert "3 codes × 1 payer" in html
    assert len(counting_queries(after_change)) == 2  # the codes, the payers


def test_payer_counts_are_remembered_until_a_change_is_published(reader_client):
    payer = PayerFactory(name="Aetna", slug="aetna")
    covered_codes(payer, 2)

    def criteria_count(html: str) -> str:
        row = re.search(r'<a href="/payers/aetna/">Aetna</a>.*?</tr>', html, re.S).group(0)
        return re.findall(r'<td class="num">([^<]*)', row)[1]

    assert criteria_count(reader_client.get("/payers/").content.decode()) == "2"
    with CaptureQueriesContext(connection) as again:
        assert criteria_count(reader_client.get("/payers/").content.decode()) == "2"
    assert counting_queries(again) == []  # the number of payers and the three counts per payer

    covered_codes(payer, 1)
    assert criteria_count(reader_client.get("/payers/").content.decode()) == "3"


def test_overview_and_worklist_totals_are_remembered_until_a_change_is_published(reader_client):
    FollowUpGapFactory()

    def open_gaps(html: str) -> str:
        return re.search(r"<strong>([^<]*)</strong> <span>open follow-up gaps", html).group(1)

    assert open_gaps(reader_client.get("/").content.decode()) == "1"
    assert "1 gap<" in reader_client.get("/gaps/").content.decode()
    with CaptureQueriesContext(connection) as again:
        assert open_gaps(reader_client.get("/").content.decode()) == "1"
        assert "1 gap<" in reader_client.get("/gaps/").content.decode()
    assert counting_queries(again) == []

    FollowUpGapFactory()
    assert open_gaps(reader_client.get("/").content.decode()) == "2"
    assert "2 gaps<" in reader_client.get("/gaps/").content.decode()


def test_a_restored_database_at_the_same_position_is_read_again():
    codes = BillingCode.objects.filter(code="99999")
    before = (7, datetime(2001, 1, 1, tzinfo=UTC))
    assert remembered(codes, QuerySet.count, as_of=before) == 0
    BillingCodeFactory(code="99999")
    # Same position, same moment: the answer read at it.
    assert remembered(codes, QuerySet.count, as_of=before) == 0
    # Same position committed at another moment (a restore, another test's data): read again.
    assert remembered(codes, QuerySet.count, as_of=(7, datetime(2001, 1, 2, tzinfo=UTC))) == 1
    # Nothing logged yet: nothing to tell states apart, so never remembered.
    assert remembered(codes, QuerySet.count, as_of=(0, None)) == 1


def test_a_list_that_matches_nothing_is_answered(reader_client):
    """A page of no payers has no payer to count for (`payer__in=[]`): answered, not an error."""
    PayerFactory(name="Aetna", slug="aetna")
    response = reader_client.get("/payers/?q=no-such-payer")
    assert response.status_code == 200
    assert "0 payers" in response.content.decode()
