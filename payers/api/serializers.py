"""Representations of payers, coverage and the whole code brief in the API.

Serializers read only what the view's selector has joined or prefetched: none of them queries.
Workflow fields stay out: the API only ever shows published content.
"""

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers
from rest_framework.reverse import reverse

from codes.api.serializers import (
    BillingCodeSerializer,
    BillingCodeSummarySerializer,
    CodeBriefTextSerializer,
    CodeDiagnosisSerializer,
    DiagnosisCodeSummarySerializer,
    ModifierGuidanceSerializer,
    RelatedCodeSerializer,
    SiteOfServiceSerializer,
    related_codes,
)
from payers.api import fast
from payers.api.changes import RESOURCES, ChangeAction
from payers.choices import CRD_COVERED, CRD_PA_NEEDED
from payers.models import Benchmark, CoverageCriterion, DocumentationRequirement, FollowUpGap, Payer, PolicyDocument
from policyhub.representations import links_of


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

    def to_representation(self, instance):
        # The same output, without DRF's per-field cost (payers/api/fast.py).
        return fast.criterion(instance, links_of(self), with_code="code" in self.Meta.fields)


class DocumentationRequirementSerializer(serializers.ModelSerializer):
    url = serializers.HyperlinkedIdentityField(view_name="api:documentation-requirement-detail")
    code = BillingCodeSummarySerializer(read_only=True)
    payer = PayerSummarySerializer(read_only=True, allow_null=True, help_text="Null: every payer expects it.")
    policy = PolicyDocumentSummarySerializer(read_only=True, allow_null=True)

    class Meta:
        model = DocumentationRequirement
        fields = ["id", "url", "code", "payer", "kind", "text", "level", "purpose", "policy", "updated_at"]

    def to_representation(self, instance):
        return fast.requirement(instance, links_of(self), with_code="code" in self.Meta.fields)


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

    def to_representation(self, instance):
        return fast.gap(instance, links_of(self), with_code="code" in self.Meta.fields)


def _without_code(serializer_class, name):
    """The same representation inside a code's brief, where the code is the brief's own."""
    meta = type("Meta", (serializer_class.Meta,), {"fields": [f for f in serializer_class.Meta.fields if f != "code"]})
    return type(name, (serializer_class,), {"Meta": meta, "__doc__": serializer_class.__doc__})


BriefCoverageSerializer = _without_code(CoverageCriterionSerializer, "BriefCoverageSerializer")
BriefDocumentationSerializer = _without_code(DocumentationRequirementSerializer, "BriefDocumentationSerializer")
BriefBenchmarkSerializer = _without_code(BenchmarkSerializer, "BriefBenchmarkSerializer")
BriefGapSerializer = _without_code(FollowUpGapSerializer, "BriefGapSerializer")


class CodeBriefSerializer(BillingCodeSerializer):
    """A code's whole brief: catalogue facts, curated text, coverage per payer and the known gaps.

    Reads the attributes that `payers.selectors.code_brief_queryset()` prefetches.
    """

    brief = serializers.SerializerMethodField(help_text="The published brief text; null while there is none.")
    sites_of_service = SiteOfServiceSerializer(many=True, read_only=True)
    modifier_guidance = ModifierGuidanceSerializer(many=True, read_only=True)
    related_codes = serializers.SerializerMethodField(help_text="Codes linked to this one, in both directions.")
    diagnosis_codes = CodeDiagnosisSerializer(source="code_diagnoses", many=True, read_only=True)
    coverage = BriefCoverageSerializer(many=True, read_only=True, help_text="Published criteria, per payer.")
    documentation_requirements = BriefDocumentationSerializer(source="documentation", many=True, read_only=True)
    benchmarks = BriefBenchmarkSerializer(source="benchmark_rows", many=True, read_only=True)
    open_gaps = BriefGapSerializer(many=True, read_only=True, help_text="What is still missing, and who chases it.")

    def to_representation(self, instance):
        # Field by field: the codes list's hand-written row covers only the list's fields.
        return serializers.ModelSerializer.to_representation(self, instance)

    class Meta(BillingCodeSerializer.Meta):
        fields = [
            *BillingCodeSerializer.Meta.fields,
            "brief",
            "sites_of_service",
            "modifier_guidance",
            "related_codes",
            "diagnosis_codes",
            "coverage",
            "documentation_requirements",
            "benchmarks",
            "open_gaps",
        ]

    @extend_schema_field(CodeBriefTextSerializer(allow_null=True))
    def get_brief(self, code):
        briefs = code.published_briefs
        return CodeBriefTextSerializer(briefs[0], context=self.context).data if briefs else None

    @extend_schema_field(RelatedCodeSerializer(many=True))
    def get_related_codes(self, code):
        return RelatedCodeSerializer(related_codes(code), many=True, context=self.context).data


# Route name and lookup keyword of each resource the changes feed reports.
RESOURCE_ROUTES = {
    "codes": ("api:code-detail", "code"),
    "modifiers": ("api:modifier-detail", "code"),
    "places-of-service": ("api:place-of-service-detail", "code"),
    "diagnosis-codes": ("api:diagnosis-code-detail", "code"),
    "payers": ("api:payer-detail", "slug"),
    "payer-policies": ("api:payer-policy-detail", "pk"),
    "coverage-criteria": ("api:coverage-criterion-detail", "pk"),
    "documentation-requirements": ("api:documentation-requirement-detail", "pk"),
    "benchmarks": ("api:benchmark-detail", "pk"),
    "gaps": ("api:gap-detail", "pk"),
}


class ChangeQuerySerializer(serializers.Serializer):
    """The changes feed's query parameters."""

    since = serializers.DateTimeField(help_text="ISO 8601 date-time; changes at or after it are listed.")
    until = serializers.DateTimeField(required=False, help_text="ISO 8601 date-time; only changes before it.")
    model = serializers.MultipleChoiceField(
        choices=RESOURCES, required=False, help_text="Only changes of these resources; repeat for several."
    )

    def validate(self, attrs):
        if attrs.get("until") and attrs["until"] <= attrs["since"]:
            raise serializers.ValidationError({"until": "Must be later than since."})
        return attrs


class ChangeSerializer(serializers.Serializer):
    """One change of published data."""

    model = serializers.ChoiceField(choices=RESOURCES, help_text="The resource that changed: /api/v1/<model>/<key>/.")
    key = serializers.CharField(help_text="Its lookup value: the code for codes, the slug for payers, else the id.")
    action = serializers.ChoiceField(
        choices=ChangeAction.choices, help_text="`deleted`: no longer published (retired or removed)."
    )
    time = serializers.DateTimeField(help_text="When the change was recorded.")
    billing_code = serializers.CharField(
        allow_null=True, help_text="The billing code whose brief the change also touches, if any."
    )
    url = serializers.SerializerMethodField(help_text="Where to fetch the resource now; null when deleted.")

    @extend_schema_field(serializers.URLField(allow_null=True))
    def get_url(self, change: dict) -> str | None:
        if change["action"] == ChangeAction.DELETED:
            return None
        route, keyword = RESOURCE_ROUTES[change["model"]]
        return reverse(route, kwargs={keyword: change["key"]}, request=self.context.get("request"))
