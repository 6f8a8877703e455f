"""The editorial workflow of reviewed content: everything of a code's brief that curators write.

    draft --submit--> in review --approve--> published --retire--> retired
                      in review --send back (with a comment)--> draft

Every transition goes through this module: it checks the user's role (a Django permission), the
item's state, the maker-checker rule (nobody who submitted an item or wrote any of it may approve
it) and what readers would see (an item is approved only when what it cites is published, and
retired only when no published item cites it); it records who and when, saves with the optimistic
lock of `policyhub.versioning` and leaves a history record with a reason. Edits of curated content
go through `policyhub.revisions` the same way; the admin only calls these two modules.

Approving a revision (a draft copy of a published row, see `policyhub.revisions`) writes its
content onto the published row (whose primary key downstream systems keep) and deletes the
revision row; both steps stay in history. Lives in `policyhub` because `codes` (briefs) and
`payers` (criteria) share it, and `codes` must not import `payers`.
"""

from django.core.exceptions import NON_FIELD_ERRORS, PermissionDenied, ValidationError
from django.db import models, transaction
from django.utils import timezone
from django.utils.text import Truncator

from policyhub import changelog
from policyhub.choices import WorkflowState
from policyhub.models import ReviewedModel
from policyhub.versioning import StaleVersion, obj_label, save_versioned

# Longest change reason django-simple-history stores (its history_change_reason column).
REASON_LENGTH = 100

# The workflow fields of reviewed content, in the order every admin shows them; transitions set them.
WORKFLOW_FIELDS = (
    "state",
    "revision_of",
    "submitted_by",
    "submitted_at",
    "reviewed_by",
    "reviewed_at",
    "review_comment",
)
BOOKKEEPING_FIELDS = ("created_at", "updated_at", "changed_by", "version")
NOT_CONTENT = frozenset({*WORKFLOW_FIELDS, *BOOKKEEPING_FIELDS})
PENDING_STATES = (WorkflowState.DRAFT, WorkflowState.IN_REVIEW)
# Reasons this module records itself, told apart from the ones curators give.
AUTOMATIC_REASONS = ("Draft revision of #", "Submitted for review", "Sent back: ")


class Transition(models.TextChoices):
    SUBMIT = "submit", "Submit for review"
    APPROVE = "approve", "Approve and publish"
    SEND_BACK = "send_back", "Send back to draft"
    RETIRE = "retire", "Retire"

    @property
    def outcome(self) -> str:
        """What happened to an item, for "Code brief “93590” was approved and published."."""
        return TRANSITION_OUTCOMES[self]


TRANSITION_OUTCOMES = {
    Transition.SUBMIT: "submitted for review",
    Transition.APPROVE: "approved and published",
    Transition.SEND_BACK: "sent back to draft",
    Transition.RETIRE: "retired",
}


# The state each transition starts from and the one it leads to.
TRANSITIONS = {
    Transition.SUBMIT: (WorkflowState.DRAFT, WorkflowState.IN_REVIEW),
    Transition.APPROVE: (WorkflowState.IN_REVIEW, WorkflowState.PUBLISHED),
    Transition.SEND_BACK: (WorkflowState.IN_REVIEW, WorkflowState.DRAFT),
    Transition.RETIRE: (WorkflowState.PUBLISHED, WorkflowState.RETIRED),
}


class WorkflowError(ValidationError):
    """The item is not in a state that allows the transition (or the edit)."""


def publish_permission(model: type[ReviewedModel]) -> str:
    """The permission of reviewers: approve, publish, send back and retire items of `model`."""
    return f"{model._meta.app_label}.publish_{model._meta.model_name}"


def change_permission(model: type[ReviewedModel]) -> str:
    """The permission of editors: create and edit drafts, submit them for review."""
    return f"{model._meta.app_label}.change_{model._meta.model_name}"


def required_permission(transition: Transition, model: type[ReviewedModel]) -> str:
    return change_permission(model) if transition == Transition.SUBMIT else publish_permission(model)


def content_fields(model: type[ReviewedModel]) -> list[models.Field]:
    """The columns a revision carries: everything but the key, workflow and bookkeeping."""
    return [field for field in model._meta.concrete_fields if not field.primary_key and field.name not in NOT_CONTENT]


def reason_text(text: str) -> str:
    return Truncator(" ".join(text.split())).chars(REASON_LENGTH)


def pending_revision(item: ReviewedModel) -> ReviewedModel | None:
    """The draft or in-review revision of a published item, if one is open."""
    return (
        type(item)._base_manager.filter(revision_of=item.pk, state__in=PENDING_STATES).order_by("-pk").first()
        if item.pk
        else None
    )


