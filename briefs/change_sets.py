"""Change sets: everything pending for one billing code's brief, submitted, reviewed and published together.

A code's change set is its pending reviewed content: draft or in-review brief texts, modifier
guidance, sites of service, relationships to other codes, associated diagnoses, coverage criteria,
documentation requirements, curated benchmarks and follow-up gaps of the code, new rows and revisions
of published ones alike, and the pending payer policy documents its pending rows cite (a published
criterion may only cite a published document, so they are approved together, documents first). What
belongs to no code is reviewed on its own admin page and listed in the queue beside the change sets:
a document pending on its own (an edit of a published one, a new one no pending row cites) and a
follow-up gap about a policy document alone.

An editor submits a change set once, a reviewer reads one before/after diff of the whole brief and
approves it once, and approval publishes every row in one transaction: all of it or nothing.

Each row still goes through `policyhub.workflow` (role, state and history per row); this module adds
the rules that span the set. Maker-checker spans it too: nobody who submitted or wrote any row of the
set may approve it.
"""

from collections import Counter
from dataclasses import dataclass, field
from functools import cached_property

from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.urls import reverse

from codes.models import BillingCode, CodeBrief, CodeDiagnosis, CodeRelationship, ModifierGuidance, SiteOfService
from payers.models import Benchmark, CoverageCriterion, DocumentationRequirement, FollowUpGap, PolicyDocument
from policyhub.choices import WorkflowState
from policyhub.models import ReviewedModel
from policyhub.versioning import FieldChange, display_value
from policyhub.workflow import (
    PENDING_STATES,
    Transition,
    WorkflowError,
    apply_to_each,
    authors_of,
    content_fields,
)

# The reviewed parts of a brief, in the order the brief prints them, each with the field naming its
# code (a relationship belongs to the change set of the code it starts from).
REVIEWED_PARTS = {
    CodeBrief: "code",
    SiteOfService: "code",
    ModifierGuidance: "code",
    CoverageCriterion: "code",
    DocumentationRequirement: "code",
    CodeDiagnosis: "code",
    Benchmark: "code",
    CodeRelationship: "from_code",
    FollowUpGap: "code",
}
# Pending rows of these parts may cite a pending policy document, which then joins their change set.
CITING_PARTS = (CoverageCriterion, DocumentationRequirement, FollowUpGap)


@dataclass
class Change:
    """One pending row of a change set, compared with what readers see now."""

    item: ReviewedModel
    published: ReviewedModel | None

    @cached_property
    def fields(self) -> list[FieldChange]:
        """The field-by-field differences, worked out when read: a change set's page shows them, the
        review queue and the drafts list only count the rows."""
        return _field_changes(self.item, self.published)

    @property
    def kind(self) -> str:
        return str(self.item._meta.verbose_name)

    @property
    def is_new(self) -> bool:
        return self.published is None

    @property
    def admin_url(self) -> str:
        opts = self.item._meta
        return reverse(f"admin:{opts.app_label}_{opts.model_name}_change", args=[self.item.pk])


@dataclass
class ChangeSet:
    """The pending content of one code."""

    code: BillingCode
    changes: list[Change] = field(default_factory=list)

    @property
    def state(self) -> str:
        states = {change.item.state for change in self.changes}
        return WorkflowState.DRAFT if WorkflowState.DRAFT in states else WorkflowState.IN_REVIEW

    @property
    def in_review(self) -> list[ReviewedModel]:
        return [change.item for change in self.changes if change.item.state == WorkflowState.IN_REVIEW]

    @property
    def drafts(self) -> list[ReviewedModel]:
        return [change.item for change in self.changes if change.item.state == WorkflowState.DRAFT]

    @property
    def submitted_at(self):
        times = [item.submitted_at for item in self.in_review if item.submitted_at]
        return min(times) if times else None

    @property
    def submitters(self) -> list[str]:
        return sorted({str(item.submitted_by) for item in self.in_review if item.submitted_by_id})

    @property
    def counts(self) -> dict[str, int]:
        return dict(Counter(change.kind for change in self.changes))

    @property
    def summary(self) -> str:
        """What changed, counted by kind: "1 code brief, 2 coverage criteria"."""
        counts = Counter(type(change.item) for change in self.changes)
        return ", ".join(
            f"{count} {model._meta.verbose_name if count == 1 else model._meta.verbose_name_plural}"
            for model, count in counts.items()
        )

    @property
    def review_comment(self) -> str:
        return next((change.item.review_comment for change in self.changes if change.item.review_comment), "")


def _pending(model: type[ReviewedModel], codes, *, compared: bool):
    """The pending rows of `model` of `codes` with the published rows they revise; `compared`: with
    what a change set's page reads of each too: the rows its name shows (a criterion's code and
    payer) and both rows' many-to-many values, which their differences compare."""
    pending = model._base_manager.filter(
        **{f"{REVIEWED_PARTS[model]}__in": codes}, state__in=PENDING_STATES
    ).select_related("submitted_by", "revision_of")
    if not compared:
        return pending
    many = [field.name for field in model._meta.many_to_many]
    return pending.select_related(*_named_with(model)).prefetch_related(
        *many, *(f"revision_of__{name}" for name in many)
    )


