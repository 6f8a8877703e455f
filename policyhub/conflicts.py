"""Rebuilding a refused form on the current version of its record.

A form based on version N is refused when the record is at version M > N. Keeping the curator's
copy of every field would be dangerous: saving it again would put version N's values back over the
other person's change. Instead each field is settled by comparing three values: the version the
curator started from (N, read from history), the current row (M) and the curator's entry.

- The curator did not change the field: it takes the current value.
- Only the curator changed it: their entry stays.
- Both changed it, differently: the current value goes into the field and the curator's entry is
  shown beside it (a `Clash`) for them to choose; saving without choosing keeps the current value.

The hidden base version moves on to M, so the next save is checked against M.
"""

from dataclasses import dataclass

from django import forms
from django.core.exceptions import FieldDoesNotExist
from django.db import models

from policyhub.versioning import StaleVersion, display_value


@dataclass(frozen=True)
class Clash:
    """A field both the curator and someone else changed since the curator's form was shown."""

    name: str
    label: str
    theirs: str
    yours: str

    @property
    def message(self) -> str:
        return (
            f"Changed meanwhile to “{self.theirs or '(empty)'}” (now in the field); "
            f"you had entered “{self.yours or '(empty)'}”. Enter yours again to keep it."
        )


# Stands for "not known": many-to-many values are not kept in history.
UNKNOWN = object()


def rebuild_on_current(form: forms.ModelForm, conflict: StaleVersion) -> list[Clash]:
    """Move the bound `form` onto the current version of its record; returns the fields both changed."""
    model = type(form.instance)
    current = model._base_manager.filter(pk=form.instance.pk).first()
    form.data = form.data.copy()
    if current is None:
        return []
    base = _base_record(form.instance, conflict.expected_version)
    clashes = []
    for name, form_field in form.fields.items():
        model_field = _model_field(model, name)
        if model_field is None or name not in form.cleaned_data:
            # Not a record field, or the entry was invalid: the curator sees it as typed, with its error.
            continue
        yours = _form_value(model_field, form.cleaned_data[name])
        now = _stored_value(model_field, current)
        then = UNKNOWN if base is None or model_field.many_to_many else getattr(base, model_field.attname)
        if yours == now:
            continue
        if then is not UNKNOWN and yours == then:
            _put(form, name, form_field, now)
        elif then is UNKNOWN or now != then:
            _put(form, name, form_field, now)
            clashes.append(
                Clash(
                    name=name,
                    label=str(model_field.verbose_name),
                    theirs=_display(model, model_field, now),
                    yours=_display(model, model_field, yours),
                )
            )
    form.data[form.add_prefix("base_version")] = str(conflict.current_version)
    return clashes


def _base_record(instance: models.Model, version: int):
    """The history record of `instance` as of `version` (the version the form was based on)."""
    return (
        instance.history.model.objects.filter(**{instance._meta.pk.attname: instance.pk}, version__lte=version)
        .order_by("-history_date", "-history_id")
        .first()
    )


def _model_field(model: type[models.Model], name: str) -> models.Field | None:
    try:
        field = model._meta.get_field(name)
    except FieldDoesNotExist:
        return None
    return field if field.concrete or field.many_to_many else None


def _form_value(model_field: models.Field, value):
    """A cleaned form value in the shape the row stores: keys for related rows, a set for many."""
    if model_field.many_to_many:
        return {row.pk for row in value or []}
    if model_field.many_to_one:
        return value.pk if isinstance(value, models.Model) else value
    return value


def _stored_value(model_field: models.Field, row: models.Model):
    if model_field.many_to_many:
        return set(getattr(row, model_field.name).values_list("pk", flat=True))
    return getattr(row, model_field.attname)


def _display(model: type[models.Model], model_field: models.Field, value) -> str:
    if model_field.many_to_many:
        rows = model_field.related_model._base_manager.filter(pk__in=value)
        return ", ".join(sorted(str(row) for row in rows))
    return display_value(model, model_field.name, value)


def _put(form: forms.ModelForm, name: str, form_field: forms.Field, value) -> None:
    """Write the stored `value` into the form's data as a browser would post it."""
    key = form.add_prefix(name)
    if isinstance(form_field, forms.ModelMultipleChoiceField):
        keys = [str(pk) for pk in sorted(value)]
        if hasattr(form.data, "setlist"):
            form.data.setlist(key, keys)
        else:
            form.data[key] = keys
    elif isinstance(form_field, forms.BooleanField):
        if value:
            form.data[key] = "on"
        else:
            form.data.pop(key, None)
    elif value is None:
        form.data[key] = ""
    elif hasattr(value, "isoformat"):
        form.data[key] = value.isoformat()
    else:
        form.data[key] = str(value)
