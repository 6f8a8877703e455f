"""FilterSets of the code catalogue, shared by the API and the pages."""

import re

import django_filters
from django.db.models import Q

from codes.choices import CodeStatus, CodeSystem, ModifierLevel, SettingType
from codes.models import BillingCode, DiagnosisCode, Modifier, PlaceOfService
from codes.selectors import search_diagnosis_codes
from policyhub.filtersets import BaseFilterSet, BooleanFilter, CodeListFilter, UtcDateTimeFilter

# The shapes BillingCode's code_format constraint allows: CPT (four digits and a digit, F, T or U)
# and HCPCS Level II (a letter and four digits).
BILLING_CODE = re.compile(r"[0-9]{4}[0-9FTU]|[A-Z][0-9]{4}")


def as_billing_code(value: str) -> str | None:
    """The search term as a billing code when it has a code's shape (any case), else None.

    Searches of rows about codes match such a term against the code alone, exactly: by index,
    instead of scanning every row's text for it.
    """
    candidate = value.strip().upper()
    return candidate if BILLING_CODE.fullmatch(candidate) else None


class BillingCodeFilterSet(BaseFilterSet):
    code = CodeListFilter(field_name="code", help_text="One or more codes, comma-separated.")
    system = django_filters.ChoiceFilter(choices=CodeSystem.choices)
    status = django_filters.ChoiceFilter(choices=CodeStatus.choices)
    category = django_filters.CharFilter(
        field_name="category", lookup_expr="iexact", help_text="Category, e.g. 'Cardiovascular / structural heart'."
    )
    is_add_on = BooleanFilter(help_text="true: add-on codes only; false: codes reported on their own.")
    updated_since = UtcDateTimeFilter(
        field_name="updated_at",
        lookup_expr="gte",
        help_text="Only codes whose catalogue entry changed at or after this time.",
    )

    class Meta:
        model = BillingCode
        fields = ["q", "code", "system", "status", "category", "is_add_on", "updated_since"]

    def search(self, queryset, value):
        return queryset.filter(
            Q(code__iexact=value)
            | Q(code__istartswith=value)
            | Q(short_descriptor__icontains=value)
            | Q(long_descriptor__icontains=value)
        )


class DiagnosisCodeFilterSet(BaseFilterSet):
    code = CodeListFilter(method="filter_codes", help_text="One or more ICD-10-CM codes, with or without the dot.")
    prefix = django_filters.CharFilter(method="filter_prefix", help_text="Codes starting with this, e.g. I25 or I25.1.")
    is_billable = BooleanFilter(help_text="true: billable leaf codes; false: header rows such as I25.")
    status = django_filters.ChoiceFilter(choices=CodeStatus.choices)
    updated_since = UtcDateTimeFilter(
        field_name="updated_at", lookup_expr="gte", help_text="Only codes changed at or after this time."
    )

    class Meta:
        model = DiagnosisCode
        fields = ["q", "code", "prefix", "is_billable", "status", "updated_since"]

    def filter_codes(self, queryset, name, values):
        return queryset.filter(code__in=[DiagnosisCode.normalise(v) for v in values])

    def filter_prefix(self, queryset, name, value):
        return queryset.filter(code__startswith=DiagnosisCode.normalise(value))

    def search(self, queryset, value):
        return search_diagnosis_codes(queryset, value)


class ModifierFilterSet(BaseFilterSet):
    level = django_filters.ChoiceFilter(choices=ModifierLevel.choices)
    status = django_filters.ChoiceFilter(choices=CodeStatus.choices)

    class Meta:
        model = Modifier
        fields = ["q", "level", "status"]

    def search(self, queryset, value):
        return queryset.filter(Q(code__iexact=value) | Q(description__icontains=value))


class PlaceOfServiceFilterSet(BaseFilterSet):
    setting = django_filters.ChoiceFilter(choices=SettingType.choices)

    class Meta:
        model = PlaceOfService
        fields = ["q", "setting"]

    def search(self, queryset, value):
        return queryset.filter(Q(code=value) | Q(name__icontains=value))
