"""Invariants of the payer side (coverage criteria and their periods, policy documents, benchmarks,
follow-up gaps) hold on SQLite and PostgreSQL: model validation explains the problem, and the database
refuses the row even when validation is bypassed. The code catalogue: test_constraints_codes.py."""

import datetime

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from payers.choices import BenchmarkSetting, GapStatus
from payers.models import Benchmark, CoverageCriterion, FollowUpGap, PolicyDocument
from policyhub.choices import WorkflowState
from policyhub.records import Outcome, sync_record
from tests.factories import (
    BenchmarkFactory,
    BillingCodeFactory,
    CoverageCriterionFactory,
    FollowUpGapFactory,
    PayerFactory,
    PolicyDocumentFactory,
)
from tests.foundation.constraints import DEC_31, JAN_1, JUL_1, JUN_30, messages, refused_by_database

pytestmark = pytest.mark.django_db


class TestCoverageCriterion:
    def criterion(self, template, **kwargs):
        return CoverageCriterion(code=template.code, payer=template.payer, **{"state": WorkflowState.DRAFT, **kwargs})

    def test_end_before_start_is_refused(self):
        """An end date before the start date is a clear field error and an IntegrityError in the database."""
        existing = CoverageCriterionFactory(effective_start=JAN_1, effective_end=JUN_30)
        row = self.criterion(existing, effective_start=DEC_31, effective_end=JUL_1)
        with pytest.raises(ValidationError) as excinfo:
            row.full_clean()
        assert excinfo.value.message_dict["effective_end"] == [
            "The effective end date cannot be before the start date."
        ]
        refused_by_database(row.save)

    @pytest.mark.parametrize(
        ("start", "end"),
        [
            (JUN_30, DEC_31),  # starts on the existing criterion's last day
            (None, JAN_1),  # open start reaching into it
            (datetime.date(2025, 3, 1), None),  # open end starting inside it
            (None, None),  # all time
        ],
    )
    def test_overlapping_period_for_same_code_and_payer_is_refused(self, start, end):
        """Two criteria for one code and payer cannot both be in force on any day."""
        existing = CoverageCriterionFactory(effective_start=JAN_1, effective_end=JUN_30)
        row = self.criterion(existing, effective_start=start, effective_end=end)
        with pytest.raises(ValidationError) as excinfo:
            row.full_clean()
        text = messages(excinfo)
        assert f"{existing.payer.name} already has a criterion for {existing.code.code} in force" in text
        assert "from 2025-01-01 to 2025-06-30" in text
        assert "cannot overlap" in text

    def test_adjacent_periods_and_other_payers_are_allowed(self):
        """The next period may start the day after the last one ends; another payer is independent."""
        existing = CoverageCriterionFactory(effective_start=JAN_1, effective_end=JUN_30)
        self.criterion(existing, effective_start=JUL_1, effective_end=None).full_clean()
        CoverageCriterion(code=existing.code, payer=PayerFactory(), effective_start=JAN_1).full_clean()

    def test_revision_and_retired_rows_do_not_count_as_overlap(self):
        """A pending revision stands in for its published row; retired rows are no longer in force."""
        existing = CoverageCriterionFactory(effective_start=JAN_1, effective_end=JUN_30)
        revision = self.criterion(existing, effective_start=JAN_1, effective_end=DEC_31, revision_of=existing)
        revision.full_clean()
        revision.save()
        existing.state = WorkflowState.RETIRED
        existing.save()
        self.criterion(existing, effective_start=JAN_1).full_clean()

    def test_editing_a_criterion_does_not_clash_with_itself(self):
        """Saving a criterion again with a longer period is not an overlap with its old self."""
        existing = CoverageCriterionFactory(effective_start=JAN_1, effective_end=JUN_30)
        existing.effective_end = DEC_31
        existing.full_clean()

    def test_policy_of_another_payer_is_refused(self):
        """The source policy must be the payer's own."""
        existing = CoverageCriterionFactory()
        row = self.criterion(existing, policy=PolicyDocumentFactory())
        with pytest.raises(ValidationError) as excinfo:
            row.full_clean()
        assert excinfo.value.message_dict["policy"] == ["The source policy belongs to another payer."]

    def test_the_database_refuses_overlap_even_when_validation_is_bypassed(self):
        """The exclusion constraint (PostgreSQL) or trigger (SQLite) stops an overlapping row saved without clean()."""
        existing = CoverageCriterionFactory(effective_start=JAN_1, effective_end=JUN_30)
        refused_by_database(lambda: self.criterion(existing, effective_start=JUN_30).save())
        refused_by_database(lambda: self.criterion(existing).save())
        with pytest.raises(IntegrityError) as excinfo, transaction.atomic():
            self.criterion(existing, effective_end=JAN_1).save()
        assert "coveragecriterion_no_overlap" in str(excinfo.value)

    def test_the_database_refuses_overlap_through_bulk_create_and_update(self):
        """Writes that never call save() (bulk_create, queryset update) are refused the same way."""
        existing = CoverageCriterionFactory(effective_start=JAN_1, effective_end=JUN_30)
        refused_by_database(
            lambda: CoverageCriterion.objects.bulk_create([self.criterion(existing, effective_start=JUN_30)])
        )
        later = self.criterion(existing, effective_start=JUL_1, effective_end=DEC_31)
        later.save()
        refused_by_database(
            lambda: CoverageCriterion.objects.filter(pk=later.pk).update(effective_start=datetime.date(2025, 6, 1))
        )
        # A retired row coming back into force is an overlap too.
        retired = self.criterion(existing, effective_start=JAN_1, state=WorkflowState.RETIRED)
        retired.save()
        refused_by_database(
            lambda: CoverageCriterion.objects.filter(pk=retired.pk).update(state=WorkflowState.PUBLISHED)
        )
        assert CoverageCriterion.objects.filter(code=existing.code).count() == 3

    def test_the_database_allows_what_validation_allows(self):
        """Adjacent periods, revisions, retired rows and a row's own longer period pass the database too."""
        existing = CoverageCriterionFactory(effective_start=JAN_1, effective_end=JUN_30)
        self.criterion(existing, effective_start=JUL_1).save()
        self.criterion(existing, effective_start=JAN_1, revision_of=existing).save()
        self.criterion(existing, effective_start=JAN_1, state=WorkflowState.RETIRED).save()
        CoverageCriterion.objects.filter(pk=existing.pk).update(effective_start=datetime.date(2024, 1, 1))
        assert CoverageCriterion.objects.filter(code=existing.code).count() == 4


