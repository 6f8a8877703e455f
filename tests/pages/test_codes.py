"""The code index: search, filters from the shared FilterSet, pagination, constant queries."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from codes.choices import CodeSystem
from payers.choices import CoverageStatus
from payers.models import CoverageCriterion
from policyhub.changelog import assign_positions
from tests.factories import BillingCodeFactory, CodeBriefFactory, CoverageCriterionFactory, FollowUpGapFactory
from tests.pages.pagetext import table_rows

pytestmark = pytest.mark.django_db


def listed_codes(client, query="", scope="all"):
    """The codes listed for `query`; the whole catalogue unless `scope` says otherwise (None: the page default)."""
    response = client.get(f"/codes/?{query}" + (f"&scope={scope}" if scope else ""))
    assert response.status_code == 200
    return [row[0].split()[0] for row in table_rows(response.content, "code-list")[1:]]


def test_search_by_code_and_by_words(reader_client, demo):
    """Typing a code finds it; typing words finds codes whose descriptor has them."""
    assert listed_codes(reader_client, "q=93592") == ["93592"]
    assert listed_codes(reader_client, "q=aortic") == ["93591", "93592"]  # 93592 in its full descriptor
    assert listed_codes(reader_client, "q=occlusion") == ["93590", "93591", "93592"]
    assert listed_codes(reader_client, "q=nothing-like-this") == []


def test_filters_by_system_category_add_on_and_gaps(reader_client, demo):
    """Code system, category, add-on and open-gap filters narrow the list."""
    BillingCodeFactory(system=CodeSystem.HCPCS, code="C1234", category="Devices")
    assert listed_codes(reader_client, "system=HCPCS") == ["C1234"]
    assert listed_codes(reader_client, "category=Devices") == ["C1234"]
    assert listed_codes(reader_client, "is_add_on=true") == ["93592"]
    assert listed_codes(reader_client, "has_open_gaps=true") == ["93590", "93592"]
    assert listed_codes(reader_client, "has_open_gaps=false") == ["93591", "C1234"]


def test_filter_by_coverage_status_for_a_chosen_payer(reader_client, demo):
    """Codes can be narrowed to those a chosen payer covers."""
    CoverageCriterion.objects.filter(code__code="93592", payer__slug="medicare").update(
        coverage_status=CoverageStatus.COVERED
    )
    assert listed_codes(reader_client, "payer=medicare&coverage_status=covered") == ["93592"]
    assert listed_codes(reader_client, "payer=aetna&coverage_status=covered") == []


def test_filter_form_offers_the_filters_with_labels(reader_client, demo):
    """The filter panel labels each control and shows the choices readers pick from."""
    html = reader_client.get("/codes/?category=Cardiovascular+/+structural+heart").content.decode()
    for label in ["Code or words", "Code system", "Category", "Payer", "Coverage status", "Has open follow-up gaps"]:
        assert f">{label}<" in html
    assert '<option value="Cardiovascular / structural heart" selected>' in html
    assert '<option value="medicare">Medicare</option>' in html


def test_invalid_filter_value_is_reported_not_a_server_error(reader_client, demo):
    """A bad filter value shows what is wrong next to the filter; the list still answers."""
    response = reader_client.get("/codes/?system=ICD")
    assert response.status_code == 200
    assert "Code system: Select a valid choice." in response.content.decode()


def test_pagination_keeps_the_filters(reader_client, db):
    """Long results are split into pages of 50; the next-page link keeps the search."""
    BillingCodeFactory.create_batch(55, short_descriptor="Stent placement")
    first = reader_client.get("/codes/?q=stent&scope=all").content.decode()
    assert len(table_rows(first, "code-list")) == 1 + 50
    assert 'href="?q=stent&amp;scope=all&amp;page=2"' in first
    second = reader_client.get("/codes/?q=stent&scope=all&page=2")
    assert len(table_rows(second.content, "code-list")) == 1 + 5


def test_code_index_queries_stay_constant(reader_client, db, django_assert_max_num_queries):
    """The index runs the same number of queries for 2 or 40 codes with briefs, criteria and gaps."""

    def add(n):
        for _ in range(n):
            code = CodeBriefFactory().code
            CoverageCriterionFactory(code=code)
            FollowUpGapFactory(code=code)
        assign_positions()  # what their commit does (the test's transaction never commits)

    add(2)
    with CaptureQueriesContext(connection) as small:
        reader_client.get("/codes/")
    add(38)
    # 10, and the change position the total is remembered at (two queries on PostgreSQL).
    with django_assert_max_num_queries(12), CaptureQueriesContext(connection) as large:
        reader_client.get("/codes/")
    assert len(large) == len(small)


def test_user_text_is_escaped_in_the_list(reader_client, db):
    """A descriptor containing markup is listed as text."""
    BillingCodeFactory(short_descriptor="<script>alert(1)</script>")
    html = reader_client.get("/codes/?scope=all").content.decode()
    assert "<script>alert(1)</script>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
