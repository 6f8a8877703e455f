"""The admin is the curation product: every page renders for staff, and search, filters and change
lists find the right rows in a fixed number of queries. Editing through its forms: test_admin_forms.py."""

import pytest
from django.contrib import admin
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from codes.models import BillingCode, CodeBrief, DiagnosisCode
from payers.choices import GapCategory, GapStatus
from payers.models import CoverageCriterion, FollowUpGap, Payer, PolicyDocument
from tests import factories
from tests.factories import (
    BillingCodeFactory,
    CodeBriefFactory,
    CoverageCriterionFactory,
    FollowUpGapFactory,
    PayerFactory,
    PolicyDocumentFactory,
    UserFactory,
)
from tests.workflow.adminpages import admin_url

pytestmark = pytest.mark.django_db

REGISTERED = sorted(admin.site._registry.items(), key=lambda item: item[0]._meta.label)


@pytest.mark.parametrize(("model", "model_admin"), REGISTERED, ids=[m._meta.label for m, _ in REGISTERED])
def test_every_admin_page_renders_for_staff(staff_client, curated, rf, staff_user, model, model_admin):
    """Changelist, add, change and history pages of every registered model answer 200 for a curator."""
    obj = model._default_manager.order_by("pk").first()
    if obj is None:
        maker = getattr(factories, f"{model.__name__}Factory", None)
        assert maker, f"No {model._meta.label} row to open: add {model.__name__}Factory to tests/factories.py."
        obj = maker()

    assert staff_client.get(admin_url(model, "changelist")).status_code == 200
    request = rf.get("/")
    request.user = staff_user
    add = staff_client.get(admin_url(model, "add"))
    assert add.status_code == (200 if model_admin.has_add_permission(request) else 403)
    assert staff_client.get(admin_url(model, "change", obj.pk)).status_code == 200
    assert staff_client.get(admin_url(model, "history", obj.pk)).status_code == 200


def test_admin_index_lists_every_model(staff_client, curated):
    """The admin index links every registered model's change list."""
    page = staff_client.get(reverse("admin:index")).content.decode()
    for model, _ in REGISTERED:
        assert admin_url(model, "changelist") in page


def changelist_rows(client, model, **params):
    response = client.get(admin_url(model, "changelist"), params)
    assert response.status_code == 200
    return list(response.context["cl"].result_list)


class TestSearchAndFilters:
    def test_billing_code_search_by_code(self, staff_client, curated):
        """Searching '93592' finds exactly CPT 93592."""
        rows = changelist_rows(staff_client, BillingCode, q="93592")
        assert [row.code for row in rows] == ["93592"]

    def test_billing_code_search_by_descriptor(self, staff_client, curated):
        """Searching 'mitral' finds the codes whose descriptors mention the mitral valve."""
        rows = changelist_rows(staff_client, BillingCode, q="mitral")
        assert sorted(row.code for row in rows) == ["93590", "93592"]

    def test_billing_code_filters(self, staff_client, curated):
        """The add-on filter shows 93592 alone; the category filter keeps all three structural heart codes."""
        assert [r.code for r in changelist_rows(staff_client, BillingCode, is_add_on__exact="1")] == ["93592"]
        rows = changelist_rows(staff_client, BillingCode, category="Cardiovascular / structural heart")
        assert sorted(r.code for r in rows) == ["93590", "93591", "93592"]

    def test_coverage_search_by_payer_name_and_policy_number(self, staff_client, curated):
        """Coverage criteria are found by payer name and by the policy number they cite."""
        rows = changelist_rows(staff_client, CoverageCriterion, q="Cigna")
        assert sorted((r.code.code, r.payer.name) for r in rows) == [
            ("93590", "Cigna Health"),
            ("93592", "Cigna Health"),
        ]
        assert changelist_rows(staff_client, CoverageCriterion, q="CPB-0826") == [curated["criterion"]]

    def test_coverage_filters(self, staff_client, curated):
        """Filtering by payer shows that payer's criteria; by coverage status only matching rows."""
        rows = changelist_rows(staff_client, CoverageCriterion, payer__id__exact=curated["aetna"].pk)
        assert {r.payer for r in rows} == {curated["aetna"]} and len(rows) == 2
        assert changelist_rows(staff_client, CoverageCriterion, coverage_status__exact="covered") == []
        assert len(changelist_rows(staff_client, CoverageCriterion, coverage_status__exact="unknown")) == 10

    def test_policy_document_search_by_payer_name_and_number(self, staff_client, curated):
        """Policy documents are found by number and by payer name."""
        assert changelist_rows(staff_client, PolicyDocument, q="CPB-0826") == [curated["policy"]]
        PolicyDocumentFactory(payer=Payer.objects.get(slug="medicare"), number="L36668")
        assert [p.number for p in changelist_rows(staff_client, PolicyDocument, q="Aetna")] == ["CPB-0826"]
        assert [p.number for p in changelist_rows(staff_client, PolicyDocument, q="Medicare")] == ["L36668"]

    def test_diagnosis_search_with_dot(self, staff_client, curated):
        """'I25.10' finds I25.10 though it is stored as I2510; 'I25.1' finds the category and its children."""
        assert [d.code for d in changelist_rows(staff_client, DiagnosisCode, q="I25.10")] == ["I2510"]
        assert [d.code for d in changelist_rows(staff_client, DiagnosisCode, q="I25.1")] == ["I251", "I2510", "I25110"]
        assert [d.code for d in changelist_rows(staff_client, DiagnosisCode, is_billable__exact="0")] == ["I251"]

    def test_diagnosis_autocomplete_accepts_the_dot(self, staff_client, curated):
        """The supporting-diagnosis picker on a coverage criterion finds I25.10 typed with its dot."""
        response = staff_client.get(
            reverse("admin:autocomplete"),
            {
                "app_label": "payers",
                "model_name": "coveragecriterion",
                "field_name": "diagnosis_codes",
                "term": "I25.10",
            },
        )
        assert response.status_code == 200
        assert [r["id"] for r in response.json()["results"]] == [str(curated["leaf"].pk)]

    def test_code_autocomplete_finds_code(self, staff_client, curated):
        """The code picker on a coverage criterion finds 93592 by its number, and 9359x by a prefix."""
        response = staff_client.get(
            reverse("admin:autocomplete"),
            {"app_label": "payers", "model_name": "coveragecriterion", "field_name": "code", "term": "93592"},
        )
        assert [r["text"] for r in response.json()["results"]] == [str(BillingCode.objects.get(code="93592"))]
        response = staff_client.get(
            reverse("admin:autocomplete"),
            {"app_label": "payers", "model_name": "coveragecriterion", "field_name": "code", "term": "9359"},
        )
        assert len(response.json()["results"]) == 3, "the picker narrows down by code prefix while typing"

    def test_gap_filters(self, staff_client, curated):
        """The gap worklist filters by category and status."""
        rows = changelist_rows(
            staff_client, FollowUpGap, category__exact=GapCategory.DIAGNOSIS_CODING, status__exact=GapStatus.OPEN
        )
        assert sorted(g.code.code for g in rows) == ["93590", "93592"]
        assert changelist_rows(staff_client, FollowUpGap, status__exact=GapStatus.RESOLVED) == []


