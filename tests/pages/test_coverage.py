"""The coverage matrix: codes x payers with status and prior-authorization badges, filters, CSV of what is shown."""

import csv
import io
from functools import partial

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from payers import views
from payers.choices import CoverageStatus, PriorAuth
from payers.models import CoverageCriterion
from payers.views import CoverageCsvView
from policyhub.changelog import assign_positions
from policyhub.choices import WorkflowState
from tests.factories import BillingCodeFactory, CoverageCriterionFactory, PayerFactory, PolicyDocumentFactory
from tests.pages.pagetext import table_rows

pytestmark = pytest.mark.django_db

DEMO_PAYERS = ["Aetna", "Blue Cross Blue Shield", "Cigna Health", "Medicare", "UnitedHealthcare"]


def matrix(client, query=""):
    response = client.get(f"/coverage/?{query}")
    assert response.status_code == 200
    return table_rows(response.content, "coverage-matrix")


def download(client, query=""):
    response = client.get(f"/coverage/coverage.csv?{query}")
    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"].startswith('attachment; filename="policyhub-coverage-')
    return list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode())))


@pytest.fixture
def aetna_covers_93590(demo):
    criterion = CoverageCriterion.objects.get(code__code="93590", payer__slug="aetna")
    criterion.coverage_status = CoverageStatus.COVERED_WITH_CRITERIA
    criterion.prior_auth = PriorAuth.REQUIRED
    criterion.policy = PolicyDocumentFactory(payer=criterion.payer, number="CPB 0826")
    criterion.save()


def test_matrix_shows_codes_by_payers_with_badges(reader_client, aetna_covers_93590):
    """Each published code/payer pair is a cell with its coverage status and prior-authorization badge."""
    rows = matrix(reader_client)
    assert rows[0] == ["Code", *DEMO_PAYERS]
    assert [row[0].split()[0] for row in rows[1:]] == ["93590", "93592"]
    assert rows[1][1] == "Covered with criteria PA: Required CPB 0826"
    assert rows[1][2] == "Unknown PA: Unknown"


def test_matrix_filters_by_category_payer_kind_and_status(reader_client, aetna_covers_93590):
    """Category, payer kind and coverage status narrow rows and columns to what matches."""
    assert matrix(reader_client, "payer_kind=medicare")[0] == ["Code", "Medicare"]
    covered = matrix(reader_client, "coverage_status=covered_with_criteria")
    assert covered[0] == ["Code", "Aetna"]
    assert [row[0].split()[0] for row in covered[1:]] == ["93590"]
    assert matrix(reader_client, "category=Cardiovascular+/+structural+heart")[0] == ["Code", *DEMO_PAYERS]
    assert matrix(reader_client, "category=Dermatology") == []


def test_drafts_and_criteria_not_in_force_stay_out(reader_client, db):
    """Only published criteria in force today are shown."""
    code = BillingCodeFactory()
    CoverageCriterionFactory(code=code, payer=PayerFactory(name="Draft Plan"), state=WorkflowState.DRAFT)
    CoverageCriterionFactory(code=code, payer=PayerFactory(name="Ended Plan"), effective_end="2000-01-01")
    CoverageCriterionFactory(code=code, payer=PayerFactory(name="Current Plan"))
    assert matrix(reader_client)[0] == ["Code", "Current Plan"]


def test_csv_holds_what_the_matrix_shows(reader_client, aetna_covers_93590):
    """The CSV has a header and one row per code and payer shown, with the same filters applied."""
    rows = download(reader_client)
    assert rows[0][:8] == [
        "code",
        "code system",
        "descriptor",
        "category",
        "payer",
        "payer kind",
        "coverage status",
        "prior authorization",
    ]
    assert len(rows) == 1 + 2 * 5
    assert rows[1][:10] == [
        "93590",
        "CPT",
        "Percutaneous Mitral Valve Occlusion, First Device",
        "Cardiovascular / structural heart",
        "Aetna",
        "Commercial",
        "Covered with criteria",
        "Required",
        "",
        "CPB 0826",
    ]

    filtered = download(reader_client, "coverage_status=covered_with_criteria")
    assert [row[:5] for row in filtered[1:]] == [
        [
            "93590",
            "CPT",
            "Percutaneous Mitral Valve Occlusion, First Device",
            "Cardiovascular / structural heart",
            "Aetna",
        ]
    ]