def refusal(transition: Transition, *, item: ReviewedModel, user, wrote: set[int] | None = None) -> Exception | None:
    """Why `user` may not apply `transition` to `item` now (PermissionDenied or WorkflowError), or None.

    `wrote`: the item's `authors`, when the caller has read them with other rows' (`apply_to_each`).
    """
    source, _target = TRANSITIONS[transition]
    label = obj_label(item)
    if not user.has_perm(required_permission(transition, type(item))):
        role = "an editor or reviewer" if transition == Transition.SUBMIT else "a reviewer"
        return PermissionDenied(f"Only {role} can {Transition(transition).label.lower()} {label}.")
    if item.state != source:
        return WorkflowError(
            f"{label} is {item.get_state_display().lower()}; only {WorkflowState(source).label.lower()} items "
            f"can be {_past(transition)}."
        )
    if transition == Transition.APPROVE and item.submitted_by_id is not None and item.submitted_by_id == user.pk:
        return PermissionDenied(f"You submitted {label} for review yourself; another reviewer must approve it.")
    if transition == Transition.APPROVE and user.pk in (authors(item) if wrote is None else wrote):
        return PermissionDenied(f"You wrote part of {label}; another reviewer must approve it.")
    if transition == Transition.APPROVE:
        unpublished = unpublished_citations(item)
        if unpublished:
            return WorkflowError(unpublished)
    if transition == Transition.RETIRE:
        citing = published_references(item, limit=3)
        if citing:
            # Readers would see a citation of content they can no longer open.
            return WorkflowError([*citing, f"Retire or change what cites {label} first."])
        pending = pending_revision(item)
        if pending is not None:
            return WorkflowError(
                f"{label} has a {pending.get_state_display().lower()} revision (#{pending.pk}); "
                "approve it or delete it before retiring."
            )
    return None


def authors(item: ReviewedModel) -> set[int]:
    """Ids of the users who wrote content of `item` (a draft, or a revision of published content).

    Read from its history: the record that created it and every record whose content differs from
    the one before. Submitting and sending back change only workflow columns, so they do not count.
    """
    return authors_of(type(item), [item.pk])[item.pk]


# Rows whose history `authors_of` reads in one statement.
AUTHORS_READ_AT_ONCE = 500


def authors_of(model: type[ReviewedModel], keys) -> dict[int, set[int]]:
    """`authors` of each row of `model` in `keys`, their histories read together: the review queue
    and a curator's drafts ask it of every pending row (one statement a row before: 2,000 drafts
    took 2,000 statements on the admin's front page)."""
    names = [field.attname for field in content_fields(model)]
    key = model._meta.pk.attname
    keys = list(keys)
    who: dict[int, set[int]] = {pk: set() for pk in keys}
    previous: dict[int, list] = {}
    for start in range(0, len(keys), AUTHORS_READ_AT_ONCE):
        records = (
            model.history.filter(**{f"{key}__in": keys[start : start + AUTHORS_READ_AT_ONCE]})
            .order_by(key, "history_date", "history_id")
            .values_list(key, "history_user_id", *names)
        )
        for pk, user_id, *content in records:
            if content != previous.get(pk) and user_id is not None:
                who[pk].add(user_id)
            previous[pk] = content
    return who


def published_references(obj: models.Model, *, limit: int = 5) -> list[str]:
    """Published content that refers to `obj` (and would lose the reference if `obj` were deleted).

    Covers every relation to reviewed content, foreign keys and many-to-many alike: deleting a
    diagnosis code would silently drop it from a published criterion's list, deleting a code would
    take its published brief with it. Such rows are not deleted; one sentence per referrer says why.
    """
    found = []
    for relation in obj._meta.related_objects:
        related = relation.related_model
        if not (isinstance(related, type) and issubclass(related, ReviewedModel)):
            continue
        rows = related._base_manager.filter(**{relation.field.name: obj.pk}, state=WorkflowState.PUBLISHED)
        found.extend(
            f"{obj_label(obj)} is used by the published {related._meta.verbose_name} “{row}”." for row in rows[:limit]
        )
    return found


def unpublished_citations(item: ReviewedModel) -> list[str]:
    """Reviewed content `item` cites that is not published (a draft policy document cited by a
    criterion): published content may only cite what readers can see too."""
    found = []
    for field in content_fields(type(item)):
        target = field.related_model
        if not (field.many_to_one and issubclass(target, ReviewedModel)) or getattr(item, field.attname) is None:
            continue
        cited = getattr(item, field.name)
        if cited.state != WorkflowState.PUBLISHED:
            found.append(
                f"{obj_label(item)} cites the {cited.get_state_display().lower()} {target._meta.verbose_name} "
                f"“{cited}”; it must be approved first (or in the same change set)."
            )
    return found


