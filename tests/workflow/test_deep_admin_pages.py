"""Deep change-list pages, and every page of a list a curator sorted by a column, find their rows by
key alone first (`CappedCountPaginator.rows`).

On 1M coverage criteria the admin's page 20,000 joined, carried and sorted every column of the
999,900 rows it skipped (3.9 s), and the first page sorted by policy every column of all 1M rows
(1.1 s); they now find the page's 50 keys first (0.7 s, 0.3 s) and read those rows by key. Same
rows, same order, whatever the sort, filter or search. The page size and the depth at which this
starts are lowered so that a few dozen rows make pages "deep".
"""

import re

import pytest
from django.contrib import admin
from django.db import connection
from django.test.utils import CaptureQueriesContext

from payers.choices import GapPriority
from payers.models import CoverageCriterion, FollowUpGap
from policyhub import paginators
from policyhub.choices import WorkflowState
from policyhub.paginators import CappedCountPaginator
from tests.factories import BillingCodeFactory, CoverageCriterionFactory, FollowUpGapFactory, PayerFactory
from tests.workflow.adminpages import admin_url

pytestmark = pytest.mark.django_db
PER_PAGE = 3
SORTED_OTHERWISE = paginators.sorted_otherwise


@pytest.fixture
def many_rows(monkeypatch):
    """Criteria over eight codes and three payers, some in two periods, some drafts; gaps."""
    for model in (CoverageCriterion, FollowUpGap):
        monkeypatch.setattr(admin.site._registry[model], "list_per_page", PER_PAGE)
    payers = [PayerFactory(name=name) for name in ("Aetna", "Cigna", "Humana")]
    for i in range(8):
        code = BillingCodeFactory(code=f"9359{i}")
        for j, payer in enumerate(payers[: 1 + i % 3]):
            state = WorkflowState.DRAFT if (i + j) % 4 == 0 else WorkflowState.PUBLISHED
            CoverageCriterionFactory(code=code, payer=payer, state=state, effective_end="2024-12-31")
            if (i + j) % 3 == 0:
                CoverageCriterionFactory(code=code, payer=payer, effective_start="2025-01-01")
        FollowUpGapFactory(code=code, priority=list(GapPriority)[i % 3])


def every_page(client, model, params: dict) -> list[list[int]]:
    """The keys each page of the change list shows, in order, first page to last."""
    url = admin_url(model, "changelist")
    first = client.get(url, params)
    assert first.status_code == 200
    pages = []
    for number in range(1, first.context["cl"].paginator.num_pages + 1):
        response = client.get(url, {**params, "p": number})
        assert response.status_code == 200
        pages.append([row.pk for row in response.context["cl"].result_list])
    return pages


def by_offset(monkeypatch):
    monkeypatch.setattr(CappedCountPaginator, "NARROW_FROM", 10**9)
    monkeypatch.setattr(paginators, "sorted_otherwise", lambda queryset: False)


def by_key(monkeypatch):
    monkeypatch.setattr(CappedCountPaginator, "NARROW_FROM", PER_PAGE)
    monkeypatch.setattr(paginators, "sorted_otherwise", SORTED_OTHERWISE)  # sorted lists' first pages too


@pytest.mark.parametrize(
    ("model", "params"),
    [
        (CoverageCriterion, {}),  # code, payer name, newest period first
        (CoverageCriterion, {"o": "3"}),  # a curator's sort: coverage status
        (CoverageCriterion, {"o": "-6.2"}),  # two columns, one descending
        (CoverageCriterion, {"state__exact": WorkflowState.PUBLISHED}),
        (CoverageCriterion, {"q": "cigna"}),
        (FollowUpGap, {}),  # a list with editable columns: its formset reads the same rows
    ],
)
def test_deep_pages_show_what_offset_shows(staff_client, many_rows, monkeypatch, model, params):
    by_offset(monkeypatch)
    expected = every_page(staff_client, model, params)
    assert len(expected) >= 3
    by_key(monkeypatch)
    assert every_page(staff_client, model, params) == expected


def test_a_deep_page_skips_rows_by_key_alone(staff_client, many_rows, monkeypatch):
    """The statement that skips rows selects the key only; the rows shown are read by key."""
    by_key(monkeypatch)
    with CaptureQueriesContext(connection) as queries:
        response = staff_client.get(admin_url(CoverageCriterion, "changelist"), {"p": 4})
    assert response.status_code == 200
    assert len(response.context["cl"].result_list) == PER_PAGE
    skipping = [query["sql"] for query in queries if re.search(r"OFFSET \d", query["sql"])]
    assert len(skipping) == 1
    table = CoverageCriterion._meta.db_table
    assert re.match(rf'SELECT "{table}"\."id"( AS "pk")? FROM', skipping[0])
    # The page's own columns are read once, for its three keys.
    wide = [query["sql"] for query in queries if f'"{table}"."criteria"' in query["sql"]]
    assert len(wide) == 1 and " IN (" in wide[0] and "OFFSET" not in wide[0]


def test_a_list_sorted_by_a_curators_column_finds_its_first_page_by_key(staff_client, many_rows):
    """Sorted by status, no index walks the rows in order: the database sorts them all, by key alone.
    The list in its own order is walked along an index and read in one statement, as before."""
    table = CoverageCriterion._meta.db_table
    for params, by_key in (({"o": "3"}, True), ({}, False)):
        with CaptureQueriesContext(connection) as queries:
            response = staff_client.get(admin_url(CoverageCriterion, "changelist"), params)
        assert len(response.context["cl"].result_list) == PER_PAGE
        sorting = [query["sql"] for query in queries if re.search(rf"LIMIT {PER_PAGE}\b", query["sql"])]
        assert len(sorting) == 1
        assert bool(re.match(rf'SELECT "{table}"\."id"( AS "pk")? FROM', sorting[0])) is by_key
        wide = [query["sql"] for query in queries if f'"{table}"."criteria"' in query["sql"]]
        assert len(wide) == 1 and (" IN (" in wide[0]) is by_key


def test_an_edit_on_a_deep_page_of_an_editable_list_is_saved(staff_client, many_rows, monkeypatch):
    """The gaps list edits priorities in place: its formset on a deep page saves the rows shown."""
    by_key(monkeypatch)
    url = admin_url(FollowUpGap, "changelist")
    page = staff_client.get(url, {"p": 3})
    formset = page.context["cl"].formset
    shown = [form.instance for form in formset.forms]
    assert len(shown) == 2  # eight gaps, three a page: the last page's two
    data = {f"{formset.prefix}-{name}": value for name, value in formset.management_form.initial.items()}
    for form in formset.forms:
        for name in ("id", "status", "priority", "version"):
            if name in form.fields:
                value = form[name].value()
                data[form.add_prefix(name)] = GapPriority.LOW if name == "priority" else value
    data["_save"] = "Save"
    response = staff_client.post(f"{url}?p=3", data)
    assert response.status_code == 302, response.context and response.context["cl"].formset.errors
    assert {gap.priority for gap in FollowUpGap.objects.filter(pk__in=[gap.pk for gap in shown])} == {GapPriority.LOW}
