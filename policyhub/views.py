"""Shared bases of the internal pages: a filtered, paginated list with its filter panel.

Every page needs the read permission (`policyhub.access`). Lists filter through the same
FilterSets as the API and read through the selectors, so each page runs a small, fixed number of
queries. The pages themselves live in their apps: `briefs.views` (overview, code index and
brief), `payers.views` (payers, coverage, gaps).
"""

from django import forms
from django.forms.utils import pretty_name
from django.views.generic import ListView

from policyhub.access import ReadAccessMixin
from policyhub.paginators import RememberedCountPaginator
from policyhub.remembered import newest_change
from policyhub.widgets import QuickSelect

ANY = ("", "Any")


def filter_fields(filterset, labels: dict[str, str], options: dict[str, list] | None = None) -> list:
    """The FilterSet form's fields a page shows, in `labels` order, with widgets that suit a side panel.

    Multiple choices become checkboxes, yes/no filters an Any/Yes/No menu, and a text filter listed in
    `options` a menu of those values. Call before reading `filterset.qs`, which validates the form.
    """
    options = options or {}
    form = filterset.form
    for name, label in labels.items():
        field = form.fields[name]
        field.label = label
        if name in options:
            field.widget = QuickSelect(choices=[ANY, *options[name]])
        elif isinstance(field, forms.NullBooleanField):
            field.widget = QuickSelect(choices=[ANY, ("true", "Yes"), ("false", "No")])
        elif isinstance(field.widget, forms.SelectMultiple):
            field.widget = forms.CheckboxSelectMultiple(choices=field.choices)
        elif isinstance(field.widget, forms.Select):
            field.widget.choices = [ANY, *(choice for choice in field.choices if choice[0] != "")]
    return [form[name] for name in labels]


def filter_errors(filterset, leave_out=()) -> list[str]:
    """The FilterSet's errors as "Label: message" lines, but for the fields in `leave_out`.

    A filter refused is left out of the list (django-filter filters by the valid ones): a page says
    why, also for a filter its panel does not show (`?q=` in a link), and a download refuses to start.
    """
    lines = []
    for name, messages in filterset.errors.items():
        if name in leave_out:
            continue
        label = filterset.form.fields[name].label
        if not label or label == "[invalid name]":  # django-filter's label for a filter by method
            label = pretty_name(name)
        lines.extend(f"{label}: {message}" for message in messages)
    return lines


class FilteredListView(ReadAccessMixin, ListView):
    """A paginated list narrowed by the model's shared FilterSet, with the filter form beside it.

    Readers' lists show published data only, so their totals are remembered until it changes
    (`RememberedCountPaginator`): counting every match is what grows with the data, not the page.
    """

    filterset_class = None
    filter_labels: dict[str, str] = {}
    paginate_by = 50

    def base_queryset(self):
        raise NotImplementedError

    def filter_data(self):
        return self.request.GET

    def filter_options(self) -> dict[str, list]:
        return {}

    def get_paginator(self, queryset, per_page, **kwargs):
        return RememberedCountPaginator(queryset, per_page, as_of=newest_change(self.request), **kwargs)

    def get_queryset(self):
        self.filterset = self.filterset_class(self.filter_data(), queryset=self.base_queryset(), request=self.request)
        self.filter_fields = filter_fields(self.filterset, self.filter_labels, self.filter_options())
        return self.filterset.qs

    def get_context_data(self, **kwargs):
        applied = sum(1 for field in self.filter_fields if field.value() not in (None, "", [], ()))
        return super().get_context_data(
            filterset=self.filterset,
            filter_fields=self.filter_fields,
            active_filter_count=applied,
            other_filter_errors=filter_errors(self.filterset, leave_out=[field.name for field in self.filter_fields]),
            **kwargs,
        )
