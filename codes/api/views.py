"""API resources of the code catalogue: modifiers, places of service and diagnosis codes.

The `codes` resource itself lives in `briefs/api/views.py`: a code's brief includes payer coverage,
and `codes/` knows nothing of payers.
"""

from drf_spectacular.utils import extend_schema, extend_schema_view

from codes.api.serializers import DiagnosisCodeSerializer, ModifierSerializer, PlaceOfServiceSerializer
from codes.filtersets import DiagnosisCodeFilterSet, ModifierFilterSet, PlaceOfServiceFilterSet
from codes.models import DiagnosisCode
from codes.selectors import diagnosis_code_list, modifier_list, place_of_service_list
from policyhub.api import ReadOnlyViewSet


class ModifierViewSet(ReadOnlyViewSet):
    """Two-character CPT and HCPCS Level II modifiers."""

    schema_tag = "catalogue"
    serializer_class = ModifierSerializer
    filterset_class = ModifierFilterSet
    lookup_field = "code"
    lookup_value_pattern = "[A-Za-z0-9]{2}"
    lookup_description = "The modifier, e.g. KX."
    ordering = ("code",)
    ordering_fields = ("code", "updated_at")

    def get_queryset(self):
        return modifier_list()

    def normalise_lookup(self, value):
        return value.upper()


class PlaceOfServiceViewSet(ReadOnlyViewSet):
    """CMS place-of-service codes."""

    schema_tag = "catalogue"
    serializer_class = PlaceOfServiceSerializer
    filterset_class = PlaceOfServiceFilterSet
    lookup_field = "code"
    lookup_value_pattern = "[0-9]{2}"
    lookup_description = "The two-digit place-of-service code, e.g. 22."
    ordering = ("code",)
    ordering_fields = ("code", "name", "updated_at")

    def get_queryset(self):
        return place_of_service_list()


@extend_schema_view(list=extend_schema(summary="List ICD-10-CM diagnosis codes"))
class DiagnosisCodeViewSet(ReadOnlyViewSet):
    """ICD-10-CM diagnosis codes; look one up with or without its dot (I25.10 or I2510)."""

    schema_tag = "catalogue"
    serializer_class = DiagnosisCodeSerializer
    filterset_class = DiagnosisCodeFilterSet
    lookup_field = "code"
    lookup_value_pattern = r"[A-Za-z][0-9A-Za-z]{2}(\.?[0-9A-Za-z]{1,4})?"
    lookup_description = "The ICD-10-CM code, with or without its dot: I25.10 or I2510."
    ordering = ("code",)
    ordering_fields = ("code", "updated_at")

    def get_queryset(self):
        return diagnosis_code_list()

    def normalise_lookup(self, value):
        return DiagnosisCode.normalise(value)
