"""Invariants of the code catalogue (billing codes, modifiers, diagnoses, relationships, briefs, modifier
guidance) hold on SQLite and PostgreSQL: model validation explains the problem, and the database refuses
the row even when validation is bypassed. The payer side: test_constraints_payers.py."""

import pytest
from django.core.exceptions import ValidationError

from codes.choices import CodeSystem, RelationshipKind
from codes.models import BillingCode, CodeBrief, CodeRelationship, DiagnosisCode, Modifier, ModifierGuidance
from tests.factories import (
    BillingCodeFactory,
    CodeBriefFactory,
    CodeRelationshipFactory,
    ModifierFactory,
    ModifierGuidanceFactory,
)
from tests.foundation.constraints import JAN_1, JUL_1, messages, refused_by_database

pytestmark = pytest.mark.django_db


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


class TestCheckConstraintsSeeTheColumnsTheyName:
    """Model validation gives each check constraint only the columns its condition names (speed);
    a column named by its database name (`to_code_id`) must still be seen."""

    def test_the_columns_a_condition_names_are_kept(self):
        from django.db.models import F, Q

        from policyhub.models import unnamed_columns

        left_out = unnamed_columns(CodeRelationship, ~Q(from_code=F("to_code_id")))
        assert "from_code" not in left_out and "to_code" not in left_out
        assert {"kind", "note", "state"} <= left_out
        # A name that is no column of the table: nothing is left out, Django's own validation runs.
        assert unnamed_columns(CodeRelationship, Q(no_such_column=1)) == set()

    def test_a_two_column_check_is_still_enforced_by_full_clean(self):
        code = BillingCodeFactory(code="93590")
        link = CodeRelationship(from_code=code, to_code=code, kind=RelationshipKind.ADD_ON_TO)
        with pytest.raises(ValidationError, match="cannot be related to itself"):
            link.full_clean()
