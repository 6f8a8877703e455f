"""Representations of payers, coverage, documentation, benchmarks and gaps in the API.

Serializers read only what the view's selector has joined or prefetched: none of them queries.
Workflow fields stay out: the API only ever shows published content.
"""

from rest_framework import serializers

from codes.api.serializers import BillingCodeSummarySerializer, DiagnosisCodeSummarySerializer
from payers.choices import CRD_COVERED, CRD_PA_NEEDED
from payers.models import Benchmark, CoverageCriterion, DocumentationRequirement, FollowUpGap, Payer, PolicyDocument


def _distinct(values) -> list[tuple[str, str]]:
    return [(value, value) for value in dict.fromkeys(values)]


class PayerSummarySerializer(serializers.ModelSerializer):
    url = serializers.HyperlinkedIdentityField(view_name="api:payer-detail", lookup_field="slug")

    class Meta:
        model = Payer
        fields = ["url", "slug", "name", "kind"]


class PayerSerializer(serializers.ModelSerializer):
    url = serializers.HyperlinkedIdentityField(view_name="api:payer-detail", lookup_field="slug")
    website = serializers.CharField(read_only=True, help_text="The payer's website; empty when unknown.")

    class Meta:
        model = Payer
        fields = ["url", "slug", "name", "kind", "is_national", "is_tracked", "website", "updated_at"]


class PolicyDocumentSummarySerializer(serializers.ModelSerializer):
    """The source policy cited by a criterion or requirement."""

    url = serializers.HyperlinkedIdentityField(view_name="api:payer-policy-detail")
    # Not URLField: the schema's "uri" format would refuse the empty string of an unknown address.
    document_url = serializers.CharField(
        source="url", read_only=True, help_text="Where the payer publishes it; empty when unknown."
    )

    class Meta:
        model = PolicyDocument
        fields = [
            "id",
            "url",
            "document_type",
            "number",
            "document_version",
            "title",
            "document_url",
            "effective_date",
            "last_reviewed",
            "next_review",
        ]


class PolicyDocumentSerializer(PolicyDocumentSummarySerializer):
    payer = PayerSummarySerializer(read_only=True)

    class Meta(PolicyDocumentSummarySerializer.Meta):
        fields = [
            "id",
            "url",
            "payer",
            "document_type",
            "number",
            "document_version",
            "title",
            "document_url",
            "original_effective_date",
            "effective_date",
            "last_reviewed",
            "next_review",
            "retirement_date",
            "contractor",
            "source_id",
            "updated_at",
        ]


class CoverageCriterionSerializer(serializers.ModelSerializer):
    """How a payer covers a code over an effective period, with the HL7 Da Vinci CRD values."""

    url = serializers.HyperlinkedIdentityField(view_name="api:coverage-criterion-detail")
    code = BillingCodeSummarySerializer(read_only=True)
    payer = PayerSummarySerializer(read_only=True)
    crd_covered = serializers.ChoiceField(
        choices=_distinct(CRD_COVERED.values()),
        read_only=True,
        help_text="HL7 Da Vinci CRD coverage-information `covered` for the coverage status.",
    )
    crd_pa_needed = serializers.ChoiceField(
        choices=_distinct(CRD_PA_NEEDED.values()),
        read_only=True,
        help_text="HL7 Da Vinci CRD coverage-information `pa-needed` for the prior-authorization status.",
    )
    diagnosis_codes = DiagnosisCodeSummarySerializer(many=True, read_only=True)
    policy = PolicyDocumentSummarySerializer(read_only=True, allow_null=True)
    published_at = serializers.DateTimeField(source="reviewed_at", read_only=True, allow_null=True)

    class Meta:
        model = CoverageCriterion
        fields = [
            "id",
            "url",
            "code",
            "payer",
            "coverage_status",
            "crd_covered",
            "prior_auth",
            "crd_pa_needed",
            "prior_auth_delegate",
            "criteria",
            "limitations",
            "diagnosis_codes",
            "policy",
            "effective_start",
            "effective_end",
            "last_verified",
            "published_at",
            "updated_at",
        ]


class DocumentationRequirementSerializer(serializers.ModelSerializer):
    url = serializers.HyperlinkedIdentityField(view_name="api:documentation-requirement-detail")
    code = BillingCodeSummarySerializer(read_only=True)
    payer = PayerSummarySerializer(read_only=True, allow_null=True, help_text="Null: every payer expects it.")
    policy = PolicyDocumentSummarySerializer(read_only=True, allow_null=True)

    class Meta:
        model = DocumentationRequirement
        fields = ["id", "url", "code", "payer", "kind", "text", "level", "purpose", "policy", "updated_at"]


class BenchmarkSerializer(serializers.ModelSerializer):
    url = serializers.HyperlinkedIdentityField(view_name="api:benchmark-detail")
    code = BillingCodeSummarySerializer(read_only=True)
    payer = PayerSummarySerializer(read_only=True, allow_null=True, help_text="Null: a national figure.")

    class Meta:
        model = Benchmark
        fields = [
            "id",
            "url",
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
            "updated_at",
        ]


class FollowUpGapSerializer(serializers.ModelSerializer):
    url = serializers.HyperlinkedIdentityField(view_name="api:gap-detail")
    code = BillingCodeSummarySerializer(read_only=True, allow_null=True)
    payer = PayerSummarySerializer(read_only=True, allow_null=True)
    policy = PolicyDocumentSummarySerializer(read_only=True, allow_null=True)
    assignee = serializers.SlugRelatedField(
        slug_field="username", read_only=True, allow_null=True, help_text="Username of who chases it."
    )

    class Meta:
        model = FollowUpGap
        fields = [
            "id",
            "url",
            "code",
            "payer",
            "policy",
            "category",
            "description",
            "status",
            "priority",
            "assignee",
            "due_date",
            "resolution_note",
            "opened_at",
            "resolved_at",
            "rule",
            "updated_at",
        ]
