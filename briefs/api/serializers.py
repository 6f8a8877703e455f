"""The whole code brief and the changes feed in the API.

Serializers read only what the view's selector has joined or prefetched: none of them queries.
Workflow fields stay out: the API only ever shows published content.
"""

from urllib.parse import quote

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers
from rest_framework.reverse import reverse

from briefs.api.changes import RESOURCES, ChangeAction
from codes.api.serializers import (
    BillingCodeSerializer,
    CodeBriefTextSerializer,
    CodeDiagnosisSerializer,
    ModifierGuidanceSerializer,
    RelatedCodeSerializer,
    SiteOfServiceSerializer,
    related_codes,
)
from payers.api.serializers import (
    BenchmarkSerializer,
    CoverageCriterionSerializer,
    DocumentationRequirementSerializer,
    FollowUpGapSerializer,
)


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
        # `model` is the resource's router prefix and `key` its lookup value, so the router's root is all it needs.
        root = reverse("api:api-root", request=self.context.get("request"))
        return f"{root}{change['model']}/{quote(str(change['key']), safe='')}/"