def test_refused_filters_are_named_on_the_page(reader_client, demo):
    """A filter the page cannot use is left out, and the page says which and why, also one its panel
    does not show (a search in a link)."""
    page = reader_client.get("/coverage/?q=ab").content.decode()
    assert "Search: Enter at least 3 letters or digits in a row to search coverage criteria." in page
    assert matrix(reader_client, "q=ab") == matrix(reader_client)
    page = reader_client.get("/coverage/?effective_on=2024-02-30").content.decode()
    assert "Effective on: Enter a valid date." in page
    assert "field-error" not in reader_client.get("/coverage/?q=TEE").content.decode()


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("q=ab", "Search: Enter at least 3 letters or digits in a row to search coverage criteria."),
        ("coverage_status=maybe", "Coverage status: Select a valid choice. maybe is not one of the available choices."),
    ],
)
def test_csv_refuses_filters_it_cannot_use(reader_client, demo, query, message):
    """A download with a filter it cannot use answers 400 naming it: without that filter it would hold
    more than the reader asked for."""
    response = reader_client.get(f"/coverage/coverage.csv?{query}")
    assert response.status_code == 400
    assert response["Content-Type"] == "text/plain; charset=utf-8"
    assert response.content.decode() == message + "\n"


def test_csv_keeps_formulas_as_text(reader_client, db):
    """A descriptor starting with '=' is written so spreadsheet programs do not run it."""
    CoverageCriterionFactory(code=BillingCodeFactory(short_descriptor='=HYPERLINK("http://x")'))
    assert download(reader_client)[1][2] == '\'=HYPERLINK("http://x")'


def test_csv_rows_are_the_same_however_many_are_sent_at_once(reader_client, db, monkeypatch):
    """Rows go to the server a few hundred at a time; cut into pieces of 3, 7 rows read in pieces of 2
    codes come out whole, once each, in order, every payer kind, status and label written out."""
    payers = [PayerFactory(name=name, kind=kind) for name, kind in (("Zeta", "medicaid"), ("Alpha", "medicare"))]
    for n in range(7):
        code = BillingCodeFactory(code=f"9{n:04d}")
        for payer in payers[: 1 + n % 2]:
            CoverageCriterionFactory(
                code=code, payer=payer, coverage_status=CoverageStatus.values[n % 4], prior_auth=PriorAuth.values[n % 3]
            )
    whole = download(reader_client)
    assert len(whole) == 1 + 10
    assert {row[5] for row in whole[1:]} == {"Medicaid", "Medicare"}
    assert {row[6] for row in whole[1:]} == {CoverageStatus(value).label for value in CoverageStatus.values[:4]}
    assert {row[7] for row in whole[1:]} == {PriorAuth(value).label for value in PriorAuth.values[:3]}
    monkeypatch.setattr(CoverageCsvView, "ROWS_PER_WRITE", 3)
    monkeypatch.setattr(views, "in_code_order", partial(views.in_code_order, codes_per_query=2))
    assert download(reader_client) == whole


def test_download_link_carries_the_filters(reader_client, demo):
    """The page's CSV link asks for the same filters the reader applied, and the payers shown."""
    html = reader_client.get("/coverage/?payer_kind=medicare&coverage_status=unknown&filtered=1").content.decode()
    assert 'href="/coverage/coverage.csv?payer_kind=medicare&amp;coverage_status=unknown&amp;filtered=1"' in html


def test_matrix_queries_stay_constant(reader_client, db, django_assert_max_num_queries):
    """The matrix runs the same number of queries for 2x2 or 12x6 cells."""
    payers = [PayerFactory() for _ in range(6)]

    def add(codes, payer_count):
        for _ in range(codes):
            code = BillingCodeFactory()
            for payer in payers[:payer_count]:
                CoverageCriterionFactory(code=code, payer=payer, policy=PolicyDocumentFactory(payer=payer))
        assign_positions()  # what their commit does (the test's transaction never commits)

    add(2, 2)
    with CaptureQueriesContext(connection) as small:
        reader_client.get("/coverage/")
    add(10, 6)
    # Session, user, role check, tracked payers, filters, change position (two on PostgreSQL), page count,
    # codes, payers, cells and their prefetches.
    with django_assert_max_num_queries(15), CaptureQueriesContext(connection) as large:
        response = reader_client.get("/coverage/")
    assert len(table_rows(response.content, "coverage-matrix")) == 1 + 12
    assert len(large) == len(small)
