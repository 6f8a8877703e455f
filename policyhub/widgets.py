"""Select widgets that cost less to render, each writing what Django's own would.

`QuickSelect`: options written in Python, byte for byte what Django's templates write.

Django renders every `<option>` through a template include: the brief page's "check an order" form,
with its 300 payers, took 15 ms of the page's 74 ms that way (docs/bench.md). `QuickSelect` builds
the same context (`get_context`: selection, attributes, groups) and writes the markup directly;
`tests/foundation/test_widgets.py` holds its output equal to Django's own `Select`'s.

`HeldAutocompleteSelect` and `HeldAutocompleteSelectMultiple`: the admin's autocomplete pickers, their
selection labelled from the rows an inline row already holds (`HeldSelectionMixin`).
"""

from django import forms
from django.contrib.admin.widgets import AutocompleteSelect, AutocompleteSelectMultiple
from django.utils.html import conditional_escape, format_html
from django.utils.safestring import mark_safe

from policyhub.forms import is_key


def _attributes(attrs: dict) -> str:
    """As django/forms/widgets/attrs.html: ` name="value"`, a bare ` name` for True, nothing for False.

    Not `django.forms.utils.flatatt`, which sorts the attributes and drops None: the template keeps
    their order and writes None as "None"."""
    return "".join(
        format_html(' {}="{}"', name, str(value)) if value is not True else format_html(" {}", name)
        for name, value in attrs.items()
        if value is not False
    )


class QuickSelect(forms.Select):
    """`forms.Select`, its options written in Python instead of through a template each."""

    def render(self, name, value, attrs=None, renderer=None):
        widget = self.get_context(name, value, attrs)["widget"]
        parts = [format_html('<select name="{}"', widget["name"]), _attributes(widget["attrs"]), ">"]
        for group_name, options, _ in widget["optgroups"]:
            if group_name:
                parts.append(format_html('\n  <optgroup label="{}">', group_name))
            for option in options:
                parts += [
                    format_html('\n  <option value="{}"', str(option["value"])),
                    _attributes(option["attrs"]),
                    ">",
                    conditional_escape(option["label"]),
                    "</option>\n",
                ]
            if group_name:
                parts.append("\n  </optgroup>")
        parts.append("\n</select>")
        return mark_safe("".join(parts))  # noqa: S308 - every value above is escaped


class HeldSelectionMixin:
    """An admin autocomplete widget (`AutocompleteSelect`, `...Multiple`) that labels its selected rows
    from the rows its form's object already holds (`held`, set by `CuratedInlineFormSet`), instead of
    reading them again: Django's widget queries its selection once per widget, so a code's page with
    50 criteria inline ran 200 statements for their payers, policies and diagnoses (0.77 s at 1M).
    Where the selection is not all held (a re-shown form with new choices), Django's query as before.
    """

    held: list | None = None

    def optgroups(self, name, value, attr=None):
        remote = self.field.remote_field
        opts = remote.model._meta
        target = opts.get_field(getattr(remote, "field_name", opts.pk.attname))
        key = target.attname
        # A posted value that cannot be a key ("abc" for a number) made Django's query raise: a 500 on
        # a re-shown form instead of its "Select a valid choice" error. Such a value labels nothing.
        value = [v for v in value if is_key(target, v)]
        selected = {str(v) for v in value if str(v) not in self.choices.field.empty_values}
        held = {str(getattr(row, key)): row for row in self.held or ()}
        if self.held is None or not selected <= held.keys():
            return super().optgroups(name, value, attr)
        # Django's groups with nothing selected (no query: an empty IN), then the held rows as it
        # writes its own: in the held order (the relation's, as Django's query), each marked selected.
        groups = super().optgroups(name, [], attr)
        options = groups[0][1]
        for row in held.values():
            if str(getattr(row, key)) in selected:
                label = self.choices.field.label_from_instance(row)
                options.append(self.create_option(name, getattr(row, key), label, selected, len(options)))
        return groups


class HeldAutocompleteSelect(HeldSelectionMixin, AutocompleteSelect):
    """`AutocompleteSelect` labelling a held selection (`HeldSelectionMixin`)."""


class HeldAutocompleteSelectMultiple(HeldSelectionMixin, AutocompleteSelectMultiple):
    """`AutocompleteSelectMultiple` labelling a held selection (`HeldSelectionMixin`)."""


def held_rows(instance, name: str) -> list | None:
    """The rows `instance` already holds for its relation `name` (a related row cached by
    `select_related`, a many-to-many list by `prefetch_related`), or None where it would query."""
    field = instance._meta.get_field(name)
    if field.many_to_many:
        prefetched = getattr(instance, "_prefetched_objects_cache", {}).get(field.name)
        return None if prefetched is None else list(prefetched)
    if field.is_relation and field.is_cached(instance):
        row = field.get_cached_value(instance)
        return [] if row is None else [row]
    return None
