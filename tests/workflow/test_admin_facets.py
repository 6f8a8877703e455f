"""The admin's "Show counts" on a payer filter: Django's counts, read in one grouped pass.

Django counts each payer with a condition of its own over every row: 300 payers on 1M criteria took
3.0 s of a 3.7 s page; grouped by the payer's key, the page takes 0.5 s (docs/bench.md).
"""

import pytest
from django.contrib import admin
from django.db import connection
from django.test.utils import CaptureQueriesContext

from payers.models import CoverageCriterion, DocumentationRequirement
from policyhub.admin_filters import GroupedFacetsRelatedFilter
from tests.factories import (
    BillingCodeFactory,
    CoverageCriterionFactory,
    DocumentationRequirementFactory,
    PayerFactory,
)
from tests.workflow.adminpages import admin_url

pytestmark = pytest.mark.django_db


@pytest.fixture
def rows():
    """Criteria and requirements over three payers (one with none), some requirements for every payer."""
    aetna, cigna, _humana = (PayerFactory(name=name) for name in ("Aetna", "Cigna", "Humana"))
    for i in range(4):
        code = BillingCodeFactory(code=f"9359{i}")
        CoverageCriterionFactory(code=code, payer=aetna, coverage_status="covered" if i % 2 else "not_covered")
        if i % 2:
            CoverageCriterionFactory(code=code, payer=cigna, coverage_status="covered")
        DocumentationRequirementFactory(code=code, payer=None if i < 3 else cigna, kind="imaging")


def payer_choices(client, model, params) -> list[str]:
    """What the payer filter's menu shows, counts included."""
    response = client.get(admin_url(model, "changelist"), {**params, "_facets": "True"})
    assert response.status_code == 200
    changelist = response.context["cl"]
    (payer,) = [spec for spec in changelist.filter_specs if getattr(spec, "field_path", "") == "payer"]
    return [choice["display"] for choice in payer.choices(changelist)]


@pytest.mark.parametrize(
    ("model", "params"),
    [
        (CoverageCriterion, {}),
        (CoverageCriterion, {"coverage_status__exact": "covered"}),  # counts within the other filters
        (CoverageCriterion, {"q": "9359"}),  # and within a search
        (DocumentationRequirement, {}),  # a payer may be empty: "all payers" has its count too
    ],
)
def test_payer_counts_are_djangos(staff_client, rows, monkeypatch, model, params):
    grouped = payer_choices(staff_client, model, params)
    assert any("(" in choice for choice in grouped)
    monkeypatch.setattr(
        GroupedFacetsRelatedFilter, "get_facet_queryset", admin.RelatedFieldListFilter.get_facet_queryset
    )
    assert payer_choices(staff_client, model, params) == grouped


def test_payer_counts_come_from_one_grouped_statement(staff_client, rows):
    with CaptureQueriesContext(connection) as queries:
        payer_choices(staff_client, CoverageCriterion, {})
    counting = [query["sql"] for query in queries if '"payer_id"' in query["sql"] and "COUNT(" in query["sql"]]
    assert counting and all("GROUP BY" in sql for sql in counting)
    assert not [sql for sql in counting if '"payer_id" = ' in sql]
