"""The whole code brief in the API.

Serializers read only what the view's selector has joined or prefetched: none of them queries,
except a coverage section's one query for its criteria's diagnoses. Workflow fields stay out: the
API only ever shows published content.
"""

from collections.abc import Callable

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from codes.api.serializers import (
    BillingCodeSerializer,
    CodeBriefTextSerializer,
    CodeDiagnosisSerializer,
    ModifierGuidanceSerializer,
    RelatedCodeSerializer,
    SiteOfServiceSerializer,
    related_codes,
)
from payers.api import fast
from payers.api.serializers import (
    BenchmarkSerializer,
    CoverageCriterionSerializer,
    DocumentationRequirementSerializer,
    FollowUpGapSerializer,
)
from policyhub.representations import links_of


class SectionRowsSerializer(serializers.ListSerializer):
    """A brief section read as plain rows (`briefs.selectors.brief_section_rows`), turned into the
    child serializer's output all at once by its `payers/api/fast.py` builder."""

    build: Callable[..., list[dict]]

    def to_representation(self, data):
        return self.build(list(data), links_of(self), with_code=False)


def _without_code(serializer_class, name, build=None):
    """The same representation inside a code's brief, where the code is the brief's own; with
    `build`, of the rows it turns into that (read with `fast.without_code(...)` of the list's columns)."""
    meta = {"fields": [f for f in serializer_class.Meta.fields if f != "code"]}
    if build is not None:
        meta["list_serializer_class"] = type(f"{name}Rows", (SectionRowsSerializer,), {"build": staticmethod(build)})
    meta_class = type("Meta", (serializer_class.Meta,), meta)
    return type(name, (serializer_class,), {"Meta": meta_class, "__doc__": serializer_class.__doc__})


BriefCoverageSerializer = _without_code(
    CoverageCriterionSerializer, "BriefCoverageSerializer", fast.criteria_from_values
)
BriefDocumentationSerializer = _without_code(
    DocumentationRequirementSerializer, "BriefDocumentationSerializer", fast.requirements_from_values
)
BriefBenchmarkSerializer = _without_code(BenchmarkSerializer, "BriefBenchmarkSerializer")
BriefGapSerializer = _without_code(FollowUpGapSerializer, "BriefGapSerializer", fast.gaps_from_values)
# The columns each section's rows are read with (CodeViewSet.get_object).
BRIEF_SECTION_COLUMNS = {
    "coverage": fast.without_code(fast.CRITERION_VALUES),
    "documentation": fast.without_code(fast.REQUIREMENT_VALUES),
    "open_gaps": fast.without_code(fast.GAP_VALUES),
}


class CodeBriefSerializer(BillingCodeSerializer):
    """A code's whole brief: catalogue facts, curated text, coverage per payer and the known gaps.

    Reads the attributes that `briefs.selectors.brief_prefetches()` sets.
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