class TestPolicyDocument:
    def test_duplicate_policy_number_for_a_payer_is_refused(self):
        """One payer cannot have policy number 0826 twice (unversioned), but another payer can."""
        policy = PolicyDocumentFactory(number="0826")
        row = PolicyDocument(payer=policy.payer, number="0826", title="Again")
        with pytest.raises(ValidationError) as excinfo:
            row.full_clean()
        assert "This payer already has that policy number." in messages(excinfo)
        refused_by_database(row.save)
        PolicyDocument(payer=PayerFactory(), number="0826", title="Other payer").full_clean()

    def test_versions_of_one_policy_number(self):
        """MCD documents keep several versions of one number; the same version twice is refused."""
        policy = PolicyDocumentFactory(number="L36668", document_version=3)
        PolicyDocument(payer=policy.payer, number="L36668", document_version=4, title="Next").full_clean()
        row = PolicyDocument(payer=policy.payer, number="L36668", document_version=3, title="Again")
        with pytest.raises(ValidationError) as excinfo:
            row.full_clean()
        assert "This payer already has that policy number and version." in messages(excinfo)
        refused_by_database(row.save)

    def test_document_version_is_not_the_edit_counter(self):
        """Editing a policy document bumps its edit counter and leaves the payer's version number alone."""
        policy = PolicyDocumentFactory(number="L36668", document_version=3)
        updated, outcome = sync_record(
            PolicyDocument, lookup={"pk": policy.pk}, values={"title": "Transcatheter paravalvular leak closure"}
        )
        assert outcome is Outcome.UPDATED
        updated.refresh_from_db()
        assert (updated.document_version, updated.version) == (3, 2)
        assert str(updated).startswith(f"{policy.payer.name} L36668 v3:")

    def test_next_review_before_last_review_is_refused(self):
        """A policy cannot be due for review before it was last reviewed."""
        row = PolicyDocumentFactory.build(payer=PayerFactory(), last_reviewed=JUL_1, next_review=JAN_1)
        with pytest.raises(ValidationError) as excinfo:
            row.full_clean()
        assert "The next review date cannot be before the last review." in messages(excinfo)
        refused_by_database(row.save)

    def test_retirement_before_effective_date_is_refused(self):
        """A policy cannot retire before it took effect."""
        row = PolicyDocumentFactory.build(payer=PayerFactory(), effective_date=JUL_1, retirement_date=JAN_1)
        with pytest.raises(ValidationError) as excinfo:
            row.full_clean()
        assert "The retirement date cannot be before the effective date." in messages(excinfo)
        refused_by_database(row.save)


