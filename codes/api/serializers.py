"""Representations of the code catalogue in the API.

Serializers read only what the view's selector has joined or prefetched: none of them queries.
"""

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from codes.choices import RelationshipKind
from codes.models import (
    BillingCode,
    CodeBrief,
    CodeDiagnosis,
    DiagnosisCode,
    Modifier,
    ModifierGuidance,
    PlaceOfService,
    SiteOfService,
)
from policyhub.representations import Links, ValuesPage, date_text, time_text


class ModifierSerializer(serializers.ModelSerializer):
    url = serializers.HyperlinkedIdentityField(view_name="api:modifier-detail", lookup_field="code")

    class Meta:
        model = Modifier
        fields = [
            "url",
            "code",
            "description",
            "long_description",
            "level",
            "status",
            "effective_date",
            "termination_date",
            "updated_at",
        ]


class PlaceOfServiceSerializer(serializers.ModelSerializer):
    url = serializers.HyperlinkedIdentityField(view_name="api:place-of-service-detail", lookup_field="code")

    class Meta:
        model = PlaceOfService
        fields = ["url", "code", "name", "setting", "description", "updated_at"]


class PlaceOfServiceSummarySerializer(serializers.ModelSerializer):
    class Meta:
        model = PlaceOfService
        fields = ["code", "name", "setting"]


class DiagnosisCodeSerializer(serializers.ModelSerializer):
    url = serializers.HyperlinkedIdentityField(view_name="api:diagnosis-code-detail", lookup_field="code")
    code = serializers.CharField(read_only=True, help_text="Stored without the dot: I2510.")
    display_code = serializers.CharField(read_only=True, help_text="With the dot after the third character: I25.10.")

    class Meta:
        model = DiagnosisCode
        fields = [
            "url",
            "code",
            "display_code",
            "short_description",
            "description",
            "is_billable",
            "status",
            "updated_at",
        ]


class DiagnosisCodeSummarySerializer(DiagnosisCodeSerializer):
    class Meta(DiagnosisCodeSerializer.Meta):
        fields = ["url", "code", "display_code", "description", "is_billable"]


class BillingCodeSummarySerializer(serializers.ModelSerializer):
    """A code where another object refers to it."""

    url = serializers.HyperlinkedIdentityField(view_name="api:code-detail", lookup_field="code")

    class Meta:
        model = BillingCode
        fields = ["url", "code", "system", "short_descriptor"]


class BillingCodeSerializer(serializers.ModelSerializer):
    """A code as listed: catalogue facts and the title of its published brief.

    Reads `published_briefs`, prefetched by `codes.selectors.published_brief_prefetch()`.
    """

    url = serializers.HyperlinkedIdentityField(view_name="api:code-detail", lookup_field="code")
    title = serializers.SerializerMethodField(help_text="Title of the published brief; null while there is none.")
    # A plain string as before: the controlled list lives in the database, not in the API schema.
    category = serializers.CharField(read_only=True, help_text="Category name; empty when none is set.")

    class Meta:
        model = BillingCode
        fields = [
            "url",
            "code",
            "system",
            "title",
            "short_descriptor",
            "long_descriptor",
            "category",
            "is_add_on",
            "status",
            "effective_date",
            "termination_date",
            "add_date",
            "action_code",
            "coverage_code",
            "type_of_service",
            "global_days",
            "mult_proc",
            "bilat_surg",
            "asst_surg",
            "co_surg",
            "team_surg",
            "updated_at",
        ]

    @extend_schema_field(serializers.CharField(allow_null=True))
    def get_title(self, code: BillingCode) -> str | None:
        briefs = code.published_briefs
        return briefs[0].title if briefs else None


# The codes list reads its page with values() (`ReadOnlyViewSet.values_page`), each code's brief title
# in the same statement (`billing_codes_with_titles`), instead of code instances with their whole
# briefs prefetched. Its columns: the serializer's fields (`title` is annotated) and the cursor's key.
CODE_VALUES = ("id", *(field for field in BillingCodeSerializer.Meta.fields if field != "url"))


