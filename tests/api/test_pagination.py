"""Pagination (page numbers and cursors) and query counts that do not grow with the page."""

import datetime

import pytest
from django.core.cache import caches
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from payers.models import FollowUpGap
from policyhub.changelog import assign_positions
from tests.api.helpers import RESOURCES, list_url
from tests.factories import (
    BenchmarkFactory,
    BillingCodeFactory,
    CodeBriefFactory,
    CodeDiagnosisFactory,
    CodeRelationshipFactory,
    CoverageCriterionFactory,
    DiagnosisCodeFactory,
    DocumentationRequirementFactory,
    FollowUpGapFactory,
    ModifierFactory,
    ModifierGuidanceFactory,
    PayerFactory,
    PlaceOfServiceFactory,
    PolicyDocumentFactory,
    SiteOfServiceFactory,
)

pytestmark = pytest.mark.django_db


def _more_rows(basename: str, n: int, dataset):
    """`n` more rows of the resource, each with the related rows its representation shows."""
    for i in range(n):
        if basename == "code":
            CodeBriefFactory(code=BillingCodeFactory())
        elif basename == "modifier":
            ModifierFactory(code=f"Z{i % 10}" if i < 10 else f"{chr(65 + i // 10)}{i % 10}")
        elif basename == "place-of-service":
            PlaceOfServiceFactory(code=f"{50 + i:02d}")
        elif basename == "diagnosis-code":
            DiagnosisCodeFactory(code=f"E{10 + i:02d}9")
        elif basename == "payer":
            PayerFactory()
        elif basename == "payer-policy":
            PolicyDocumentFactory(payer=PayerFactory())
        elif basename == "coverage-criterion":
            payer = PayerFactory()
            criterion = CoverageCriterionFactory(payer=payer, policy=PolicyDocumentFactory(payer=payer))
            criterion.diagnosis_codes.add(dataset.t82, dataset.i2510)
        elif basename == "documentation-requirement":
            payer = PayerFactory()
            DocumentationRequirementFactory(payer=payer, policy=PolicyDocumentFactory(payer=payer))
        elif basename == "benchmark":
            BenchmarkFactory(payer=PayerFactory())
        elif basename == "gap":
            payer = PayerFactory()
            FollowUpGapFactory(payer=payer, policy=PolicyDocumentFactory(payer=payer), assignee=dataset.curator)


def _queries(client, url, params=None) -> int:
    with CaptureQueriesContext(connection) as captured:
        assert client.get(url, params).status_code == 200
    return len(captured)


@pytest.mark.parametrize("basename", RESOURCES)
def test_list_queries_do_not_grow_with_the_page(api_client, dataset, django_assert_max_num_queries, basename):
    """A page of 50 rows costs no more queries than a page of 5."""
    url = list_url(basename)
    api_client.get(url)  # records the token's first use, a write later requests skip
    _more_rows(basename, 5, dataset)
    assign_positions()  # a new change position: the page's count is read again, as on the larger page
    small = _queries(api_client, url, {"page_size": 5})
    _more_rows(basename, 50, dataset)
    assign_positions()  # what the writers' commit does (PostgreSQL); tests never commit
    with django_assert_max_num_queries(small):
        response = api_client.get(url, {"page_size": 50})
    assert len(response.json()["results"]) == 50


def test_code_brief_queries_do_not_grow_with_its_sections(api_client, dataset, django_assert_max_num_queries):
    """A code brief costs the same few queries whether its sections hold one row or ten."""
    api_client.get("/api/v1/codes/93590/")
    caches["answers"].clear()  # the brief built, not the body kept from the request above
    before = _queries(api_client, "/api/v1/codes/93590/")
    code = dataset.mitral
    for i in range(10):
        payer = PayerFactory()
        criterion = CoverageCriterionFactory(code=code, payer=payer, policy=PolicyDocumentFactory(payer=payer))
        criterion.diagnosis_codes.add(DiagnosisCodeFactory(code=f"E{20 + i}1"))
        DocumentationRequirementFactory(code=code, payer=payer)
        BenchmarkFactory(code=code, payer=payer)
        FollowUpGapFactory(code=code, payer=payer, assignee=dataset.curator)
        ModifierGuidanceFactory(code=code, modifier=ModifierFactory(code=f"M{i}"), display_order=3 + i)
        SiteOfServiceFactory(code=code, place_of_service=PlaceOfServiceFactory(code=f"{60 + i}"))
        CodeRelationshipFactory(to_code=code, kind="see_also")
        CodeDiagnosisFactory(code=code, diagnosis=DiagnosisCodeFactory(code=f"E{40 + i}1"))
    assign_positions()  # what the writers' commit does (PostgreSQL); tests never commit
    with django_assert_max_num_queries(before):
        body = api_client.get("/api/v1/codes/93590/").json()
    assert len(body["coverage"]) == 12
    assert len(body["related_codes"]) == 11