class TestChangelistQueries:
    """Change lists cost a fixed number of queries, whatever the number of rows (no N+1 per column)."""

    ROWS = 30
    BUDGET = 10

    def test_billing_code_changelist(self, staff_client, django_assert_max_num_queries):
        BillingCodeFactory.create_batch(self.ROWS)
        with django_assert_max_num_queries(self.BUDGET):
            assert len(changelist_rows(staff_client, BillingCode)) == self.ROWS

    def test_coverage_criterion_changelist(self, staff_client, django_assert_max_num_queries):
        for _ in range(self.ROWS):
            policy = PolicyDocumentFactory()
            CoverageCriterionFactory(payer=policy.payer, policy=policy)
        with django_assert_max_num_queries(self.BUDGET):
            assert len(changelist_rows(staff_client, CoverageCriterion)) == self.ROWS

    def test_gap_changelist(self, staff_client, django_assert_max_num_queries):
        for _ in range(self.ROWS):
            FollowUpGapFactory(payer=PayerFactory(), assignee=UserFactory(), policy=PolicyDocumentFactory())
        with django_assert_max_num_queries(self.BUDGET):
            assert len(changelist_rows(staff_client, FollowUpGap)) == self.ROWS

    def test_code_brief_changelist_with_revisions(self, staff_client, django_assert_max_num_queries):
        for brief in CodeBriefFactory.create_batch(self.ROWS // 2):
            CodeBriefFactory(code=brief.code, title="Revision", revision_of=brief)
        with django_assert_max_num_queries(self.BUDGET):
            assert len(changelist_rows(staff_client, CodeBrief)) == self.ROWS


def test_code_page_queries_do_not_grow_with_its_rows(staff_client, demo):
    """Opening a code page costs the same queries with 1 or 21 gaps listed (no query per row).
    One, not none: a listed row's first rendering looks up what the process then keeps (the gap's
    content type for its "view on site" link), which 0 rows never reach."""
    code = BillingCode.objects.get(code="93591")
    url = admin_url(BillingCode, "change", code.pk)
    FollowUpGapFactory(code=code)
    staff_client.get(url)
    with CaptureQueriesContext(connection) as empty:
        staff_client.get(url)
    FollowUpGapFactory.create_batch(20, code=code)
    with CaptureQueriesContext(connection) as full:
        assert staff_client.get(url).status_code == 200
    assert len(full) == len(empty)
