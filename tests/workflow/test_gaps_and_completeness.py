"""Automatic gap detection (each rule opens and resolves its gap; idempotent; manual gaps respected)
and the completeness score of each code (admin list and brief page)."""

from datetime import date
from io import StringIO

import pytest
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from briefs.completeness import completeness, completeness_report
from codes.models import BillingCode
from payers.choices import BenchmarkMetric, CoverageStatus, GapCategory, GapStatus
from payers.models import FollowUpGap
from payers.services import detect_gaps
from policyhub.choices import WorkflowState
from tests.factories import (
    BenchmarkFactory,
    BillingCodeFactory,
    CodeBriefFactory,
    CoverageCriterionFactory,
    DiagnosisCodeFactory,
    DocumentationRequirementFactory,
    FollowUpGapFactory,
    PayerFactory,
    PlaceOfServiceFactory,
    PolicyDocumentFactory,
)
from tests.pages.pagetext import table_rows

pytestmark = pytest.mark.django_db

TODAY = date(2026, 11, 23)
CODE_RULES = {"coverage_missing", "site_of_service_missing", "documentation_missing", "benchmark_missing"}


@pytest.fixture
def curated():
    """A code with a published brief and nothing else, and one tracked payer."""
    code = BillingCodeFactory(code="93590")
    CodeBriefFactory(code=code, state=WorkflowState.PUBLISHED)
    payer = PayerFactory(name="Aetna", slug="aetna", is_tracked=True)
    return code, payer


def open_rules(code=None, policy=None):
    gaps = FollowUpGap.objects.filter(status__in=[GapStatus.OPEN, GapStatus.IN_PROGRESS]).exclude(rule="")
    if code is not None:
        gaps = gaps.filter(code=code)
    if policy is not None:
        gaps = gaps.filter(policy=policy)
    return set(gaps.values_list("rule", flat=True))


def resolved(rule):
    return FollowUpGap.objects.get(rule=rule, status=GapStatus.RESOLVED)


class TestRules:
    def test_a_bare_curated_code_gets_one_gap_per_missing_item(self, curated):
        code, payer = curated
        report = detect_gaps(today=TODAY)
        assert open_rules(code) == CODE_RULES
        coverage = FollowUpGap.objects.get(rule="coverage_missing")
        assert (coverage.code, coverage.payer, coverage.category) == (code, payer, GapCategory.COVERAGE_CRITERIA)
        assert "Aetna has no published coverage criterion in force for 93590" in coverage.description
        assert sum(report.opened.values()) == 4

    def test_codes_without_a_brief_or_terminated_are_not_chased(self, curated):
        BillingCodeFactory(code="99999")  # catalogue only
        retired = BillingCodeFactory(code="93591", status="terminated")
        CodeBriefFactory(code=retired, state=WorkflowState.PUBLISHED)
        detect_gaps(today=TODAY)
        assert set(FollowUpGap.objects.values_list("code__code", flat=True)) == {"93590"}

    def test_each_gap_resolves_when_its_data_arrives_with_a_note(self, curated):
        code, payer = curated
        detect_gaps(today=TODAY)

        criterion = CoverageCriterionFactory(
            code=code, payer=payer, state=WorkflowState.PUBLISHED, coverage_status=CoverageStatus.COVERED
        )
        inpatient = PlaceOfServiceFactory(code="21", name="Inpatient Hospital")
        code.sites_of_service.create(place_of_service=inpatient, is_typical=True, state=WorkflowState.PUBLISHED)
        DocumentationRequirementFactory(code=code, state=WorkflowState.PUBLISHED)
        BenchmarkFactory(code=code, metric=BenchmarkMetric.WORK_RVU)
        detect_gaps(today=TODAY)

        assert open_rules(code) == {"diagnosis_codes_missing"}, "a covered criterion without diagnoses is a gap"
        note = resolved("coverage_missing").resolution_note
        assert note.startswith("Resolved automatically on 2026-11-23")
        assert "A published coverage criterion of Aetna is now in force for 93590" in note
        assert "now has a typical site of service" in resolved("site_of_service_missing").resolution_note
        assert "published documentation requirement" in resolved("documentation_missing").resolution_note
        assert "reimbursement benchmark" in resolved("benchmark_missing").resolution_note
        assert resolved("benchmark_missing").resolved_at is not None

        criterion.diagnosis_codes.add(DiagnosisCodeFactory(code="I350"))
        detect_gaps(today=TODAY)
        assert open_rules(code) == set()
        assert "now list supporting diagnosis codes" in resolved("diagnosis_codes_missing").resolution_note

    def test_unreviewed_content_does_not_close_a_gap(self, curated):
        code, payer = curated
        CoverageCriterionFactory(code=code, payer=payer, state=WorkflowState.DRAFT)
        DocumentationRequirementFactory(code=code, state=WorkflowState.IN_REVIEW)
        detect_gaps(today=TODAY)
        assert {"coverage_missing", "documentation_missing"} <= open_rules(code)

    def test_criterion_no_longer_in_force_reopens_the_coverage_gap(self, curated):
        code, payer = curated
        CoverageCriterionFactory(code=code, payer=payer, effective_end=date(2026, 6, 30))
        detect_gaps(today=TODAY)
        assert "coverage_missing" in open_rules(code)

    def test_policy_past_its_review_date_and_reviewed_again(self, curated):
        _code, payer = curated
        policy = PolicyDocumentFactory(
            payer=payer, number="CPB 0826", effective_date=date(2020, 1, 1), next_review=date(2026, 3, 1)
        )
        fresh = PolicyDocumentFactory(payer=payer, last_reviewed=date(2026, 9, 1), effective_date=date(2020, 1, 1))
        stale = PolicyDocumentFactory(payer=payer, last_reviewed=date(2025, 5, 1), effective_date=date(2020, 1, 1))
        detect_gaps(today=TODAY)
        assert open_rules(policy=policy) == {"policy_review_overdue"}
        assert open_rules(policy=fresh) == set()
        assert open_rules(policy=stale) == {"policy_review_overdue"}
        gap = FollowUpGap.objects.get(policy=policy)
        assert "Aetna CPB 0826: its next review was due 2026-03-01" in gap.description

        policy.last_reviewed, policy.next_review = date(2026, 10, 1), date(2027, 10, 1)
        policy.save()
        detect_gaps(today=TODAY)
        gap.refresh_from_db()
        assert gap.status == GapStatus.RESOLVED
        assert "CPB 0826 has been reviewed" in gap.resolution_note

    def test_untracked_payer_is_not_chased_and_its_gap_resolves(self, curated):
        code, payer = curated
        detect_gaps(today=TODAY)
        payer.is_tracked = False
        payer.save()
        detect_gaps(today=TODAY)
        assert "Aetna is no longer a tracked payer." in resolved("coverage_missing").resolution_note


