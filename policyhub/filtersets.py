"""Base FilterSet shared by API viewsets and page views."""

import contextlib
import datetime
import re

import django_filters
from django import forms
from django.core.exceptions import FieldDoesNotExist, ValidationError
from django.db.models import QuerySet
from django.db.models.constants import LOOKUP_SEP
from django_filters.fields import IsoDateTimeField


class BaseFilterSet(django_filters.FilterSet):
    """Adds the free-text `q` parameter; subclasses define `search()`.

    django-filter makes multiple-choice filters `SELECT DISTINCT` over every column, in case the
    field crosses a to-many relation; here only those that do cross one keep it.
    """

    q = django_filters.CharFilter(method="filter_q", label="Search", help_text="Free-text search.")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for filter_ in self.filters.values():
            if filter_.distinct and not filter_.method and not crosses_to_many(self._meta.model, filter_.field_name):
                filter_.distinct = False

    def get_form_class(self) -> type[forms.Form]:
        # django-filter builds a new form class, with a new form field per filter, for every
        # FilterSet instance, i.e. on every request. The fields depend only on the class's filters
        # (none takes its choices from the request) and every form works on deep copies of them
        # (`Form.__init__`), so one form class per FilterSet class serves all requests.
        cls = type(self)
        if "_form_class" not in cls.__dict__:
            cls._form_class = super().get_form_class()
        return cls._form_class

    def filter_queryset(self, queryset: QuerySet) -> QuerySet:
        # A multiple-choice filter left out of the query string cleans to an empty queryset, which
        # django-filter then tests with `if not value`: compiled and "run" on every request, for a
        # filter that changes nothing. Skipped here, as `MultipleChoiceFilter.filter` would return
        # the queryset unchanged; a filter with its own `method` still gets its call.
        for name, value in self.form.cleaned_data.items():
            filter_ = self.filters[name]
            if (
                isinstance(value, QuerySet)
                and value.query.is_empty()
                and isinstance(filter_, django_filters.MultipleChoiceFilter)
                and not filter_.method
            ):
                continue
            queryset = filter_.filter(queryset, value)
        return queryset

    def filter_q(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        value = value.strip()
        return self.search(queryset, value) if value else queryset

    def search(self, queryset: QuerySet, value: str) -> QuerySet:
        raise NotImplementedError


# A search's matches in a related table (payers by name) are written into it as keys, up to this
# many; beyond, they stay a subquery.
MATCHING_KEYS_AT_MOST = 500


def matching_keys(queryset: QuerySet) -> list | QuerySet:
    """The keys of `queryset`, the rows a search term matches in a related table, for `payer__in=`:
    a list when there are at most MATCHING_KEYS_AT_MOST, else the subquery.

    `payer IN (subquery)` ORed with the other fields' conditions is checked row by row: PostgreSQL
    cannot combine it from indexes, so a term found in few rows or none (a policy number, a
    misspelt payer) read all 1M criteria, 1.6-2.3 s. `payer IN (3, 8)` it reads from an index, and
    an empty list drops the condition from the OR.
    """
    keys = list(queryset.values_list("pk", flat=True)[: MATCHING_KEYS_AT_MOST + 1])
    return keys if len(keys) <= MATCHING_KEYS_AT_MOST else queryset.values("pk")


# A trigram index (pg_trgm) finds text containing a term only when the term holds this many letters
# or digits in a row: a shorter term, or one of signs only (`%%%`), reads every row of the table.
TRIGRAM_RUN = 3


def trigram_searchable(term: str) -> bool:
    """Whether a trigram index can find `term` inside a text column (`TRIGRAM_RUN`)."""
    return re.search(rf"[^\W_]{{{TRIGRAM_RUN}}}", term) is not None


def crosses_to_many(model, path: str) -> bool:
    """Whether the lookup path (`payer__slug`) follows a one-to-many or many-to-many relation."""
    for name in path.split(LOOKUP_SEP):
        try:
            field = model._meta.get_field(name)
        except FieldDoesNotExist:
            return True  # not a field: keep django-filter's cautious default
        if field.one_to_many or field.many_to_many:
            return True
        if not field.is_relation:
            return False
        model = field.related_model
    return False


class CodeListFilter(django_filters.BaseInFilter, django_filters.CharFilter):
    """Comma-separated values: `?code=93590,93592`."""


class KeyChoiceField(forms.ModelMultipleChoiceField):
    """Refuses keys outside the 64-bit range as invalid choices; SQLite would raise on them."""

    def _check_values(self, value):
        for key in value:
            with contextlib.suppress(TypeError, ValueError):  # not a number: the parent explains
                if not -(2**63) <= int(key) < 2**63:
                    raise ValidationError(
                        self.error_messages["invalid_choice"], code="invalid_choice", params={"value": key}
                    )
        return super()._check_values(value)


class KeyMultipleChoiceFilter(django_filters.ModelMultipleChoiceFilter):
    """Related objects by key, repeatable: `?payer_id=3&payer_id=5`."""

    field_class = KeyChoiceField


class UtcDateTimeField(IsoDateTimeField):
    """An ISO 8601 date-time converted to UTC, so that every database accepts its offset."""

    def to_python(self, value):
        value = super().to_python(value)
        if value is None:
            return None
        try:
            return value.astimezone(datetime.UTC)
        except OverflowError:
            raise ValidationError(self.error_messages["invalid"], code="invalid") from None


class UtcDateTimeFilter(django_filters.IsoDateTimeFilter):
    """`?updated_since=2025-01-01T00:00:00Z`: any offset, compared in UTC."""

    field_class = UtcDateTimeField


class StrictBooleanSelect(forms.NullBooleanSelect):
    """Passes on values it does not recognise, so the field can refuse them instead of ignoring them."""

    def value_from_datadict(self, data, files, name):
        recognised = super().value_from_datadict(data, files, name)
        return data.get(name) if recognised is None else recognised


class StrictNullBooleanField(forms.NullBooleanField):
    widget = StrictBooleanSelect
    EMPTY = ("", "unknown")  # "unknown" is what the select submits for "any"

    def to_python(self, value):
        if isinstance(value, str) and value.lower() not in {*self.EMPTY, "true", "false", "1", "0"}:
            raise ValidationError("Use true or false.", code="invalid")
        return super().to_python(value.lower() if isinstance(value, str) else value)


class BooleanFilter(django_filters.BooleanFilter):
    """`?is_add_on=true` or `false`; any other value is an error, not a silently ignored filter."""

    field_class = StrictNullBooleanField
