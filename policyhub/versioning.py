"""Optimistic locking on `CuratedModel.version`: a save based on an older version is refused.

Every write that a curator or a service makes through this module runs

    UPDATE ... SET version = expected + 1 WHERE id = ... AND version = expected

before the ordinary `save()` (which records history). When another transaction saved the row
first, the UPDATE matches nothing and `StaleVersion` is raised instead of overwriting its change.
On PostgreSQL the UPDATE also holds the row lock until the transaction ends, so two concurrent
saves of the same version cannot both pass.

`StaleVersion` describes what the other save changed (field, before, after, who, when), read
from the record's history, so the refused curator can see it and redo their edit.
"""

from dataclasses import dataclass

from django.core.exceptions import FieldDoesNotExist
from django.db import models, transaction

# Bookkeeping columns that change on every save; showing them as "changes" is noise.
UNINTERESTING_FIELDS = frozenset({"updated_at", "version", "changed_by"})


@dataclass(frozen=True)
class FieldChange:
    field: str
    old: str
    new: str

    def __str__(self):
        return f"{self.field}: {self.old or '(empty)'} → {self.new or '(empty)'}"


class StaleVersion(Exception):  # noqa: N818  (a condition, like DoesNotExist)
    """Someone saved the record after the version this change was based on."""

    def __init__(self, obj: models.Model, expected_version: int):
        self.obj = obj
        self.expected_version = expected_version
        self.current_version = type(obj)._base_manager.filter(pk=obj.pk).values_list("version", flat=True).first()
        self.editors, self.changes = changes_since(obj, expected_version)
        super().__init__(self.message)

    @property
    def message(self) -> str:
        label = f"{obj_label(self.obj)}"
        if self.current_version is None:
            return f"{label} was deleted after you opened it; your change was not saved."
        who = f" by {', '.join(self.editors)}" if self.editors else ""
        text = (
            f"{label} was changed{who} after you opened it (version {self.expected_version}, "
            f"now {self.current_version}); your change was not saved."
        )
        if self.changes:
            text += " Their changes: " + "; ".join(str(change) for change in self.changes) + "."
        return text


def obj_label(obj: models.Model) -> str:
    return f"{obj._meta.verbose_name.capitalize()} “{obj}”"


def display_value(model: type[models.Model], name: str, value) -> str:
    """A history value as a curator reads it: choice labels, related rows by name, text shortened."""
    try:
        field = model._meta.get_field(name)
    except FieldDoesNotExist:
        return str(value)
    if value is None or value == "":
        return ""
    if field.choices:
        return str(dict(field.flatchoices).get(value, value))
    if field.many_to_one and not isinstance(value, models.Model):
        related = field.related_model._base_manager.filter(pk=value).first()
        return str(related) if related else f"#{value} (deleted)"
    text = str(value)
    return text if len(text) <= 200 else text[:197] + "…"


def field_changes(model: type[models.Model], old, new) -> list[FieldChange]:
    """Field-level differences between two historical records of `model`, bookkeeping left out.

    Compares every tracked column, the non-editable workflow ones (state, reviewed by...) included,
    which simple-history's own `diff_against()` leaves out.
    """
    changes = []
    for field in old.tracked_fields:
        if field.primary_key or field.many_to_many or field.name in UNINTERESTING_FIELDS:
            continue
        before, after = getattr(old, field.attname), getattr(new, field.attname)
        if before != after:
            changes.append(
                FieldChange(
                    str(field.verbose_name).capitalize(),
                    display_value(model, field.name, before),
                    display_value(model, field.name, after),
                )
            )
    return changes


def changes_since(obj: models.Model, version: int) -> tuple[list[str], list[FieldChange]]:
    """Who saved `obj` after `version`, and what differs between that version and now."""
    history = obj.history.model.objects.filter(**{obj._meta.pk.attname: obj.pk}).order_by("history_date", "history_id")
    base = history.filter(version__lte=version).last()
    later = list(history.filter(version__gt=version).select_related("history_user"))
    if not later:
        return [], []
    editors = list(
        dict.fromkeys(f"{row.history_user or 'a process'} at {row.history_date:%Y-%m-%d %H:%M} UTC" for row in later)
    )
    changes = field_changes(type(obj), base, later[-1]) if base else []
    return editors, changes


@transaction.atomic
def save_versioned(obj: models.Model, *, expected_version: int | None = None, by=None, reason: str = "") -> None:
    """Save `obj` (existing row) if the stored version is still `expected_version`; bump the version.

    `expected_version` defaults to the version `obj` was loaded with. Raises `StaleVersion` when
    another save came first. `by` and `reason` go to the history record.
    """
    expected = obj.version if expected_version is None else expected_version
    if not type(obj)._base_manager.filter(pk=obj.pk, version=expected).update(version=expected + 1):
        raise StaleVersion(obj, expected)
    obj.version = expected + 1
    if by is not None:
        obj._history_user = by
        if hasattr(obj, "changed_by_id"):
            obj.changed_by = by
    if reason:
        obj._change_reason = reason
    obj.save()