def test_page_size_defaults_to_50_and_stops_at_500(api_client, dataset):
    """Pages hold 50 rows unless `page_size` asks for more, up to 500."""
    for _i in range(3):
        BillingCodeFactory.create_batch(200)
    assert len(api_client.get("/api/v1/codes/").json()["results"]) == 50
    assert len(api_client.get("/api/v1/codes/", {"page_size": 120}).json()["results"]) == 120
    body = api_client.get("/api/v1/codes/", {"page_size": 10_000}).json()
    assert len(body["results"]) == 500
    assert body["count"] == 603


def test_page_numbers_walk_every_row_once(api_client, dataset):
    """Following `next` from page 1 lists every code exactly once, in a stable order."""
    BillingCodeFactory.create_batch(12)
    seen, url = [], "/api/v1/codes/?page_size=5"
    while url:
        body = api_client.get(url).json()
        seen += [row["code"] for row in body["results"]]
        url = body["next"]
    assert len(seen) == len(set(seen)) == 15
    assert seen == sorted(seen)


def test_counts_are_remembered_until_a_change_is_published(api_client, dataset):
    """`count` of a filtered list is read once per change position (a filter such as codes
    `?coverage_status=` tests every code's criteria), and read again once something is published."""
    url, params = list_url("code"), {"coverage_status": "covered"}
    first = api_client.get(url, params).json()["count"]
    with CaptureQueriesContext(connection) as again:
        assert api_client.get(url, params).json()["count"] == first
    assert not [sql for sql in (query["sql"] for query in again) if "COUNT(" in sql and "codes_billingcode" in sql]

    payer = PayerFactory()
    CoverageCriterionFactory(
        code=BillingCodeFactory(), payer=payer, policy=PolicyDocumentFactory(payer=payer), coverage_status="covered"
    )
    assign_positions()  # what the writer's commit does (PostgreSQL); tests never commit
    assert api_client.get(url, params).json()["count"] == first + 1


def count_queries(queries) -> int:
    return sum("COUNT(" in query["sql"].upper() for query in queries)


def gaps_count(**filters) -> int:
    return FollowUpGap.objects.published().current().filter(**filters).count()


def test_each_filter_of_a_list_has_its_own_count_which_its_pages_share(api_client, dataset):
    """A list's remembered count is known by its collection and its parameters (not by compiling its
    SQL): each filter gets its own, and every page and page size of one filter reuses it."""
    FollowUpGapFactory.create_batch(3, status="open")
    FollowUpGapFactory.create_batch(2, status="resolved")
    assign_positions()
    url = "/api/v1/gaps/"
    assert api_client.get(url, {"status": "open", "page_size": 2}).json()["count"] == gaps_count(status="open")
    assert api_client.get(url, {"status": "resolved"}).json()["count"] == gaps_count(status="resolved")
    assert api_client.get(url, {"status": ["open", "resolved"]}).json()["count"] == gaps_count(
        status__in=["open", "resolved"]
    )
    assert api_client.get(f"{url}?status=open&is_open=true").json()["count"] == gaps_count(status="open")
    with CaptureQueriesContext(connection) as again:
        counts = [
            api_client.get(f"{url}?{query}").json()["count"]
            for query in ("page=2&page_size=2&status=open", "status=open", "is_open=true&status=open")
        ]
    assert counts == [gaps_count(status="open")] * 3
    assert count_queries(again) == 0


def test_a_count_that_depends_on_the_date_is_read_again_the_next_day(api_client, dataset, monkeypatch):
    """`?overdue=true` compares with today's date: at the same change position, tomorrow's count
    is read again, not yesterday's remembered one."""
    today = timezone.localdate()
    FollowUpGapFactory.create_batch(2, status="open", due_date=today)
    assign_positions()
    url, params = "/api/v1/gaps/", {"overdue": "true"}
    before = api_client.get(url, params).json()["count"]
    monkeypatch.setattr(timezone, "localdate", lambda *args, **kwargs: today + datetime.timedelta(days=1))
    assert api_client.get(url, params).json()["count"] == before + 2
