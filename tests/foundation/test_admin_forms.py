"""The admin is the curation product: every page renders, search and filters find the right rows, and
bad input comes back as a form error, never a server error."""

import datetime

import pytest
from django.contrib import admin
from django.contrib.auth.models import Group
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from codes.choices import ReleaseKind
from codes.models import BillingCode, CodeBrief, CodeRelationship, DiagnosisCode, ModifierGuidance
from payers.choices import BenchmarkMetric, CoverageStatus, GapCategory, GapStatus, PriorAuth
from payers.models import Benchmark, CoverageCriterion, FollowUpGap, Payer, PolicyDocument
from tests import factories
from tests.factories import (
    BenchmarkFactory,
    BillingCodeFactory,
    CodeBriefFactory,
    CodeDiagnosisFactory,
    CodeSetReleaseFactory,
    CoverageCriterionFactory,
    DocumentationRequirementFactory,
    FollowUpGapFactory,
    PayerFactory,
    PolicyDocumentFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db

REGISTERED = sorted(admin.site._registry.items(), key=lambda item: item[0]._meta.label)


def admin_url(model, action, *args):
    return reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_{action}", args=args)


@pytest.fixture
def curated(demo):
    """The demo data plus at least one row of every model the demo does not fill."""
    header = DiagnosisCode.objects.create(
        code="I251", description="Atherosclerotic heart disease of native coronary artery", is_billable=False
    )
    leaf = DiagnosisCode.objects.create(
        code="I2510", description="Atherosclerotic heart disease of native coronary artery without angina pectoris"
    )
    DiagnosisCode.objects.create(
        code="I25110",
        description="Atherosclerotic heart disease of native coronary artery with unstable angina pectoris",
    )
    code = BillingCode.objects.get(code="93590")
    CodeDiagnosisFactory(code=code, diagnosis=leaf)
    CodeSetReleaseFactory(kind=ReleaseKind.ICD10CM, name="ICD-10-CM FY2026")
    aetna = Payer.objects.get(slug="aetna")
    policy = PolicyDocumentFactory(payer=aetna, number="CPB-0826", title="Paravalvular leak closure")
    criterion = CoverageCriterion.objects.get(code=code, payer=aetna)
    criterion.policy = policy
    criterion.save()
    criterion.diagnosis_codes.add(leaf)
    DocumentationRequirementFactory(code=code, payer=aetna, policy=policy)
    BenchmarkFactory(code=code, payer=None)
    Group.objects.create(name="Reviewers")
    return {"code": code, "aetna": aetna, "policy": policy, "criterion": criterion, "header": header, "leaf": leaf}


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
    """Opening a code page costs the same queries with 0 or 20 gaps listed (no query per row)."""
    code = BillingCode.objects.get(code="93591")
    url = admin_url(BillingCode, "change", code.pk)
    staff_client.get(url)
    with CaptureQueriesContext(connection) as empty:
        staff_client.get(url)
    FollowUpGapFactory.create_batch(20, code=code)
    with CaptureQueriesContext(connection) as full:
        assert staff_client.get(url).status_code == 200
    assert len(full) == len(empty)


def form_data(response, **overrides):
    """The POST a browser would send for an admin add/change page as rendered, with `overrides` applied."""
    data = {}

    def put(form):
        for name in form.fields:
            value = form[name].value()
            if value is None or value is False:
                continue
            if value is True:
                value = "on"
            elif isinstance(value, list | tuple):
                value = [str(v) for v in value]
            data[form.add_prefix(name)] = value

    put(response.context["adminform"].form)
    for inline in response.context["inline_admin_formsets"]:
        formset = inline.formset
        for key, value in formset.management_form.initial.items():
            data[f"{formset.prefix}-{key}"] = value
        for form in formset.forms:
            put(form)
    data.update(overrides)
    return {key: value for key, value in data.items() if value is not None}


def inline_prefix(response, model):
    for inline in response.context["inline_admin_formsets"]:
        if inline.formset.model is model:
            return inline.formset.prefix
    raise AssertionError(f"no {model.__name__} inline")


def add_inline_rows(data, prefix, rows):
    """Append new rows to an inline formset's POST data."""
    start = int(data[f"{prefix}-TOTAL_FORMS"])
    for offset, row in enumerate(rows):
        for key, value in row.items():
            data[f"{prefix}-{start + offset}-{key}"] = value
    data[f"{prefix}-TOTAL_FORMS"] = str(start + len(rows))
    return data


def errors_of(response) -> str:
    """Every error the page shows: the main form's and the inlines'."""
    assert response.status_code == 200, "expected the form back with errors"
    forms = [response.context["adminform"].form]
    texts = []
    for inline in response.context["inline_admin_formsets"]:
        texts.extend(inline.formset.non_form_errors())
        forms.extend(inline.formset.forms)
    for form in forms:
        texts.extend(message for messages in form.errors.values() for message in messages)
    return " ".join(texts)


class TestBadInputIsAFormError:
    def test_overlapping_coverage_criterion(self, staff_client, curated):
        """Adding a second Aetna criterion for 93590 while the demo one is open-ended names the clash."""
        url = admin_url(CoverageCriterion, "add")
        data = form_data(
            staff_client.get(url),
            code=curated["code"].pk,
            payer=curated["aetna"].pk,
            coverage_status=CoverageStatus.COVERED,
            prior_auth=PriorAuth.REQUIRED,
            effective_start="2025-01-01",
        )
        response = staff_client.post(url, data)
        assert "Aetna already has a criterion for 93590 in force" in errors_of(response)
        assert CoverageCriterion.objects.filter(code=curated["code"], payer=curated["aetna"]).count() == 1

    def test_coverage_end_before_start(self, staff_client, curated):
        """An end date before the start date is shown next to the end date."""
        url = admin_url(CoverageCriterion, "add")
        data = form_data(
            staff_client.get(url),
            code=BillingCode.objects.get(code="93591").pk,
            payer=curated["aetna"].pk,
            effective_start="2025-07-01",
            effective_end="2025-01-01",
        )
        response = staff_client.post(url, data)
        assert response.context["adminform"].form.errors["effective_end"] == [
            "The effective end date cannot be before the start date."
        ]

    def test_duplicate_billing_code(self, staff_client, curated):
        """Adding CPT 93590 again says it already exists."""
        url = admin_url(BillingCode, "add")
        data = form_data(staff_client.get(url), system="CPT", code="93590", short_descriptor="Again")
        assert "This code already exists in that code system." in errors_of(staff_client.post(url, data))

    def test_malformed_billing_code(self, staff_client, curated):
        """A HCPCS code '1234X' is refused with the format explained."""
        url = admin_url(BillingCode, "add")
        data = form_data(staff_client.get(url), system="HCPCS", code="1234X", short_descriptor="Bad")
        assert "a HCPCS Level II code is a capital letter and four digits" in errors_of(staff_client.post(url, data))

    def test_lowercase_hcpcs_code_is_saved_upper_case(self, staff_client, curated):
        """'a0021' typed in the add form is saved as A0021."""
        url = admin_url(BillingCode, "add")
        data = form_data(staff_client.get(url), system="HCPCS", code="a0021", short_descriptor="Ambulance")
        assert staff_client.post(url, data).status_code == 302
        assert BillingCode.objects.filter(system="HCPCS", code="A0021").exists()

    def test_diagnosis_code_typed_with_dot(self, staff_client, curated):
        """A seven-character diagnosis code typed with its dot is accepted and stored without it."""
        url = admin_url(DiagnosisCode, "add")
        data = form_data(staff_client.get(url), code="T82.857A", description="Stenosis of cardiac prosthetic devices")
        response = staff_client.post(url, data)
        assert response.status_code == 302, errors_of(response)
        assert DiagnosisCode.objects.get(code="T82857A").display_code == "T82.857A"

    def test_second_no_modifier_row_on_the_code_page(self, staff_client, curated):
        """Adding another 'no modifier' row to 93590 on its page is a form error, not a server error."""
        url = admin_url(BillingCode, "change", curated["code"].pk)
        page = staff_client.get(url)
        data = form_data(page)
        add_inline_rows(data, inline_prefix(page, ModifierGuidance), [{"when_to_use": "Bare", "display_order": "9"}])
        response = staff_client.post(url, data)
        assert "already has a 'no modifier' row" in errors_of(response)

    def test_two_new_no_modifier_rows_at_once(self, staff_client, curated):
        """Two 'no modifier' rows entered in one save on a code without one are refused together."""
        code = BillingCode.objects.get(code="93591")
        url = admin_url(BillingCode, "change", code.pk)
        page = staff_client.get(url)
        data = add_inline_rows(
            form_data(page),
            inline_prefix(page, ModifierGuidance),
            [{"when_to_use": "Bare", "display_order": "1"}, {"when_to_use": "Also bare", "display_order": "2"}],
        )
        response = staff_client.post(url, data)
        assert "Only one of these rows is allowed: The code already has a 'no modifier' row." in errors_of(response)
        assert not ModifierGuidance.objects.filter(code=code).exists()

    def test_two_overlapping_criteria_entered_at_once(self, staff_client, curated):
        """Two criteria for one payer with overlapping periods, entered together on the code page, are refused."""
        code = BillingCode.objects.get(code="93591")
        url = admin_url(BillingCode, "change", code.pk)
        page = staff_client.get(url)
        payer = curated["aetna"].pk
        row = {"payer": payer, "coverage_status": "covered", "prior_auth": "unknown"}
        data = add_inline_rows(
            form_data(page),
            inline_prefix(page, CoverageCriterion),
            [
                {**row, "effective_start": "2025-01-01", "effective_end": "2025-12-31"},
                {**row, "effective_start": "2025-06-01"},
            ],
        )
        response = staff_client.post(url, data)
        assert "periods for the same code and payer cannot overlap" in errors_of(response)
        assert not CoverageCriterion.objects.filter(code=code).exists()

    def test_code_related_to_itself_on_its_page(self, staff_client, curated):
        """Adding 'add-on to 93590' on 93590's own page is a form error."""
        code = curated["code"]
        url = admin_url(BillingCode, "change", code.pk)
        page = staff_client.get(url)
        data = add_inline_rows(
            form_data(page), inline_prefix(page, CodeRelationship), [{"kind": "add_on_to", "to_code": code.pk}]
        )
        assert "A code cannot be related to itself." in errors_of(staff_client.post(url, data))

    def test_duplicate_national_benchmark_on_the_code_page(self, staff_client, curated):
        """A national benchmark repeated on the code page is a form error, alone or twice in one save."""
        existing = Benchmark.objects.get()
        url = admin_url(BillingCode, "change", curated["code"].pk)
        page = staff_client.get(url)
        row = {
            "setting": existing.setting,
            "metric": existing.metric,
            "value": "2",
            "period": existing.period,
            "source": "Again",
        }
        data = add_inline_rows(form_data(page), inline_prefix(page, Benchmark), [row])
        assert "This national benchmark already exists for the period." in errors_of(staff_client.post(url, data))
        data = add_inline_rows(form_data(page), inline_prefix(page, Benchmark), [{**row, "period": "CY2030"}] * 2)
        assert "Only one of these rows is allowed" in errors_of(staff_client.post(url, data))
        assert Benchmark.objects.count() == 1

    def test_duplicate_policy_number_on_the_payer_page(self, staff_client, curated):
        """Repeating Aetna's CPB-0826 on the Aetna page is a form error."""
        url = admin_url(Payer, "change", curated["aetna"].pk)
        page = staff_client.get(url)
        row = {"document_type": "policy", "number": "CPB-0826", "title": "Again"}
        data = add_inline_rows(form_data(page), inline_prefix(page, PolicyDocument), [row])
        assert "This payer already has that policy number." in errors_of(staff_client.post(url, data))

    def test_duplicate_policy_number(self, staff_client, curated):
        """A second Aetna CPB-0826 is refused with a message."""
        url = admin_url(PolicyDocument, "add")
        data = form_data(
            staff_client.get(url), payer=curated["aetna"].pk, number="CPB-0826", title="Again", document_type="policy"
        )
        assert "This payer already has that policy number." in errors_of(staff_client.post(url, data))

    def test_duplicate_national_benchmark(self, staff_client, curated):
        """A second national work RVU for the same period is refused with a message."""
        existing = Benchmark.objects.get()
        url = admin_url(Benchmark, "add")
        data = form_data(
            staff_client.get(url),
            code=existing.code.pk,
            setting=existing.setting,
            metric=BenchmarkMetric.WORK_RVU,
            value="1",
            period=existing.period,
            source="Again",
        )
        assert "This national benchmark already exists for the period." in errors_of(staff_client.post(url, data))

    def test_reopening_a_resolved_gap(self, staff_client, curated):
        """Resolving a gap in the admin stamps the time; reopening it clears the time and saves."""
        gap = FollowUpGap.objects.filter(code=curated["code"]).first()
        url = admin_url(FollowUpGap, "change", gap.pk)
        response = staff_client.post(url, form_data(staff_client.get(url), status=GapStatus.RESOLVED))
        assert response.status_code == 302
        gap.refresh_from_db()
        assert gap.resolved_at is not None
        response = staff_client.post(url, form_data(staff_client.get(url), status=GapStatus.OPEN))
        assert response.status_code == 302
        gap.refresh_from_db()
        assert gap.resolved_at is None

    def test_saving_a_code_page_unchanged_keeps_its_rows(self, staff_client, curated):
        """Opening 93590 and saving without edits succeeds and loses none of its curated rows."""
        code = curated["code"]
        before = (code.modifier_guidance.count(), code.sites_of_service.count(), code.coverage_criteria.count())
        url = admin_url(BillingCode, "change", code.pk)
        response = staff_client.post(url, form_data(staff_client.get(url)))
        assert response.status_code == 302, errors_of(response)
        assert (code.modifier_guidance.count(), code.sites_of_service.count(), code.coverage_criteria.count()) == before


def test_payer_page_shows_policy_documents_inline(staff_client, curated):
    """The payer page lists its policy documents for editing."""
    response = staff_client.get(admin_url(Payer, "change", curated["aetna"].pk))
    assert inline_prefix(response, PolicyDocument)
    assert b"CPB-0826" in response.content


def test_code_page_has_every_curated_inline(staff_client, curated):
    """The code page edits guidance, sites, relationships, diagnoses, coverage, documentation, benchmarks, gaps."""
    response = staff_client.get(admin_url(BillingCode, "change", curated["code"].pk))
    models = {inline.formset.model.__name__ for inline in response.context["inline_admin_formsets"]}
    assert {
        "ModifierGuidance",
        "SiteOfService",
        "CodeRelationship",
        "CodeDiagnosis",
        "CoverageCriterion",
        "DocumentationRequirement",
        "Benchmark",
        "FollowUpGap",
    } <= models


def test_gap_due_date_and_assignee_are_editable(staff_client, curated):
    """A curator can assign a gap and give it a due date from its page."""
    gap = FollowUpGap.objects.filter(code=curated["code"]).first()
    url = admin_url(FollowUpGap, "change", gap.pk)
    assignee = UserFactory(is_staff=True)
    response = staff_client.post(url, form_data(staff_client.get(url), assignee=assignee.pk, due_date="2026-01-31"))
    assert response.status_code == 302
    gap.refresh_from_db()
    assert (gap.assignee, gap.due_date) == (assignee, datetime.date(2026, 1, 31))