class TestIdempotenceAndManualGaps:
    def test_second_run_changes_nothing(self, demo):
        first = StringIO()
        call_command("detect_gaps", "--date", "2026-11-23", stdout=first)
        gaps = list(FollowUpGap.objects.order_by("pk").values())
        history = FollowUpGap.history.count()

        second = StringIO()
        call_command("detect_gaps", "--date", "2026-11-23", stdout=second)
        assert "0 opened, 0 updated, 0 resolved" in second.getvalue()
        assert list(FollowUpGap.objects.order_by("pk").values()) == gaps
        assert FollowUpGap.history.count() == history

    def test_bad_date_is_a_clear_error(self, db):
        from django.core.management.base import CommandError

        with pytest.raises(CommandError, match="--date '23/11/2026' is not a date like 2025-07-01"):
            call_command("detect_gaps", "--date", "23/11/2026")

    def test_manual_gaps_are_left_alone_and_prevent_duplicates(self, curated):
        code, payer = curated
        manual = FollowUpGapFactory(code=code, payer=None, category=GapCategory.SITE_OF_SERVICE, description="Ask CV")
        detect_gaps(today=TODAY)
        assert "site_of_service_missing" not in open_rules(code)
        manual.refresh_from_db()
        assert (manual.status, manual.description, manual.rule) == (GapStatus.OPEN, "Ask CV", "")

    def test_wont_fix_gap_is_not_reopened(self, curated):
        code, _payer = curated
        detect_gaps(today=TODAY)
        gap = FollowUpGap.objects.get(rule="benchmark_missing")
        gap.status = GapStatus.WONT_FIX
        gap.resolution_note = "No RVUs for this code"
        gap.save()
        detect_gaps(today=TODAY)
        assert FollowUpGap.objects.filter(rule="benchmark_missing").count() == 1
        gap.refresh_from_db()
        assert gap.status == GapStatus.WONT_FIX

    def test_history_names_the_system_account_and_the_rule(self, curated):
        detect_gaps(today=TODAY)
        record = FollowUpGap.objects.get(rule="benchmark_missing").history.first()
        assert record.history_user.username == "policyhub-system"
        assert record.history_change_reason == "Opened by gap detection (benchmark_missing)"

    @pytest.mark.parametrize("codes", [5, 30])
    def test_queries_do_not_grow_with_the_number_of_codes(self, codes, django_assert_max_num_queries):
        PayerFactory(is_tracked=True)
        PolicyDocumentFactory(next_review=date(2020, 1, 1))
        for _ in range(codes):
            CodeBriefFactory(state=WorkflowState.PUBLISHED)
        # Each bulk write also appends its change-log entries: a few queries per batch, not per code.
        with django_assert_max_num_queries(60):
            detect_gaps(today=TODAY)
        assert FollowUpGap.objects.filter(rule="benchmark_missing").count() == codes

    def test_admin_action_runs_detection_for_the_selected_codes(self, curated, staff_client):
        code, _payer = curated
        other = CodeBriefFactory(state=WorkflowState.PUBLISHED).code
        response = staff_client.post(
            reverse("admin:codes_billingcode_changelist"),
            {"action": "detect_gaps_of_codes", "_selected_action": [code.pk]},
            follow=True,
        )
        assert "Gap detection for 1 code: 4 opened" in response.content.decode()
        assert open_rules(code) == CODE_RULES
        assert open_rules(other) == set()