def allowed_transitions(*, item: ReviewedModel, user) -> list[Transition]:
    return [transition for transition in Transition if refusal(transition, item=item, user=user) is None]


def _past(transition: Transition) -> str:
    return {
        Transition.SUBMIT: "submitted for review",
        Transition.APPROVE: "approved",
        Transition.SEND_BACK: "sent back",
        Transition.RETIRE: "retired",
    }[transition]


def _editor_reason(revision: ReviewedModel) -> str:
    """The latest reason an editor gave while drafting `revision` (not one this module wrote)."""
    # A save that gave no reason stores NULL, which `exclude(...__in=["", None])` lets through.
    reasons = revision.history.filter(history_change_reason__gt="").order_by("-history_date", "-history_id")
    for text in reasons.values_list("history_change_reason", flat=True):
        if not text.startswith(AUTOMATIC_REASONS):
            return text
    return ""


def _check(transition: Transition, item: ReviewedModel, user, wrote: set[int] | None = None) -> None:
    problem = refusal(transition, item=item, user=user, wrote=wrote)
    if problem is not None:
        raise problem


def _validate(item: ReviewedModel) -> None:
    """`item.full_clean()`, less what a transition cannot break, which Django would look up again.

    A transition changes workflow columns only (approving a revision copies the revision's content
    onto the published row): every content value it validates was read from a stored row. So a
    reference whose only condition is that its target exists is not looked up (the database's
    foreign key holds a stored row to that; the workflow's users are the acting one), and a check
    constraint on content columns alone is not asked again (the database checked it on storing).
    Each was a statement or three per row, a third of the time of approving 2,000 criteria at once.
    `clean()`, field validation, unique constraints, references with conditions (a cited policy
    must be current) and checks on workflow columns still run on every row.
    """
    errors: dict = {}
    try:
        item.full_clean(exclude=_settled_references(type(item)), validate_unique=False, validate_constraints=False)
    except ValidationError as error:
        errors = error.update_error_dict(errors)
    # As `full_clean` does: a field already refused is not refused again by a constraint on it.
    failed = {name for name in errors if name != NON_FIELD_ERRORS}
    stored = {field.name for field in content_fields(type(item))}
    for check in (
        lambda: item.validate_unique(exclude=failed),
        lambda: item.validate_constraints(exclude=failed, stored=stored),
    ):
        try:
            check()
        except ValidationError as error:
            errors = error.update_error_dict(errors)
    if errors:
        raise ValidationError(errors)


def _settled_references(model: type[ReviewedModel]) -> set[str]:
    """The foreign keys of `model` whose only condition is that the target exists."""
    return {
        field.name
        for field in model._meta.concrete_fields
        if field.many_to_one and not field.remote_field.limit_choices_to
    }


@transaction.atomic
def submit_for_review(*, item: ReviewedModel, by, expected_version: int | None = None) -> ReviewedModel:
    """Draft -> in review. The draft must be valid; `by` is recorded as its submitter."""
    _check(Transition.SUBMIT, item, by)
    item.state = WorkflowState.IN_REVIEW
    item.submitted_by = by
    item.submitted_at = timezone.now()
    _validate(item)
    save_versioned(item, expected_version=expected_version, by=by, reason="Submitted for review")
    return item


@transaction.atomic
def approve(
    *, item: ReviewedModel, by, reason: str = "", expected_version: int | None = None, wrote: set[int] | None = None
) -> ReviewedModel:
    """In review -> published. Returns the published row: for a revision, the row it revised.

    `wrote`: the item's `authors`, when the caller has read them with other rows' (`apply_to_each`).
    """
    _check(Transition.APPROVE, item, by, wrote)
    if expected_version is not None and expected_version != item.version:
        raise StaleVersion(item, expected_version)
    if item.revision_of_id:
        return _apply_revision(item, by=by, reason=reason)
    item.state = WorkflowState.PUBLISHED
    item.reviewed_by = by
    item.reviewed_at = timezone.now()
    item.review_comment = ""
    _validate(item)
    approval = f"Approved by {by}" + (f": {reason}" if reason else "")
    save_versioned(item, expected_version=expected_version, by=by, reason=reason_text(approval))
    return item