def _field_changes(item: ReviewedModel, published: ReviewedModel | None) -> list[FieldChange]:
    model = type(item)
    changes = []
    for model_field in content_fields(model):
        before = getattr(published, model_field.attname) if published else None
        after = getattr(item, model_field.attname)
        if before != after and not (published is None and after in (None, "")):
            changes.append(
                FieldChange(
                    str(model_field.verbose_name).capitalize(),
                    display_value(model, model_field.name, _shown(published, model_field, before)),
                    display_value(model, model_field.name, _shown(item, model_field, after)),
                )
            )
    for model_field in model._meta.many_to_many:
        after = sorted(str(row) for row in getattr(item, model_field.name).all())
        before = sorted(str(row) for row in getattr(published, model_field.name).all()) if published else []
        if before != after:
            changes.append(FieldChange(str(model_field.verbose_name).capitalize(), ", ".join(before), ", ".join(after)))
    return changes


def _shown(row: ReviewedModel | None, model_field, value):
    """`value` of `row`'s field as `display_value` names it: the related row itself where it was read
    with `row` (`_named_with`), which saves looking it up again."""
    if row is not None and model_field.many_to_one and value is not None and model_field.is_cached(row):
        return getattr(row, model_field.name)
    return value


def _named_with(model: type[ReviewedModel]) -> list[str]:
    """The related rows a pending row's name and differences show: its own (a criterion's code, payer
    and policy document) and, for reviewed ones, theirs (the document's payer)."""
    paths = []
    for model_field in content_fields(model):
        if model_field.many_to_one:
            paths.append(model_field.name)
            if issubclass(model_field.related_model, ReviewedModel):
                related = content_fields(model_field.related_model)
                paths.extend(f"{model_field.name}__{inner.name}" for inner in related if inner.many_to_one)
    return paths


def _citing(policies) -> list[tuple[int, int]]:
    """(policy id, code id) of every pending row of a code citing `policies` (criteria, documentation, gaps)."""
    pairs = []
    for model in CITING_PARTS:
        citing = model._base_manager.filter(policy__in=policies, state__in=PENDING_STATES, code__isnull=False)
        # Unordered: the model's ordering would join its columns into the DISTINCT.
        pairs.extend(citing.order_by().values_list("policy_id", "code_id").distinct())
    return pairs


def change_set(code: BillingCode, *, compared: bool = False) -> ChangeSet:
    """The pending content of `code` with its field-by-field differences from the published rows;
    `compared`: read ready to show them all (`change_sets`)."""
    return change_sets([code], compared=compared)[0]


def change_sets(codes, *, compared: bool = False) -> list[ChangeSet]:
    """`change_set` of each of `codes`, in their order, every part read once for all of them: the
    review queue and a curator's drafts list many codes (13 statements a code before, and two more
    a pending criterion for its diagnoses). `compared`: ready to show each row's differences (the
    lists show none; the diagnoses of 2,500 pending criteria took half a second to read). Not for
    services that publish the rows: the related rows it reads with them do not see what the
    service changes (a cited document it has just approved)."""
    codes = list(codes)
    sets = {code.pk: ChangeSet(code=code) for code in codes}
    cited: dict[int, list[int]] = {code.pk: [] for code in codes}
    for model, code_field in REVIEWED_PARTS.items():
        for item in _pending(model, codes, compared=compared):
            code_id = getattr(item, f"{code_field}_id")
            sets[code_id].changes.append(_change(item))
            if model in CITING_PARTS and item.policy_id is not None:
                cited[code_id].append(item.policy_id)
    # The pending documents the pending rows cite join their code's set, after its own rows.
    citing: dict[int, list[int]] = {}
    for code_id, policies in cited.items():
        for policy in dict.fromkeys(policies):
            citing.setdefault(policy, []).append(code_id)
    policies = PolicyDocument._base_manager.filter(pk__in=citing, state__in=PENDING_STATES).select_related(
        "payer", "submitted_by", "revision_of"
    )
    for policy in policies:
        for code_id in citing[policy.pk]:
            sets[code_id].changes.append(_change(policy))
    return [sets[code.pk] for code in codes]


def _change(item: ReviewedModel) -> Change:
    published = item.revision_of if item.revision_of_id else None
    return Change(item=item, published=published)


def _code_ids(state) -> set[int]:
    """Codes with content in `state` in their change set (their own rows, or policy documents they cite)."""
    code_ids = set()
    for model in REVIEWED_PARTS:
        in_state = model._base_manager.filter(state=state)
        code_ids.update(in_state.values_list(f"{REVIEWED_PARTS[model]}_id", flat=True))
    code_ids.update(code for _, code in _citing(PolicyDocument._base_manager.filter(state=state)))
    return code_ids


