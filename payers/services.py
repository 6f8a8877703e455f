"""Multi-step writes of the payer side: automatic follow-up gap detection.

(The editorial workflow of reviewed content, shared with `codes`, is `policyhub.workflow`.)
"""

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date

from django.db import connection, transaction
from django.utils import timezone
from simple_history.utils import bulk_create_with_history, bulk_update_with_history

from payers.choices import OPEN_GAP_STATUSES, GapStatus
from payers.gap_rules import RULES, Context, GapRule, Key, Scope, curated_codes
from payers.models import FollowUpGap, Payer
from policyhub.accounts import system_user
from policyhub.choices import WorkflowState
from policyhub.workflow import reason_text

# Any constant works: it only has to be the same for every detection run (PostgreSQL advisory lock).
DETECTION_LOCK = 7_402_115
BATCH_SIZE = 1000


@dataclass
class GapReport:
    """How many gaps a detection run opened, updated (new description), resolved or left as they were."""

    opened: Counter = field(default_factory=Counter)
    updated: Counter = field(default_factory=Counter)
    resolved: Counter = field(default_factory=Counter)
    unchanged: Counter = field(default_factory=Counter)

    @property
    def changed(self) -> int:
        return sum(self.opened.values()) + sum(self.updated.values()) + sum(self.resolved.values())

    def rows(self) -> list[tuple[str, int, int, int, int]]:
        """(rule, opened, updated, resolved, unchanged) per rule."""
        return [
            (rule.key, self.opened[rule.key], self.updated[rule.key], self.resolved[rule.key], self.unchanged[rule.key])
            for rule in RULES
        ]

    def summary(self) -> str:
        return (
            f"{sum(self.opened.values())} opened, {sum(self.updated.values())} updated, "
            f"{sum(self.resolved.values())} resolved, {sum(self.unchanged.values())} unchanged"
        )


def _key(gap: FollowUpGap) -> Key:
    return (gap.code_id, gap.payer_id, gap.policy_id)


@transaction.atomic
def detect_gaps(
    *,
    by=None,
    today: date | None = None,
    code_ids: Iterable[int] | None = None,
    policy_ids: Iterable[int] | None = None,
) -> GapReport:
    """Open, update and resolve automatic follow-up gaps so they match the data; idempotent.

    Without `code_ids` or `policy_ids` every rule looks at everything; with them, code rules look at
    those codes only and the policy rule at those policies only. A subject already chased by an open
    manual gap of the same category, or by a gap of the rule marked "won't fix", gets no new gap.
    Manual gaps (empty `rule`) are never changed. Detected gaps are published as they are written
    (readers see them without review: they restate published data); a pending revision an editor
    started of a gap that detection then changes can no longer be applied, as after any concurrent
    change. Writes go in bulk, with history, as `by` (default: the system account).
    """
    by = by or system_user()
    scope = Scope(
        today=today or timezone.localdate(),
        code_ids=None if code_ids is None else frozenset(code_ids),
        policy_ids=None if policy_ids is None else frozenset(policy_ids),
    )
    if connection.vendor == "postgresql":
        # Two runs at once would both open the same gaps; the second waits for the first instead.
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [DETECTION_LOCK])
    report = GapReport()
    for rule in RULES:
        if rule.applies_to(scope):
            _apply_rule(rule, scope, by, report)
    return report


def _apply_rule(rule: GapRule, scope: Scope, by, report: GapReport) -> None:
    found = rule.find(scope)
    gaps = rule.open_gaps(scope)
    locked = gaps.filter(status__in=OPEN_GAP_STATUSES).select_for_update(of=("self",))
    current = {_key(gap): gap for gap in locked.select_related("code", "payer", "policy")}
    declined = {_key(gap) for gap in gaps.filter(status=GapStatus.WONT_FIX).only("code", "payer", "policy")}
    # Only a published manual gap chases a subject: a draft may never be approved.
    manual = FollowUpGap.objects.published().filter(rule="", category=rule.category, status__in=OPEN_GAP_STATUSES)
    chased = {_key(gap) for gap in manual.only("code", "payer", "policy")}
    now = timezone.now()

    new = [
        FollowUpGap(
            code_id=code_id,
            payer_id=payer_id,
            policy_id=policy_id,
            category=rule.category,
            priority=rule.priority,
            description=description,
            rule=rule.key,
            changed_by=by,
            # Derived from published data, like an import: readers see it at once (no review).
            state=WorkflowState.PUBLISHED,
        )
        for (code_id, payer_id, policy_id), description in found.items()
        if (code_id, payer_id, policy_id) not in current
        and (code_id, payer_id, policy_id) not in declined
        and (code_id, payer_id, policy_id) not in chased
    ]
    if new:
        bulk_create_with_history(
            new,
            FollowUpGap,
            batch_size=BATCH_SIZE,
            default_user=by,
            default_change_reason=reason_text(f"Opened by gap detection ({rule.key})"),
        )

    updated = []
    for key, gap in current.items():
        if key in found and gap.description != found[key]:
            gap.description = found[key]
            gap._change_reason = reason_text(f"Updated by gap detection ({rule.key})")
            updated.append(gap)

    resolving = [gap for key, gap in current.items() if key not in found]
    if resolving:
        context = Context(
            today=scope.today,
            curated_code_ids=frozenset(
                curated_codes({gap.code_id for gap in resolving if gap.code_id}).values_list("pk", flat=True)
            ),
            tracked_payer_ids=frozenset(Payer.objects.filter(is_tracked=True).values_list("pk", flat=True)),
        )
        for gap in resolving:
            note = rule.resolution_note(gap, context)
            gap.status = GapStatus.RESOLVED
            gap.resolved_at = now
            gap.resolution_note = f"Resolved automatically on {scope.today.isoformat()}: {note}"
            gap._change_reason = reason_text(f"Resolved by gap detection: {note}")
    changed = updated + resolving
    if changed:
        for gap in changed:
            gap.version += 1
            gap.updated_at = now
            gap.changed_by = by
        bulk_update_with_history(
            changed,
            FollowUpGap,
            ["description", "status", "resolved_at", "resolution_note", "version", "updated_at", "changed_by"],
            batch_size=BATCH_SIZE,
            default_user=by,
        )

    report.opened[rule.key] += len(new)
    report.updated[rule.key] += len(updated)
    report.resolved[rule.key] += len(resolving)
    report.unchanged[rule.key] += len(current) - len(changed)
