"""Curating through the admin's forms: bad input comes back as a form error, never a server error, and
the code and payer pages edit their rows inline. The pages, search and change lists: test_admin.py."""

import datetime

import pytest

from codes.models import BillingCode, CodeRelationship, DiagnosisCode, ModifierGuidance
from payers.choices import BenchmarkMetric, CoverageStatus, GapStatus, PriorAuth
from payers.models import Benchmark, CoverageCriterion, FollowUpGap, Payer, PolicyDocument
from policyhub.choices import WorkflowState
from tests.factories import UserFactory
from tests.workflow.adminpages import add_inline_rows, admin_url, form_data, inline_prefix

pytestmark = pytest.mark.django_db


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
        """Resolving a (draft) gap in the admin stamps the time; reopening it clears the time and saves."""
        gap = FollowUpGap.objects.filter(code=curated["code"]).first()
        FollowUpGap.objects.filter(pk=gap.pk).update(state=WorkflowState.DRAFT)
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
    """A curator can assign a published gap and give it a due date from its page: a draft revision
    holds both until a reviewer approves it, and readers keep the published gap meanwhile."""
    gap = FollowUpGap.objects.filter(code=curated["code"]).first()
    url = admin_url(FollowUpGap, "change", gap.pk)
    assignee = UserFactory(is_staff=True)
    response = staff_client.post(url, form_data(staff_client.get(url), assignee=assignee.pk, due_date="2026-01-31"))
    assert response.status_code == 302
    revision = FollowUpGap.objects.get(revision_of=gap)
    assert (revision.state, revision.assignee, revision.due_date) == (
        WorkflowState.DRAFT,
        assignee,
        datetime.date(2026, 1, 31),
    )
    gap.refresh_from_db()
    assert (gap.assignee, gap.due_date) != (assignee, datetime.date(2026, 1, 31))
