"""django-import-export resources of payers, policy documents, coverage, documentation, benchmarks
and follow-up gaps.

Rows name related rows by natural key: a code by its code, a payer by its slug, a policy document
by its payer, number and version. Reviewed content (coverage criteria, documentation requirements)
comes in as drafts: a new row starts in draft and goes through review like any other; a row that is
already in review, published or retired cannot be changed by an import (edit it in the admin,
which starts a draft revision), but an unchanged one in the file is simply skipped.
"""

from django.contrib.auth import get_user_model
from django.core.exceptions import NON_FIELD_ERRORS
from import_export import fields, widgets

from codes.models import BillingCode, DiagnosisCode
from codes.resources import AUDIT_FIELDS, CuratedResource, NaturalKeysWidget, NaturalKeyWidget
from payers.models import (
    Benchmark,
    CoverageCriterion,
    DocumentationRequirement,
    FollowUpGap,
    Payer,
    PolicyDocument,
)
from policyhub.choices import WorkflowState
from policyhub.models import current_rows


def code_field(attribute="code", column="code"):
    return fields.Field(attribute=attribute, column_name=column, widget=NaturalKeyWidget(BillingCode, "code"))


def payer_field():
    return fields.Field(attribute="payer", column_name="payer", widget=NaturalKeyWidget(Payer, "slug"))


class PolicyWidget(widgets.ForeignKeyWidget):
    """A policy document named by its number, with the row's payer and `policy_version` column."""

    def __init__(self):
        super().__init__(PolicyDocument, "number")

    def get_lookup_kwargs(self, value, row=None, **kwargs):
        lookup = {"number": value, "payer__slug": (row or {}).get("payer") or None}
        version = (row or {}).get("policy_version")
        lookup["document_version"] = int(version) if str(version or "").strip() else None
        return lookup

    def clean(self, value, row=None, **kwargs):
        if not value:
            return None
        lookup = self.get_lookup_kwargs(value, row, **kwargs)
        try:
            # The document itself, not a pending revision repeating its number (nor a retired one).
            return PolicyDocument.objects.filter(current_rows()).get(**lookup)
        except (PolicyDocument.DoesNotExist, ValueError):
            version = f" version {lookup['document_version']}" if lookup["document_version"] else ""
            raise ValueError(f"{lookup['payer__slug']} has no policy document {value}{version}") from None


def policy_fields():
    return (
        fields.Field(attribute="policy", column_name="policy", widget=PolicyWidget()),
        fields.Field(attribute="policy__document_version", column_name="policy_version", readonly=True),
    )


class PayerResource(CuratedResource):
    class Meta(CuratedResource.Meta):
        model = Payer
        import_id_fields = ("slug",)
        fields = ("slug", "name", "kind", "is_national", "is_tracked", "website", *AUDIT_FIELDS)


class ReviewedResource(CuratedResource):
    """Reviewed content: imported rows are drafts; only drafts can be changed by an import."""

    state = fields.Field(attribute="state", column_name="state", readonly=True)

    def refusals(self, instance) -> dict:
        if instance._state.adding or instance.state == WorkflowState.DRAFT:
            return {}
        return {
            NON_FIELD_ERRORS: [
                f"{instance} is {instance.get_state_display().lower()}: an import changes drafts only. "
                "Edit it in the admin to start a draft revision."
            ]
        }

    def before_save_instance(self, instance, row, **kwargs):
        super().before_save_instance(instance, row, **kwargs)
        if instance._state.adding:
            instance.state = WorkflowState.DRAFT
        written = str(row.get("state") or "").strip()
        if written and written.lower() not in {instance.state, instance.get_state_display().lower()}:
            self.coercions.append(
                f"Row {kwargs.get('row_number', '?')}: state '{written}' is stored as "
                f"'{instance.get_state_display().lower()}': imports make drafts, which then go through review."
            )


class PolicyDocumentResource(ReviewedResource):
    payer = payer_field()

    class Meta(CuratedResource.Meta):
        model = PolicyDocument
        import_id_fields = ("id",)
        fields = (
            "id",
            "payer",
            "document_type",
            "number",
            "document_version",
            "title",
            "url",
            "original_effective_date",
            "effective_date",
            "last_reviewed",
            "next_review",
            "retirement_date",
            "contractor",
            "source_id",
            "state",
            *AUDIT_FIELDS,
        )


class CoverageCriterionResource(ReviewedResource):
    code = code_field()
    payer = payer_field()
    policy, policy_version = policy_fields()
    diagnosis_codes = fields.Field(
        attribute="diagnosis_codes",
        column_name="diagnosis_codes",
        widget=NaturalKeysWidget(DiagnosisCode, separator=" ", field="code"),
    )

    class Meta(CuratedResource.Meta):
        model = CoverageCriterion
        import_id_fields = ("id",)
        fields = (
            "id",
            "code",
            "payer",
            "coverage_status",
            "prior_auth",
            "prior_auth_delegate",
            "criteria",
            "limitations",
            "diagnosis_codes",
            "policy",
            "policy_version",
            "effective_start",
            "effective_end",
            "last_verified",
            "state",
            *AUDIT_FIELDS,
        )

    def before_import_row(self, row, **kwargs):
        super().before_import_row(row, **kwargs)
        if row.get("diagnosis_codes"):
            # Written with dots (I25.10) or without; separated by spaces or commas.
            codes = str(row["diagnosis_codes"]).replace(",", " ").split()
            row["diagnosis_codes"] = " ".join(DiagnosisCode.normalise(code) for code in codes)


class DocumentationRequirementResource(ReviewedResource):
    code = code_field()
    payer = payer_field()
    policy, policy_version = policy_fields()

    class Meta(CuratedResource.Meta):
        model = DocumentationRequirement
        import_id_fields = ("id",)
        fields = ("id", "code", "payer", "kind", "text", "level", "purpose", "policy", "policy_version", "state")
        fields = (*fields, *AUDIT_FIELDS)


class BenchmarkResource(ReviewedResource):
    code = code_field()
    payer = payer_field()

    class Meta(CuratedResource.Meta):
        model = Benchmark
        import_id_fields = ("id",)
        fields = (
            "id",
            "code",
            "payer",
            "setting",
            "metric",
            "value",
            "unit",
            "period",
            "period_start",
            "period_end",
            "source",
            "state",
            *AUDIT_FIELDS,
        )


class FollowUpGapResource(ReviewedResource):
    code = code_field()
    payer = payer_field()
    policy, policy_version = policy_fields()
    assignee = fields.Field(
        attribute="assignee", column_name="assignee", widget=NaturalKeyWidget(get_user_model(), "username")
    )

    class Meta(CuratedResource.Meta):
        model = FollowUpGap
        import_id_fields = ("id",)
        fields = (
            "id",
            "code",
            "payer",
            "policy",
            "policy_version",
            "category",
            "description",
            "status",
            "priority",
            "assignee",
            "due_date",
            "resolution_note",
            "state",
            *AUDIT_FIELDS,
        )