def review_queue() -> list[ChangeSet]:
    """Every code with content in review, the longest waiting first."""
    sets = change_sets(BillingCode.objects.filter(pk__in=_code_ids(WorkflowState.IN_REVIEW)))
    return sorted((s for s in sets if s.in_review), key=lambda s: (s.submitted_at is None, s.submitted_at))


def reviewed_alone() -> list[Change]:
    """Content in review that belongs to no code's change set, each approved on its own admin page,
    the longest waiting first: policy documents no pending row of a code cites, and follow-up gaps
    about a policy document alone."""
    in_review = PolicyDocument._base_manager.filter(state=WorkflowState.IN_REVIEW)
    cited = {policy for policy, _ in _citing(in_review)}
    items = [
        *in_review.exclude(pk__in=cited).select_related("payer", "submitted_by", "revision_of"),
        *FollowUpGap._base_manager.filter(state=WorkflowState.IN_REVIEW, code=None).select_related(
            "payer", "policy", "submitted_by", "revision_of"
        ),
    ]
    items.sort(key=lambda item: (item.submitted_at is None, item.submitted_at, item.pk))
    return [_change(item) for item in items]


def drafts_of(user) -> list[ChangeSet]:
    """Change sets with drafts `user` wrote or submitted (what they work on, and what was sent back)."""
    code_ids = set()
    for model, code_field in REVIEWED_PARTS.items():
        drafts = model._base_manager.filter(state=WorkflowState.DRAFT).order_by()
        mine = _written_by(user, model, drafts.values_list("pk", "submitted_by_id", f"{code_field}_id"))
        code_ids.update(code for _, _, code in mine)
    drafts = PolicyDocument._base_manager.filter(state=WorkflowState.DRAFT).order_by()
    mine = _written_by(user, PolicyDocument, drafts.values_list("pk", "submitted_by_id"))
    code_ids.update(code for _, code in _citing([pk for pk, _ in mine]))
    return change_sets(BillingCode.objects.filter(pk__in=code_ids))


def _written_by(user, model: type[ReviewedModel], drafts) -> list[tuple]:
    """The `drafts` (key, submitter, ...) that `user` submitted or wrote part of."""
    drafts = list(drafts)
    wrote = authors_of(model, [pk for pk, submitter, *_ in drafts if submitter != user.pk])
    return [row for row in drafts if row[1] == user.pk or user.pk in wrote.get(row[0], ())]


@transaction.atomic
def submit_change_set(*, code: BillingCode, by) -> ChangeSet:
    """Submit every draft of `code` for review at once; none is submitted when one is refused."""
    pending = change_set(code)
    if not pending.drafts:
        raise WorkflowError(f"{code.code} has no draft to submit.")
    apply_to_each(transition=Transition.SUBMIT, items=pending.drafts, by=by)
    return change_set(code)


def approval_refusal(pending: ChangeSet, user) -> Exception | None:
    """Why `user` may not approve the change set, or None (maker-checker over the whole set)."""
    if pending.drafts:
        return WorkflowError(
            f"{pending.code.code} still has {len(pending.drafts)} draft(s) not submitted; "
            "a change set is approved whole."
        )
    models = {type(item) for item in pending.in_review}
    wrote = {
        model: authors_of(model, [item.pk for item in pending.in_review if type(item) is model]) for model in models
    }
    for item in pending.in_review:
        if item.submitted_by_id == user.pk or user.pk in wrote[type(item)][item.pk]:
            return PermissionDenied(
                f"You wrote or submitted part of the change set of {pending.code.code} "
                f"({item._meta.verbose_name} “{item}”); another reviewer must approve it."
            )
    return None


@transaction.atomic
def approve_change_set(*, code: BillingCode, by, reason: str = "") -> list[ReviewedModel]:
    """Publish the whole change set of `code` in one transaction; returns the published rows."""
    pending = change_set(code)
    if not pending.in_review:
        raise WorkflowError(f"{code.code} has nothing in review.")
    problem = approval_refusal(pending, by)
    if problem is not None:
        raise problem
    # Cited documents first: a criterion is approved only once what it cites is published.
    ordered = sorted(pending.in_review, key=lambda item: not isinstance(item, PolicyDocument))
    return apply_to_each(transition=Transition.APPROVE, items=ordered, by=by, comment=reason)


@transaction.atomic
def send_back_change_set(*, code: BillingCode, by, comment: str) -> ChangeSet:
    """Return the whole change set of `code` to its editors as drafts, with the reviewer's comment."""
    pending = change_set(code)
    if not pending.in_review:
        raise WorkflowError(f"{code.code} has nothing in review.")
    apply_to_each(transition=Transition.SEND_BACK, items=pending.in_review, by=by, comment=comment)
    return change_set(code)