class TestCompleteness:
    def test_bare_and_fully_curated_codes(self, curated):
        code, payer = curated
        bare = completeness_report(code)
        assert bare.sections == 11
        assert "Payer coverage" in bare.missing and "Reimbursement benchmark" in bare.missing

        BillingCode.objects.filter(pk=code.pk).update(long_descriptor="Percutaneous transcatheter closure")
        brief = code.briefs.get()
        for name in ("headline", "service_type", "site_of_service_summary", "clinical_context"):
            setattr(brief, name, f"{name} text")
        brief.save()
        code.modifier_guidance.create(modifier=None, when_to_use="Single operator", state=WorkflowState.PUBLISHED)
        criterion = CoverageCriterionFactory(
            code=code, payer=payer, coverage_status=CoverageStatus.COVERED, prior_auth="required"
        )
        criterion.diagnosis_codes.add(DiagnosisCodeFactory(code="I350"))
        DocumentationRequirementFactory(code=code)
        BenchmarkFactory(code=code, metric=BenchmarkMetric.WORK_RVU)
        BenchmarkFactory(code=code, metric=BenchmarkMetric.ANNUAL_UTILIZATION, unit="services")
        report = completeness_report(code)
        assert (report.percent, report.missing) == (100, [])
        assert completeness(code) == 100

    def test_demo_codes_score_what_the_seeds_hold(self, demo):
        """93590's seed lacks coverage, documentation, diagnoses and benchmarks: 6 of 11 sections filled."""
        report = completeness_report(BillingCode.objects.get(code="93590"))
        assert report.missing == [
            "Payer coverage",
            "Documentation requirements",
            "Diagnosis coding",
            "Reimbursement benchmark",
            "Utilization benchmark",
        ]
        assert report.percent == 55 == completeness(BillingCode.objects.get(code="93590"))

    def test_score_on_the_brief_page_and_in_the_admin_list(self, demo, staff_client):
        page = staff_client.get(reverse("codes:detail", args=["93590"])).content.decode()
        assert "Brief completeness" in page
        assert "55%" in page and "6 of 11 sections filled" in page
        assert "<li>Diagnosis coding</li>" in page
        listing = staff_client.get(reverse("admin:codes_billingcode_changelist")).content.decode()
        assert "55%" in listing

    def test_admin_list_scores_its_page_and_sorts_by_score(self, demo, staff_client):
        """The score is read for the page's codes (not planned for the whole catalogue), and the list
        still sorts by it."""
        url = reverse("admin:codes_billingcode_changelist")
        with CaptureQueriesContext(connection) as page:
            listing = staff_client.get(url)
        scored = [query["sql"] for query in page if "payers_documentationrequirement" in query["sql"]]
        assert len(scored) == 1
        assert '"codes_billingcode"."id" IN (' in scored[0]
        by_code = {row[1]: row[-1] for row in table_rows(listing.content, "result_list")[1:]}
        assert by_code["93590"] == "55%"

        for order in ("9", "-9"):  # the ninth column after the action checkbox: complete
            rows = table_rows(staff_client.get(url, {"o": order}).content, "result_list")[1:]
            scores = [int(row[-1].rstrip("%")) for row in rows]
            assert scores == sorted(scores, reverse=order.startswith("-"))
            assert {row[1]: row[-1] for row in rows} == by_code