def code_row(code: dict, link: Links) -> dict:
    """`BillingCodeSerializer`'s output for a code's CODE_VALUES (`title`: its published brief's)."""
    return {
        "url": link("api:code-detail", code["code"]),
        "code": code["code"],
        "system": code["system"],
        "title": code["title"],
        "short_descriptor": code["short_descriptor"],
        "long_descriptor": code["long_descriptor"],
        "category": code["category"],
        "is_add_on": code["is_add_on"],
        "status": code["status"],
        "effective_date": date_text(code["effective_date"]),
        "termination_date": date_text(code["termination_date"]),
        "add_date": date_text(code["add_date"]),
        "action_code": code["action_code"],
        "coverage_code": code["coverage_code"],
        "type_of_service": code["type_of_service"],
        "global_days": code["global_days"],
        "mult_proc": code["mult_proc"],
        "bilat_surg": code["bilat_surg"],
        "asst_surg": code["asst_surg"],
        "co_surg": code["co_surg"],
        "team_surg": code["team_surg"],
        "updated_at": time_text(code["updated_at"]),
    }


def codes_from_values(rows: list[dict], link: Links) -> list[dict]:
    """The codes list's rows from `billing_codes_with_titles().values(*CODE_VALUES)`."""
    return [code_row(row, link) for row in rows]


CODES_PAGE = ValuesPage(CODE_VALUES, codes_from_values)


class CodeBriefTextSerializer(serializers.ModelSerializer):
    """The curated text of a published brief."""

    published_at = serializers.DateTimeField(
        source="reviewed_at", read_only=True, allow_null=True, help_text="When a reviewer approved this text."
    )

    class Meta:
        model = CodeBrief
        fields = [
            "title",
            "headline",
            "lead",
            "significance",
            "key_payers_summary",
            "reader_takeaways",
            "audience_note",
            "service_type",
            "site_of_service_summary",
            "clinical_context",
            "published_at",
            "updated_at",
        ]


class SiteOfServiceSerializer(serializers.ModelSerializer):
    place_of_service = PlaceOfServiceSummarySerializer(read_only=True)

    class Meta:
        model = SiteOfService
        fields = ["place_of_service", "setting_note", "is_typical"]


class ModifierGuidanceSerializer(serializers.ModelSerializer):
    modifier = serializers.CharField(
        source="modifier_label",
        read_only=True,
        help_text="The modifier, or '00' for the row about reporting no modifier.",
    )
    description = serializers.CharField(source="modifier_description", read_only=True)

    class Meta:
        model = ModifierGuidance
        fields = ["modifier", "description", "when_to_use", "display_order"]


class RelatedCodeSerializer(serializers.Serializer):
    """A code linked to this one. `outgoing`: this code <kind> the other (93592 add-on to 93590);
    `incoming`: the other <kind> this code."""

    direction = serializers.ChoiceField(choices=[("outgoing", "outgoing"), ("incoming", "incoming")])
    kind = serializers.ChoiceField(choices=RelationshipKind.choices)
    note = serializers.CharField()
    code = BillingCodeSummarySerializer(source="other")


def related_codes(code: BillingCode) -> list[dict]:
    """Both directions of a code's relationships, from the prefetched `relationships_from` / `_to`."""
    outgoing = [
        {"direction": "outgoing", "kind": link.kind, "note": link.note, "other": link.to_code}
        for link in code.relationships_from.all()
    ]
    incoming = [
        {"direction": "incoming", "kind": link.kind, "note": link.note, "other": link.from_code}
        for link in code.relationships_to.all()
    ]
    return outgoing + incoming


class CodeDiagnosisSerializer(serializers.ModelSerializer):
    """An ICD-10-CM code the brief associates with the billing code."""

    url = serializers.HyperlinkedRelatedField(
        source="diagnosis", view_name="api:diagnosis-code-detail", lookup_field="code", read_only=True
    )
    code = serializers.CharField(source="diagnosis.code", read_only=True)
    display_code = serializers.CharField(source="diagnosis.display_code", read_only=True)
    description = serializers.CharField(source="diagnosis.description", read_only=True)
    is_billable = serializers.BooleanField(source="diagnosis.is_billable", read_only=True)

    class Meta:
        model = CodeDiagnosis
        fields = ["url", "code", "display_code", "description", "is_billable", "note"]
