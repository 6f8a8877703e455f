"""Editing curated content: the rules every save goes through, whoever calls it (admin, import, shell).

Editing a published reviewed item never touches it: `start_revision()` copies it into a draft row
whose `revision_of` is the published row, and the workflow's approve writes it back. Any other row
is saved under the optimistic lock of `policyhub.versioning`. `revert()` is an edit like any other,
so history keeps both the old and the new version.
"""

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction

from policyhub.choices import WorkflowState
from policyhub.models import CuratedModel, ReviewedModel
from policyhub.versioning import StaleVersion, obj_label, save_versioned
from policyhub.workflow import (
    NOT_CONTENT,
    WorkflowError,
    change_permission,
    content_fields,
    pending_revision,
    reason_text,
)


@transaction.atomic
def start_revision(
    *,
    item: ReviewedModel,
    by,
    changes: dict | None = None,
    reason: str = "",
    expected_version: int | None = None,
) -> ReviewedModel:
    """A draft copy of the published `item` with `changes` applied; `item` stays published as it is.

    `changes` maps field names to new values. Many-to-many relations are copied; the caller may
    set them on the returned revision afterwards.
    """
    model = type(item)
    label = obj_label(item)
    if not by.has_perm(change_permission(model)):
        raise PermissionDenied(f"Only an editor or reviewer can edit {label}.")
    if item.state != WorkflowState.PUBLISHED or item.revision_of_id:
        raise WorkflowError(f"Only a published item gets a revision; {label} is {item.get_state_display().lower()}.")
    if expected_version is not None and expected_version != item.version:
        raise StaleVersion(item, expected_version)
    pending = pending_revision(item)
    if pending is not None:
        raise WorkflowError(
            f"{label} already has a {pending.get_state_display().lower()} revision (#{pending.pk}); "
            "edit that revision instead of starting another."
        )
    revision = model(**{field.attname: getattr(item, field.attname) for field in content_fields(model)})
    for name, value in (changes or {}).items():
        if name in NOT_CONTENT:
            raise ValueError(f"{name} is not content; a revision cannot change it.")
        setattr(revision, name, value)
    revision.state = WorkflowState.DRAFT
    revision.revision_of = item
    revision.changed_by = by
    raced = WorkflowError(f"{label} already has an open revision (started a moment ago); edit that revision instead.")
    try:
        revision.full_clean()
    except ValidationError:
        # Another start committed after the check above; the constraint's validation saw it.
        if pending_revision(item) is not None:
            raise raced from None
        raise
    revision._history_user = by
    revision._change_reason = reason_text(reason or f"Draft revision of #{item.pk}")
    try:
        with transaction.atomic():
            revision.save()
    except IntegrityError:
        # Another start won the race after validation; the one-open-revision constraint refused this one.
        raise raced from None
    for field in model._meta.many_to_many:
        getattr(revision, field.name).set(getattr(item, field.name).all())
    return revision


@transaction.atomic
def save_edit(
    *, item: CuratedModel, by, changes: dict | None = None, reason: str = "", expected_version: int | None = None
) -> CuratedModel:
    """Save an edit of `item`: `changes` maps field names to new values.

    A published reviewed item is never changed in place: the edit starts a draft revision of it,
    which is returned instead (the caller tells them apart by primary key). Any other row is saved
    under the optimistic lock.
    """
    if isinstance(item, ReviewedModel) and item.state == WorkflowState.PUBLISHED:
        published = type(item)._base_manager.get(pk=item.pk)
        return start_revision(item=published, by=by, changes=changes, reason=reason, expected_version=expected_version)
    for name, value in (changes or {}).items():
        setattr(item, name, value)
    save_versioned(item, expected_version=expected_version, by=by, reason=reason)
    return item


@transaction.atomic
def revert(
    *,
    item: CuratedModel,
    by,
    values: dict,
    version_date,
    reason: str = "",
    expected_version: int | None = None,
) -> CuratedModel | None:
    """Give `item` the `values` of its version of `version_date` again, as a new change; history stays.

    Only fields whose stored value differs change; returns None when none does. Like any edit, a
    published reviewed item gets a draft revision holding the old values (returned instead).
    """
    current = type(item)._base_manager.get(pk=item.pk)
    changes = {name: value for name, value in values.items() if value != getattr(current, name)}
    if not changes:
        return None
    reason = reason or reason_text(f"Reverted to the version of {version_date:%Y-%m-%d %H:%M} UTC")
    if isinstance(current, ReviewedModel) and current.state == WorkflowState.PUBLISHED:
        return save_edit(item=current, by=by, changes=changes, reason=reason, expected_version=expected_version)
    for name, value in changes.items():
        setattr(current, name, value)
    current.full_clean()
    save_versioned(current, expected_version=expected_version, by=by, reason=reason)
    return current