class TestBenchmark:
    def test_national_benchmark_is_unique_per_code_metric_setting_and_period(self):
        """Two national work RVUs for 2024 Q3 are refused, even though the payer is empty."""
        existing = BenchmarkFactory(payer=None)
        row = BenchmarkFactory.build(code=existing.code, payer=None)
        with pytest.raises(ValidationError) as excinfo:
            row.full_clean()
        assert "This national benchmark already exists for the period." in messages(excinfo)
        refused_by_database(row.save)

    def test_payer_benchmark_is_unique_per_payer(self):
        """The same payer cannot have two figures for one metric, setting and period."""
        existing = BenchmarkFactory(payer=PayerFactory())
        row = BenchmarkFactory.build(code=existing.code, payer=existing.payer)
        with pytest.raises(ValidationError) as excinfo:
            row.full_clean()
        assert "This benchmark already exists for the period." in messages(excinfo)
        refused_by_database(row.save)

    def test_national_and_payer_figures_coexist(self):
        """A national figure and a payer's own figure for the same period are different benchmarks."""
        national = BenchmarkFactory(payer=None)
        BenchmarkFactory.build(code=national.code, payer=PayerFactory()).full_clean()
        BenchmarkFactory.build(code=national.code, payer=None, setting=BenchmarkSetting.FACILITY).full_clean()

    def test_period_end_before_start_is_refused(self):
        """A benchmark period cannot end before it starts."""
        row = BenchmarkFactory.build(code=BillingCodeFactory(), period_start=JUL_1, period_end=JAN_1)
        with pytest.raises(ValidationError) as excinfo:
            row.full_clean()
        assert "The period end cannot be before its start." in messages(excinfo)
        refused_by_database(row.save)
        assert not Benchmark.objects.exists()


class TestFollowUpGap:
    def test_gap_needs_a_code_or_a_policy(self):
        """A gap about nothing is refused."""
        row = FollowUpGapFactory.build(code=None, policy=None)
        with pytest.raises(ValidationError) as excinfo:
            row.full_clean()
        assert "A gap concerns a code or a policy document." in messages(excinfo)
        refused_by_database(row.save)

    def test_open_gap_with_resolution_time_is_refused_by_the_database(self):
        """The database refuses an open gap that claims to be resolved."""
        gap = FollowUpGapFactory()
        refused_by_database(lambda: FollowUpGap.objects.filter(pk=gap.pk).update(resolved_at=timezone.now()))

    def test_resolution_time_follows_the_status(self):
        """Resolving a gap stamps when; reopening it clears that again instead of failing."""
        gap = FollowUpGapFactory()
        gap.status = GapStatus.RESOLVED
        gap.save()
        assert gap.resolved_at is not None
        gap.status = GapStatus.OPEN
        gap.save()
        gap.refresh_from_db()
        assert gap.resolved_at is None

    def test_one_open_detected_gap_per_rule_and_subject(self):
        """Automatic detection cannot open the same gap twice; once resolved, it may open again."""
        gap = FollowUpGapFactory(rule="missing-criteria")
        row = FollowUpGapFactory.build(code=gap.code, rule="missing-criteria")
        with pytest.raises(ValidationError) as excinfo:
            row.full_clean()
        assert "An open gap already exists for this rule." in messages(excinfo)
        refused_by_database(row.save)
        gap.status = GapStatus.RESOLVED
        gap.save()
        row.full_clean()
        row.save()
