"""Invariants of the data model hold on SQLite and PostgreSQL: model validation explains the problem,
and the database refuses the row even when validation is bypassed."""

import datetime

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from codes.choices import CodeSystem, RelationshipKind
from codes.models import BillingCode, CodeBrief, CodeRelationship, DiagnosisCode, Modifier, ModifierGuidance
from payers.choices import BenchmarkSetting, GapStatus
from payers.models import Benchmark, CoverageCriterion, FollowUpGap, PolicyDocument
from policyhub.choices import WorkflowState
from policyhub.records import Outcome, sync_record
from tests.factories import (
    BenchmarkFactory,
    BillingCodeFactory,
    CodeBriefFactory,
    CodeRelationshipFactory,
    CoverageCriterionFactory,
    FollowUpGapFactory,
    ModifierFactory,
    ModifierGuidanceFactory,
    PayerFactory,
    PolicyDocumentFactory,
)

pytestmark = pytest.mark.django_db

JAN_1 = datetime.date(2025, 1, 1)
JUN_30 = datetime.date(2025, 6, 30)
JUL_1 = datetime.date(2025, 7, 1)
DEC_31 = datetime.date(2025, 12, 31)


def messages(excinfo) -> str:
    """All messages of a ValidationError, joined, so a test can look for the words a curator reads."""
    return " ".join(excinfo.value.messages)


def refused_by_database(save):
    """The database itself rejects the write (inside a savepoint, so PostgreSQL can continue)."""
    with pytest.raises(IntegrityError), transaction.atomic():
        save()


class TestBillingCode:
    def test_duplicate_code_in_same_system_is_refused(self):
        """A second CPT 93590 gets 'already exists' from validation and an IntegrityError from the database."""
        BillingCodeFactory(code="93590")
        duplicate = BillingCode(system=CodeSystem.CPT, code="93590", short_descriptor="Again")
        with pytest.raises(ValidationError) as excinfo:
            duplicate.full_clean()
        assert "This code already exists in that code system." in messages(excinfo)
        refused_by_database(duplicate.save)

    def test_same_code_text_in_another_system_is_a_different_code(self):
        """Uniqueness is per code system: the format check, not uniqueness, decides between systems."""
        BillingCodeFactory(system=CodeSystem.HCPCS, code="A0021")
        with pytest.raises(ValidationError) as excinfo:
            BillingCode(system=CodeSystem.CPT, code="A0021", short_descriptor="x").full_clean()
        assert "already exists" not in messages(excinfo)
        assert "A CPT code is four digits" in messages(excinfo)

    @pytest.mark.parametrize(
        ("system", "code"),
        [
            (CodeSystem.CPT, "9359"),
            (CodeSystem.CPT, "9359X"),
            (CodeSystem.CPT, "A0021"),
            (CodeSystem.HCPCS, "93590"),
            (CodeSystem.HCPCS, "A002"),
            (CodeSystem.HCPCS, "AB021"),
        ],
    )
    def test_malformed_codes_are_refused(self, system, code):
        """A code that does not match its system's format is refused with the format explained."""
        row = BillingCode(system=system, code=code, short_descriptor="Malformed")
        with pytest.raises(ValidationError) as excinfo:
            row.full_clean()
        assert "a HCPCS Level II code is a capital letter and four digits" in messages(excinfo)
        refused_by_database(row.save)

    @pytest.mark.parametrize(("system", "code"), [(CodeSystem.CPT, "0001F"), (CodeSystem.CPT, "0042T")])
    def test_cpt_category_ii_and_iii_codes_are_accepted(self, system, code):
        """CPT Category II (…F) and III (…T) codes are valid CPT codes."""
        BillingCode(system=system, code=code, short_descriptor="Valid").full_clean()

    def test_lowercase_hcpcs_code_is_normalised_by_validation_but_refused_raw_by_the_database(self):
        """Validation upper-cases 'a0021'; the database never stores a lowercase code."""
        row = BillingCode(system=CodeSystem.HCPCS, code="a0021", short_descriptor="Ambulance")
        row.full_clean()
        assert row.code == "A0021"
        refused_by_database(
            lambda: BillingCode.objects.create(system=CodeSystem.HCPCS, code="a0022", short_descriptor="x")
        )

    def test_termination_before_effective_date_is_refused(self):
        """A code cannot be terminated before it took effect."""
        row = BillingCode(
            system=CodeSystem.CPT, code="93590", short_descriptor="x", effective_date=JUL_1, termination_date=JAN_1
        )
        with pytest.raises(ValidationError) as excinfo:
            row.full_clean()
        assert "The termination date cannot be before the effective date." in messages(excinfo)
        refused_by_database(row.save)