def _apply_revision(revision: ReviewedModel, *, by, reason: str) -> ReviewedModel:
    model = type(revision)
    published = model._base_manager.select_for_update().get(pk=revision.revision_of_id)
    label = obj_label(published)
    if published.state != WorkflowState.PUBLISHED:
        raise WorkflowError(f"{label} is {published.get_state_display().lower()} now; its revision cannot be applied.")
    if published.updated_at > revision.created_at:
        raise WorkflowError(
            f"{label} changed after revision #{revision.pk} was started; "
            "delete the revision and start a new one from the current version."
        )
    for field in content_fields(model):
        setattr(published, field.attname, getattr(revision, field.attname))
    published.submitted_by_id = revision.submitted_by_id
    published.submitted_at = revision.submitted_at
    published.reviewed_by = by
    published.reviewed_at = timezone.now()
    published.review_comment = ""
    _validate(published)
    why = f"Revision #{revision.pk} approved by {by}"
    extra = reason or _editor_reason(revision)
    if extra:
        why += f": {extra}"
    save_versioned(published, by=by, reason=reason_text(why))
    for field in model._meta.many_to_many:
        getattr(published, field.name).set(getattr(revision, field.name).all())
    revision._history_user = by
    revision._change_reason = reason_text(f"Approved and applied to #{published.pk}")
    revision.delete()
    return published


@transaction.atomic
def send_back(*, item: ReviewedModel, by, comment: str, expected_version: int | None = None) -> ReviewedModel:
    """In review -> draft, with the reviewer's comment saying what to fix."""
    _check(Transition.SEND_BACK, item, by)
    comment = comment.strip()
    if not comment:
        raise WorkflowError({"review_comment": "Say what must change: a comment is required to send an item back."})
    item.state = WorkflowState.DRAFT
    item.reviewed_by = by
    item.reviewed_at = timezone.now()
    item.review_comment = comment
    _validate(item)
    save_versioned(item, expected_version=expected_version, by=by, reason=reason_text(f"Sent back: {comment}"))
    return item


@transaction.atomic
def retire(*, item: ReviewedModel, by, reason: str = "", expected_version: int | None = None) -> ReviewedModel:
    """Published -> retired: readers and the API no longer see it; its history stays."""
    _check(Transition.RETIRE, item, by)
    item.state = WorkflowState.RETIRED
    item.reviewed_by = by
    item.reviewed_at = timezone.now()
    _validate(item)
    save_versioned(
        item,
        expected_version=expected_version,
        by=by,
        reason=reason_text("Retired" + (f": {reason}" if reason else "")),
    )
    return item


def apply_transition(
    *,
    transition: Transition,
    item: ReviewedModel,
    by,
    comment: str = "",
    expected_version: int | None = None,
    wrote: set[int] | None = None,
) -> ReviewedModel:
    """Run `transition` by name (admin buttons and actions); `comment` is the reason or the review comment."""
    if transition == Transition.SUBMIT:
        return submit_for_review(item=item, by=by, expected_version=expected_version)
    if transition == Transition.APPROVE:
        return approve(item=item, by=by, reason=comment, expected_version=expected_version, wrote=wrote)
    if transition == Transition.SEND_BACK:
        return send_back(item=item, by=by, comment=comment, expected_version=expected_version)
    if transition == Transition.RETIRE:
        return retire(item=item, by=by, reason=comment, expected_version=expected_version)
    raise ValueError(f"Unknown transition {transition!r}")


def apply_to_each(*, transition: Transition, items, by, comment: str = "") -> list[ReviewedModel]:
    """`apply_transition` to every item in one transaction, all or none (the admin's list actions).

    When any item is refused nothing changes, and the `WorkflowError` says every refusal, a sentence
    per item and problem: the curator mends them all before trying again, not one per try. What the
    checks need of every item is read at once (the histories that say who wrote each one), and the
    change log's entries are written together at the end: approving 2,000 criteria with the admin's
    action took 34 s on the 1M data set, one statement after another.
    """
    items = list(items)
    wrote: dict[tuple[type, int], set[int]] = {}
    if transition == Transition.APPROVE:
        for model in {type(item) for item in items}:
            keys = [item.pk for item in items if type(item) is model]
            wrote.update(((model, pk), users) for pk, users in authors_of(model, keys).items())
    done, refused = [], []
    with transaction.atomic(), changelog.deferred():
        for item in items:
            try:
                done.append(
                    apply_transition(
                        transition=transition, item=item, by=by, comment=comment, wrote=wrote.get((type(item), item.pk))
                    )
                )
            except (PermissionDenied, ValidationError, StaleVersion) as error:
                refused.extend(error.messages if isinstance(error, ValidationError) else [str(error)])
        if refused:
            # One sentence per problem: a missing comment is the same for every item.
            raise WorkflowError(list(dict.fromkeys(refused)))
    return done
