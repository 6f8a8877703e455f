"""The coverage check's request and answer as the REST API reads and writes them.

The answer serializers only describe the JSON that `briefs.coverage_answer` builds (for the OpenAPI
schema); the view returns that dict as it is.
"""

from rest_framework import serializers

from briefs.choices import Covered, DocNeeded, InfoNeeded, PaNeeded
from briefs.coverage_facts import CoverageQuestion, OrderItem
from codes.choices import CodeSystem
from payers.choices import CoverageStatus, DocumentationKind, DocumentationPurpose, GapCategory, PriorAuth

MAX_ITEMS = 50
MAX_DIAGNOSES = 25


class OrderItemSerializer(serializers.Serializer):
    code = serializers.RegexField(
        r"^[A-Za-z0-9]{5}$", help_text="CPT or HCPCS Level II billing code, e.g. 93590.", max_length=5
    )
    modifiers = serializers.ListField(
        child=serializers.RegexField(r"^[A-Za-z0-9]{2}$", max_length=2),
        required=False,
        default=list,
        max_length=4,
        help_text="Up to four two-character modifiers, e.g. ['62'].",
    )
    quantity = serializers.IntegerField(min_value=1, max_value=999, default=1, help_text="Units ordered.")


class CoverageCheckRequestSerializer(serializers.Serializer):
    payer = serializers.SlugField(max_length=100, help_text="The payer's slug, e.g. 'aetna'.")
    date_of_service = serializers.DateField(help_text="The planned date of service (YYYY-MM-DD).")
    items = serializers.ListField(
        child=OrderItemSerializer(), min_length=1, max_length=MAX_ITEMS, help_text="The ordered services."
    )
    diagnosis_codes = serializers.ListField(
        child=serializers.RegexField(r"^[A-Za-z][0-9A-Za-z]{2}\.?[0-9A-Za-z]{0,4}$", max_length=8),
        required=False,
        default=list,
        max_length=MAX_DIAGNOSES,
        help_text="ICD-10-CM codes of the order, with or without the dot (I34.0 or I340).",
    )
    place_of_service = serializers.RegexField(
        r"^[0-9]{2}$", required=False, default="", max_length=2, help_text="CMS place-of-service code, e.g. 22."
    )

    def to_question(self) -> CoverageQuestion:
        data = self.validated_data
        return CoverageQuestion(
            payer=data["payer"],
            service_date=data["date_of_service"],
            items=tuple(
                OrderItem(code=item["code"], modifiers=tuple(item["modifiers"]), quantity=item["quantity"])
                for item in data["items"]
            ),
            diagnosis_codes=tuple(data["diagnosis_codes"]),
            place_of_service=data["place_of_service"],
        )


class PolicyCitationSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    number = serializers.CharField()
    document_version = serializers.IntegerField(allow_null=True)
    title = serializers.CharField()
    url = serializers.CharField(allow_blank=True)
    document_type = serializers.CharField()
    original_effective_date = serializers.DateField(allow_null=True)
    effective_date = serializers.DateField(allow_null=True, help_text="Revision effective date.")
    retirement_date = serializers.DateField(allow_null=True)


class CriterionCitationSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    version = serializers.IntegerField(help_text="The criterion's version when the answer was given.")
    coverage_status = serializers.ChoiceField(choices=CoverageStatus.choices)
    prior_auth = serializers.ChoiceField(choices=PriorAuth.choices)
    prior_auth_delegate = serializers.CharField(allow_blank=True)
    criteria = serializers.CharField(allow_blank=True)
    limitations = serializers.CharField(allow_blank=True)
    diagnosis_codes = serializers.ListField(child=serializers.CharField())
    effective_start = serializers.DateField(allow_null=True)
    effective_end = serializers.DateField(allow_null=True)
    last_verified = serializers.DateField(allow_null=True)
    policy = PolicyCitationSerializer(allow_null=True)


class RequirementCitationSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    version = serializers.IntegerField()
    kind = serializers.ChoiceField(choices=DocumentationKind.choices)
    kind_label = serializers.CharField()
    text = serializers.CharField()
    level = serializers.CharField()
    purpose = serializers.ChoiceField(choices=[("", ""), *DocumentationPurpose.choices])
    all_payers = serializers.BooleanField()
    policy = PolicyCitationSerializer(allow_null=True)


class GapCitationSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    category = serializers.ChoiceField(choices=GapCategory.choices)
    description = serializers.CharField()
    payer_specific = serializers.BooleanField()
    priority = serializers.IntegerField()
    due_date = serializers.DateField(allow_null=True)


class ReasonSerializer(serializers.Serializer):
    rule = serializers.CharField(help_text="The row of the decision table (docs/coverage-check.md) that applied.")
    text = serializers.CharField()


class ItemAnswerSerializer(serializers.Serializer):
    sequence = serializers.IntegerField()
    reference = serializers.CharField(allow_blank=True)
    code = serializers.CharField()
    code_system = serializers.ChoiceField(choices=CodeSystem.choices)
    modifiers = serializers.ListField(child=serializers.CharField())
    quantity = serializers.IntegerField()
    service_date = serializers.DateField()
    diagnosis_codes = serializers.ListField(child=serializers.CharField())
    place_of_service = serializers.CharField(allow_blank=True)
    primary_code = serializers.CharField(allow_null=True, help_text="For an add-on: the primary it was judged with.")
    summary = serializers.CharField()
    covered = serializers.ChoiceField(choices=Covered.choices)
    pa_needed = serializers.ChoiceField(choices=PaNeeded.choices, allow_null=True)
    doc_needed = serializers.ListField(child=serializers.ChoiceField(choices=DocNeeded.choices))
    doc_purpose = serializers.ListField(child=serializers.ChoiceField(choices=DocumentationPurpose.choices))
    info_needed = serializers.ListField(child=serializers.ChoiceField(choices=InfoNeeded.choices))
    reasons = ReasonSerializer(many=True)
    criterion = CriterionCitationSerializer(allow_null=True)
    documentation = RequirementCitationSerializer(many=True)
    policies = PolicyCitationSerializer(many=True)
    open_gaps = GapCitationSerializer(many=True)


class PayerRefSerializer(serializers.Serializer):
    slug = serializers.CharField()
    name = serializers.CharField()


class CoverageCheckAnswerSerializer(serializers.Serializer):
    coverage_assertion_id = serializers.UUIDField(help_text="Quote it in a dispute: the answer is kept under it.")
    date = serializers.DateField(help_text="When the answer was given.")
    payer = PayerRefSerializer()
    service_date = serializers.DateField()
    diagnosis_codes = serializers.ListField(child=serializers.CharField())
    place_of_service = serializers.CharField(allow_blank=True)
    items = ItemAnswerSerializer(many=True)
