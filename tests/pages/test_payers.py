"""Payer pages: the list with counts and filters, and a payer's policy documents and coverage by code."""

from datetime import date

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from payers.choices import CoverageStatus
from payers.models import CoverageCriterion
from policyhub.changelog import assign_positions
from tests.factories import (
    BillingCodeFactory,
    CoverageCriterionFactory,
    FollowUpGapFactory,
    PayerFactory,
    PolicyDocumentFactory,
)
from tests.pages.pagetext import table_rows

pytestmark = pytest.mark.django_db


def test_payer_list_counts_policies_criteria_and_gaps(reader_client, demo):
    """Each payer shows how many policy documents, published criteria and open gaps it has."""
    PolicyDocumentFactory(payer=CoverageCriterion.objects.filter(payer__slug="aetna").first().payer)
    rows = table_rows(reader_client.get("/payers/").content, "payer-list")
    assert rows[0] == ["Payer", "Kind", "Policy documents", "Published criteria", "Open gaps"]
    assert rows[1] == ["Aetna National", "Commercial", "1", "2", "2"]
    assert [row[0].split(" National")[0] for row in rows[1:]] == [
        "Aetna",
        "Blue Cross Blue Shield",
        "Cigna Health",
        "Medicare",
        "UnitedHealthcare",
    ]


def test_payer_list_filters_by_kind_and_name(reader_client, demo):
    """Kind and name filters narrow the payer list."""
    assert [row[0] for row in table_rows(reader_client.get("/payers/?kind=medicare").content, "payer-list")[1:]] == [
        "Medicare National"
    ]
    assert len(table_rows(reader_client.get("/payers/?q=cigna").content, "payer-list")) == 2


def test_payer_page_lists_policies_and_coverage_by_code(reader_client, demo):
    """A payer's page lists its policy documents with dates and its published coverage per code."""
    criterion = CoverageCriterion.objects.get(code__code="93590", payer__slug="medicare")
    criterion.coverage_status = CoverageStatus.COVERED
    criterion.policy = PolicyDocumentFactory(
        payer=criterion.payer, number="L36668", title="Transcatheter closure LCD", next_review="2026-05-01"
    )
    criterion.effective_start, criterion.effective_end = date(2025, 1, 1), date(2025, 12, 31)
    criterion.last_verified = date(2025, 6, 15)
    criterion.save()
    CoverageCriterion.objects.filter(code__code="93592", payer__slug="medicare").update(
        effective_start=date(2024, 7, 1), effective_end=None, last_verified=None
    )
    html = reader_client.get("/payers/medicare/").content

    coverage = table_rows(html, "payer-criteria")
    assert [row[0].split()[0] for row in coverage[1:]] == ["93590", "93592"]
    assert "Covered" in coverage[1][1]
    assert coverage[1][3] == "L36668"
    assert coverage[1][4:] == ["2025-01-01 to 2025-12-31", "2025-06-15"]
    assert coverage[2][4:] == ["From 2024-07-01, open-ended", "—"]
    policies = table_rows(html, "payer-policies")
    assert policies[1][0] == "L36668"
    assert policies[1][1] == "Transcatheter closure LCD"
    assert policies[1][5] == "2026-05-01"


def test_payer_page_row_shows_delegate_end_date_and_the_criteria_start_escaped(reader_client, db):
    """A row with only an end date, a prior-authorization vendor, no source policy and long criteria
    holding markup: the first 40 words, escaped, and the code linking to its coverage section."""
    payer = PayerFactory(slug="aetna", name="Aetna")
    words = " ".join(f"w{n}" for n in range(2, 51))
    CoverageCriterionFactory(
        code=BillingCodeFactory(code="93590", short_descriptor="Transcatheter <mitral> repair"),
        payer=payer,
        effective_end=date(2025, 12, 31),
        prior_auth_delegate="eviCore & partners",
        criteria=f"<b>Bold</b> {words}",
    )
    html = reader_client.get("/payers/aetna/").content.decode()
    row = table_rows(html.encode(), "payer-criteria")[1]
    assert row[0] == "93590 Transcatheter <mitral> repair"
    assert "PA via eviCore & partners" in row[1]
    assert row[2] == f"<b>Bold</b> {' '.join(f'w{n}' for n in range(2, 41))} …"
    assert row[3:] == ["None recorded", "Until 2025-12-31", "—"]
    assert "&lt;b&gt;Bold&lt;/b&gt;" in html and "<b>Bold" not in html
    assert "Transcatheter &lt;mitral&gt; repair" in html and "eviCore &amp; partners" in html
    assert '<a class="code-link" href="/codes/93590/#coverage">93590</a>' in html


def test_unknown_payer_is_not_found(reader_client, demo):
    """A payer slug that does not exist answers 404."""
    assert reader_client.get("/payers/nobody/").status_code == 404


def test_payer_pages_queries_stay_constant(reader_client, db, django_assert_max_num_queries):
    """Payer list and page run the same number of queries however many payers, policies and criteria there are."""
    payer = PayerFactory(slug="big-plan")

    def add(n):
        for _ in range(n):
            other = PayerFactory()
            PolicyDocumentFactory(payer=other)
            FollowUpGapFactory(payer=other)
            CoverageCriterionFactory(payer=payer, policy=PolicyDocumentFactory(payer=payer))
        assign_positions()  # what their commit does (the test's transaction never commits)

    add(2)
    with CaptureQueriesContext(connection) as small_list:
        reader_client.get("/payers/")
    with CaptureQueriesContext(connection) as small_page:
        reader_client.get("/payers/big-plan/")
    add(20)
    # 10, and the change position the counts are remembered at (two queries on PostgreSQL).
    with django_assert_max_num_queries(12), CaptureQueriesContext(connection) as large_list:
        reader_client.get("/payers/")
    with django_assert_max_num_queries(12), CaptureQueriesContext(connection) as large_page:
        reader_client.get("/payers/big-plan/")
    assert len(large_list) == len(small_list)
    assert len(large_page) == len(small_page)