class TestCatalogue:
    def test_modifier_must_be_two_capital_letters_or_digits(self):
        """'x' and '6' are not modifiers; the message says what one looks like."""
        for bad in ("x", "6", "5a"):
            with pytest.raises(ValidationError) as excinfo:
                Modifier(code=bad, description="Bad").full_clean()
            assert "A modifier is two capital letters or digits." in messages(excinfo) or "at most 2" in messages(
                excinfo
            )
        refused_by_database(lambda: Modifier.objects.create(code="5a", description="Bad"))

    def test_diagnosis_code_typed_with_dot_is_stored_without_it(self):
        """A curator types I25.10; it is stored as I2510 and shown as I25.10."""
        row = DiagnosisCode(code="i25.10", description="Atherosclerotic heart disease")
        row.full_clean()
        row.save()
        assert row.code == "I2510"
        assert row.display_code == "I25.10"

    def test_seven_character_diagnosis_code_typed_with_dot_is_accepted(self):
        """A full seven-character code typed with its dot (eight characters) is still valid."""
        row = DiagnosisCode(code="T82.857A", description="Stenosis of other cardiac prosthetic devices")
        row.full_clean()
        assert row.code == "T82857A"

    def test_malformed_diagnosis_code_is_refused(self):
        """'125.10' (a digit first) is not ICD-10-CM; the message says what is."""
        row = DiagnosisCode(code="12510", description="x")
        with pytest.raises(ValidationError) as excinfo:
            row.full_clean()
        assert "An ICD-10-CM code is 3 to 7 characters" in messages(excinfo)
        refused_by_database(row.save)

    def test_code_cannot_be_related_to_itself(self):
        """93592 'add-on to' 93592 is refused."""
        code = BillingCodeFactory()
        row = CodeRelationship(from_code=code, to_code=code, kind=RelationshipKind.ADD_ON_TO)
        with pytest.raises(ValidationError) as excinfo:
            row.full_clean()
        assert "A code cannot be related to itself." in messages(excinfo)
        refused_by_database(row.save)

    def test_duplicate_relationship_is_refused(self):
        """The same add-on relationship cannot be recorded twice."""
        add_on, primary = BillingCodeFactory(), BillingCodeFactory()
        CodeRelationshipFactory(from_code=add_on, to_code=primary, kind=RelationshipKind.ADD_ON_TO)
        row = CodeRelationship(from_code=add_on, to_code=primary, kind=RelationshipKind.ADD_ON_TO)
        with pytest.raises(ValidationError) as excinfo:
            row.full_clean()
        assert "This relationship already exists." in messages(excinfo)
        refused_by_database(row.save)

    def test_one_current_brief_per_code(self):
        """A second brief for a code is refused; a revision of the existing brief is allowed."""
        brief = CodeBriefFactory()
        second = CodeBrief(code=brief.code, title="Second")
        with pytest.raises(ValidationError) as excinfo:
            second.full_clean()
        assert "This code already has a brief" in messages(excinfo)
        refused_by_database(second.save)
        CodeBrief(code=brief.code, title="Revision", revision_of=brief).full_clean()


class TestModifierGuidance:
    def test_same_modifier_twice_for_a_code_is_refused(self):
        """Modifier 62 has one guidance row per code."""
        code, modifier = BillingCodeFactory(), ModifierFactory(code="62")
        ModifierGuidanceFactory(code=code, modifier=modifier, when_to_use="Two surgeons")
        row = ModifierGuidance(code=code, modifier=modifier, when_to_use="Again")
        with pytest.raises(ValidationError) as excinfo:
            row.full_clean()
        assert "This modifier already has guidance for the code." in messages(excinfo)
        refused_by_database(row.save)

    def test_only_one_no_modifier_row_per_code(self):
        """The 'no modifier' (00) row exists at most once per code, on every database."""
        code = BillingCodeFactory()
        ModifierGuidanceFactory(code=code, modifier=None, when_to_use="Standard reporting")
        row = ModifierGuidance(code=code, modifier=None, when_to_use="Again")
        with pytest.raises(ValidationError) as excinfo:
            row.full_clean()
        assert "The code already has a 'no modifier' row." in messages(excinfo)
        refused_by_database(row.save)
        assert row.modifier_label == "00"
        assert row.modifier_description == "No modifier"

    def test_no_modifier_rows_of_different_codes_coexist(self):
        """Each code may have its own 'no modifier' row."""
        ModifierGuidanceFactory(modifier=None)
        other = ModifierGuidance(code=BillingCodeFactory(), modifier=None)
        other.full_clean()
        other.save()


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
