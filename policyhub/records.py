"""Idempotent writes: create a row, or update only the fields that differ, or leave it alone."""

from enum import StrEnum

from django.db import models


class Outcome(StrEnum):
    CREATED = "created"
    UPDATED = "updated"
    UNCHANGED = "unchanged"


def sync_record(
    model: type[models.Model], *, lookup: dict, values: dict, user=None, reason: str = "", keep_edits: bool = False
) -> tuple[models.Model, Outcome]:
    """Make the row matching `lookup` carry `values`; save (with history) only when something differs.

    With `keep_edits`, a row that someone other than `user` changed last is left as it is: a
    curator's edit wins over source data loaded again.

    Runs `full_clean()` so database invariants surface as ValidationError with field names.
    """
    obj = model.objects.filter(**lookup).first()
    if keep_edits and obj is not None and getattr(obj, "changed_by_id", None) not in (None, getattr(user, "pk", None)):
        return obj, Outcome.UNCHANGED
    if obj is None:
        obj = model(**{**lookup, **values})
        outcome = Outcome.CREATED
    else:
        changed = [name for name, value in values.items() if _differs(obj, name, value)]
        if not changed:
            return obj, Outcome.UNCHANGED
        for name in changed:
            setattr(obj, name, values[name])
        outcome = Outcome.UPDATED
    if user is not None:
        # Outside a request simple-history knows no user; the history row must still say who.
        obj._history_user = user
        if hasattr(obj, "changed_by_id"):
            obj.changed_by = user
    if outcome is Outcome.UPDATED and hasattr(obj, "version"):
        obj.version += 1
    if reason:
        obj._change_reason = reason
    obj.full_clean()
    obj.save()
    return obj, outcome


def _differs(obj, name, value) -> bool:
    field = obj._meta.get_field(name)
    if field.many_to_one:
        wanted = value.pk if isinstance(value, models.Model) else value
        return getattr(obj, field.attname) != wanted
    return getattr(obj, name) != value
