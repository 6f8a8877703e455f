"""The change log: a commit-ordered outbox of every change to published data, for downstream sync.

Every write that simple-history records (a save, a delete, an import's bulk history) appends one
entry per changed row naming the API resource and key to refetch (`upserted`) or to drop
(`removed`), in the same transaction as the change. A model opts in with a `change_log`
attribute (`ChangeLogSpec`); rows that are only part of another resource (a code's brief text,
its sites of service) report a change of that resource.

Positions are given in commit order, which is what makes `?after=<position>` safe to follow:

- PostgreSQL hands out sequence values when a row is inserted, not when its transaction commits,
  so an entry is written without a position and `assign_positions()` numbers the entries it can
  see, which are committed ones. Numbering runs under an advisory lock, one numbering at a time,
  after every writing transaction commits and before every read of the log: an entry of a
  transaction still in flight is invisible, so it is numbered later, above every position that a
  reader may already have been given.
- SQLite transactions take the database's write lock when they begin (`transaction_mode` in
  settings), so entries are numbered in the writing transaction itself, in commit order.
"""

import json
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import cache, partial

from django.apps import apps
from django.db import connection, models, transaction
from django.db.models import Case, CharField, F, Lookup, Q, Value, When
from django.db.models.functions import Cast, Now
from django.db.models.signals import m2m_changed
from django.dispatch import Signal
from django.utils import timezone

from policyhub.choices import WorkflowState
from policyhub.raw_sql import fetch, placeholders, quote

# Any fixed number: the advisory lock that makes one numbering of entries run at a time.
NUMBERING_LOCK = 7_311_011


class ChangeAction(models.TextChoices):
    UPSERTED = "upserted", "created or changed: fetch it again"
    REMOVED = "removed", "no longer published: drop it"


@dataclass(frozen=True)
class ChangeLogSpec:
    """How a model's rows name what changed: the API `resource`, and the lookup paths of its key.

    `part=True`: a row is only part of its resource (a code's brief text), so any change of it,
    its deletion included, changes the resource. Several `keys` report a change of each (a
    relationship changes both codes). `billing_code`: the path of the code the row belongs to.
    `shown_in`: reverse relations whose rows show a summary of this row (a criterion shows its
    payer's name): a change of the row is also a change of each of them, so a copy stays exact.
    """

    resource: str
    keys: tuple[str, ...] = ("pk",)
    part: bool = False
    billing_code: str | None = None
    shown_in: tuple[str, ...] = ()


class ChangeLogEntry(models.Model):
    """One change of published data: the resource and key to refetch or drop, in commit order."""

    position = models.BigIntegerField(
        null=True,
        unique=True,
        editable=False,
        help_text="Commit order; given when the writing transaction has committed (empty until then).",
    )
    resource = models.CharField(max_length=40, help_text="The API resource, e.g. diagnosis-codes.")
    key = models.CharField(max_length=100, help_text="The resource's lookup value: code, slug or id.")
    action = models.CharField(max_length=8, choices=ChangeAction.choices)
    billing_code = models.CharField(max_length=5, null=True, blank=True)
    recorded_at = models.DateTimeField("recorded", default=timezone.now, editable=False)
    positioned_at = models.DateTimeField(
        "committed", null=True, editable=False, db_index=True, help_text="When the entry got its position."
    )

    class Meta:
        ordering = ["position", "id"]
        verbose_name = "change log entry"
        verbose_name_plural = "change log entries"
        indexes = [models.Index(fields=["id"], condition=Q(position__isnull=True), name="changelog_unnumbered")]

    def __str__(self):
        return f"#{self.position or '…'} {self.resource}/{self.key} {self.action}"


def _published(model) -> Q | None:
    """The rows of `model` that count: published (or retired) current rows of reviewed content."""
    names = {field.name for field in model._meta.concrete_fields}
    if "state" not in names:
        return None
    return Q(revision_of__isnull=True, state__in=[WorkflowState.PUBLISHED, WorkflowState.RETIRED])


def _action(model, spec: ChangeLogSpec, removed: bool):
    if removed or spec.part:
        return Value(ChangeAction.REMOVED if removed and not spec.part else ChangeAction.UPSERTED)
    if _published(model) is None:
        return Value(ChangeAction.UPSERTED)
    return Case(
        When(state=WorkflowState.RETIRED, then=Value(ChangeAction.REMOVED)),
        default=Value(ChangeAction.UPSERTED),
        output_field=CharField(),
    )


@models.ForeignKey.register_lookup
@models.BigAutoField.register_lookup
class OneOf(Lookup):
    """`pk__one_of=ids` (or a foreign key's `code_id__one_of=ids`): the key is one of `ids`, passed as
    a single parameter however many.

    On PostgreSQL `= ANY(array)`, a plain condition on the key: with `IN (SELECT unnest(array))` the
    planner joins a set-returning function it cannot estimate, and beside another condition on rows
    just written (no statistics yet) it chose a nested loop over both that took minutes for the fee
    schedule's 130,000 benchmarks.
    """

    lookup_name = "one_of"
    prepare_rhs = False

    def as_sql(self, compiler, connection):
        lhs, params = self.process_lhs(compiler, connection)
        return f"{lhs} = ANY(%s::bigint[])", [*params, list(self.rhs)]

    def as_sqlite(self, compiler, connection):
        lhs, params = self.process_lhs(compiler, connection)
        return f"{lhs} IN (SELECT value FROM json_each(%s))", [*params, json.dumps(list(self.rhs))]  # noqa: S608


def _among_ids(ids: Sequence[int]) -> Q:
    return Q(pk__one_of=list(ids))


def record_rows(model, ids: Sequence[int], *, removed: bool = False) -> None:
    """Append an entry per key of each row `ids` of `model` that is published data, in one
    INSERT ... SELECT per key path (imports record tens of thousands of rows at once).

    Rows about to be deleted (`removed`) must still exist: record them before the DELETE.
    """
    spec = getattr(model, "change_log", None)
    if spec is None or not ids:
        return
    rows = model._base_manager.filter(_among_ids(ids))
    published = _published(model)
    if published is not None:
        rows = rows.filter(published)
    _insert(model, spec, rows, removed)
    if removed:
        return  # rows that showed it are deleted with it, or keep it (PROTECT)
    for name in spec.shown_in:
        relation = model._meta.get_field(name)
        showing = relation.related_model
        if relation.many_to_many:
            rows = showing._base_manager.filter(
                **{f"{relation.field.name}__in": model._base_manager.filter(_among_ids(ids))}
            )
        else:
            # The foreign key holds the ids: a plain condition on it, which no estimate can turn into a
            # nested loop over rows an import has just written.
            rows = showing._base_manager.filter(**{f"{relation.field.attname}__one_of": list(ids)})
        if _published(showing) is not None:
            rows = rows.filter(_published(showing))
        _insert(showing, showing.change_log, rows.distinct(), removed=False)


def record_every_row(model) -> None:
    """An entry per published row of `model`: for rows loaded around the ORM (the scale data set's
    COPY), so the log holds them as if each had been saved."""
    rows = model._base_manager.all()
    if _published(model) is not None:
        rows = rows.filter(_published(model))
    _insert(model, model.change_log, rows, removed=False)


def connect_link_changes() -> None:
    """Record links added or removed without saving either row (`criterion.diagnosis_codes.add(dx)`,
    `dx.coverage_criteria.clear()`): they change the row whose many-to-many field it is."""
    for model in apps.get_models():
        if getattr(model, "change_log", None) is None:
            continue
        for field in model._meta.local_many_to_many:
            m2m_changed.connect(
                partial(_links_changed, model, field),
                sender=field.remote_field.through,
                weak=False,
                dispatch_uid=f"changelog:{model._meta.label}.{field.name}",
            )


def _links_changed(owner, field, *, instance, action, reverse, pk_set, **kwargs) -> None:
    if not reverse:
        if action in ("post_add", "post_remove", "post_clear"):
            record_rows(owner, [instance.pk])
        return
    # `instance` is on the other side: the `owner` rows linked to it change.
    if action in ("post_add", "post_remove"):
        record_rows(owner, list(pk_set))
    elif action == "pre_clear":
        through = field.remote_field.through
        linked = through.objects.filter(**{field.m2m_reverse_field_name(): instance.pk})
        record_rows(owner, list(linked.values_list(field.m2m_field_name(), flat=True)))


# Rows saved inside `deferred()`, by model, recorded when the block ends.
_deferred: ContextVar[dict | None] = ContextVar("changelog_deferred", default=None)


@contextmanager
def deferred(*, record: bool = True) -> Iterator[None]:
    """Record the rows saved one by one inside the block at its end, one INSERT ... SELECT per model
    and key path, instead of a few statements per save (an admin import saves thousands of rows).

    Use it inside the transaction that writes the rows, so the entries still commit with them; with
    `record=False` (a dry run that is rolled back anyway) nothing is recorded. Deletions are still
    recorded at once: they are read from the row, which is gone by the end.
    """
    if _deferred.get() is not None:
        yield
        return
    saved: dict = {}
    token = _deferred.set(saved)
    try:
        yield
    finally:
        _deferred.reset(token)
    if record:
        for model, ids in saved.items():
            record_rows(model, list(ids))


def record_instance(instance, *, removed: bool = False) -> None:
    """The entries for one saved row, or for one just deleted (read from the instance then)."""
    if not removed:
        saved = _deferred.get()
        if saved is not None:
            saved.setdefault(type(instance), {})[instance.pk] = None
            return
        record_rows(type(instance), [instance.pk])
        return
    spec = getattr(type(instance), "change_log", None)
    if spec is None:
        return
    if _published(type(instance)) is not None and (
        instance.revision_of_id or instance.state not in (WorkflowState.PUBLISHED, WorkflowState.RETIRED)
    ):
        return
    action = ChangeAction.UPSERTED if spec.part else ChangeAction.REMOVED
    billing_code = _follow(instance, spec.billing_code) if spec.billing_code else None
    ChangeLogEntry.objects.bulk_create(
        ChangeLogEntry(resource=spec.resource, key=str(key), action=action, billing_code=billing_code)
        for key in (_follow(instance, path) for path in spec.keys)
        if key is not None
    )
    _after_write()


def _follow(instance, path: str):
    """The value at `path` (`code__code`) from `instance`; None where a link is empty or gone."""
    value = instance
    for name in path.split("__"):
        try:
            value = getattr(value, name)
        except models.ObjectDoesNotExist:
            return None
        if value is None:
            return None
    return value


def _insert(model, spec: ChangeLogSpec, rows, removed: bool) -> None:
    quote = connection.ops.quote_name
    columns = ["resource", "key", "action", "billing_code", "recorded_at"]
    for key in spec.keys:
        selected = (
            rows.exclude(**{f"{key}__isnull": True})
            .order_by()
            .values(
                e_resource=Value(spec.resource, output_field=CharField()),
                e_key=Cast(F(key), CharField()),
                e_action=_action(model, spec, removed),
                e_billing_code=F(spec.billing_code) if spec.billing_code else Value(None, output_field=CharField()),
                e_recorded_at=Now(),
            )
        )
        sql, params = selected.query.sql_with_params()
        table = quote(ChangeLogEntry._meta.db_table)
        with connection.cursor() as cursor:
            cursor.execute(f"INSERT INTO {table} ({', '.join(map(quote, columns))}) {sql}", params)  # noqa: S608
    _after_write()


# Sent once when a transaction that appended to the change log has committed (webhooks listen).
changes_committed = Signal()


def _after_write() -> None:
    if connection.vendor == "sqlite":
        # The write lock is ours since BEGIN: the order of ids is the commit order.
        ChangeLogEntry.objects.filter(position__isnull=True).update(position=F("id"), positioned_at=Now())
    _on_commit_once(_committed)


def _on_commit_once(callback) -> None:
    """`transaction.on_commit(callback)` unless this transaction has it already: an import appends
    hundreds of batches, and what follows the commit needs doing once."""
    if connection.in_atomic_block and any(func is callback for _, func, _ in connection.run_on_commit):
        return
    # robust: the change has committed; a failure after it is logged, never turned into an error.
    transaction.on_commit(callback, robust=True)


def _committed() -> None:
    assign_positions()
    changes_committed.send(sender=ChangeLogEntry)


def assign_positions() -> None:
    """Number the committed entries that have no position yet, after every position given so far.

    On SQLite entries are numbered as they are written, so there is nothing to do.
    """
    if connection.vendor == "sqlite" or not ChangeLogEntry.objects.filter(position__isnull=True).exists():
        return
    table = connection.ops.quote_name(ChangeLogEntry._meta.db_table)
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SELECT pg_try_advisory_xact_lock(%s)", [NUMBERING_LOCK])
        if not cursor.fetchone()[0]:
            return  # another numbering runs now; what it numbers lies above any position read before
        cursor.execute(
            f"""
            WITH ready AS (
                SELECT id, row_number() OVER (ORDER BY id) AS n FROM {table} WHERE position IS NULL
            ), top AS (SELECT coalesce(max(position), 0) AS value FROM {table})
            UPDATE {table} AS entry SET position = top.value + ready.n, positioned_at = clock_timestamp()
            FROM ready, top WHERE entry.id = ready.id
            """  # noqa: S608 - the table name comes from the model
        )


def newest_change() -> tuple[int, datetime | None]:
    """The newest position and when it committed: every change at or below it is visible to reads
    from now on, and every later change gets a higher position."""
    newest = _read_newest()
    if newest is None or newest[2]:
        assign_positions()
        newest = _newest().values_list("position", "positioned_at").first()
    return newest[:2] if newest else (0, None)


def _read_newest() -> tuple[int, datetime, bool] | None:
    """The newest position, when it committed, and whether committed entries wait for theirs (only
    then are they numbered, and the newest read again). SQLite numbers as it writes."""
    if connection.vendor == "sqlite":
        newest = _newest().values_list("position", "positioned_at").first()
        return None if newest is None else (*newest, False)
    # Written out: it runs on every read, and the ORM took three times as long to compile it as the
    # database to answer it (0.9 against 0.3 ms, docs/bench.md).
    rows = fetch(_newest_sql(), [])
    return rows[0] if rows else None


@cache
def _newest_sql() -> str:
    """The newest numbered entry's position and time, and whether any committed entry waits for one."""
    table = quote(ChangeLogEntry._meta.db_table)
    return (
        f"SELECT position, positioned_at, EXISTS (SELECT 1 FROM {table} WHERE position IS NULL) AS waiting "  # noqa: S608 - the model's table
        f"FROM {table} WHERE position IS NOT NULL ORDER BY position DESC LIMIT 1"
    )


# What a reader of the log gets of each entry (the changes feed, webhook batches), as plain rows.
ENTRY_COLUMNS = ("position", "resource", "key", "action", "billing_code", "positioned_at")


def entry_rows(*, after: int, upto: int, limit: int, resources: Sequence[str] = ()) -> list[tuple]:
    """Entries after position `after` and up to `upto`, in position order, at most `limit`, as
    tuples of `ENTRY_COLUMNS`; only of `resources` when given.

    Written out: every sync client polls it, and the ORM took longer to compile it than the
    database to answer it (1.09 against 0.68 ms a page of 100, docs/bench.md).
    """
    sql, params = _entries_from(after=after, limit=limit, resources=resources, upto=upto)
    return fetch(f"SELECT {_entry_columns()} {sql}", params)


def newest_change_and_entries(
    *, after: int, limit: int, resources: Sequence[str] = ()
) -> tuple[tuple[int, datetime | None], list[tuple]] | None:
    """`newest_change()` and `entry_rows()` up to it, read in one statement: the changes feed needs
    both on every call, and the second round trip cost as much as building the page's entries.

    One statement reads one snapshot, in which no entry lies above the newest position, so the
    entries need no upper bound. None when committed entries wait for their positions, or when no
    entry has one yet: then `newest_change()` numbers them, and the entries are read after it.
    """
    entries, params = _entries_from(after=after, limit=limit, resources=resources)
    # The newest entry as a row of its own (part 0) before the page's (part 1): as columns of every
    # row, its time would be read and converted once per entry.
    rows = fetch(
        "SELECT 0 AS part, position, NULL AS resource, NULL AS key, NULL AS action, NULL AS billing_code, "  # noqa: S608 - names from the model
        f"positioned_at, waiting FROM ({_newest_sql()}) AS top "
        f"UNION ALL SELECT * FROM (SELECT 1, {_entry_columns()}, FALSE {entries}) AS page ORDER BY 1, 2",
        params,
    )
    if not rows:
        return None  # no entry is numbered: the log is empty, or its first entries wait
    _, position, *_, committed_at, waiting = rows[0]
    if waiting:
        return None
    if timezone.is_naive(committed_at):  # SQLite's stored UTC, as the ORM would convert it
        committed_at = timezone.make_aware(committed_at, UTC)
    return (position, committed_at), [row[1:-1] for row in rows[1:]]


def _entries_from(*, after: int, limit: int, resources: Sequence[str], upto: int | None = None):
    """A page of entries from `FROM` on, and its parameters: `entry_rows` and
    `newest_change_and_entries` select from it."""
    below = "" if upto is None else " AND position <= %s"
    only = f" AND resource IN ({placeholders(resources)})" if resources else ""
    # The limit written into the statement, as the ORM writes it: as a parameter, PostgreSQL's
    # generic plan for a prepared statement must assume a third of the log and costs a thousand
    # times the real one, so it planned the statement again on every call (0.5-1 ms).
    sql = (
        f"FROM {quote(ChangeLogEntry._meta.db_table)} WHERE position > %s{below}{only} "
        f"ORDER BY position LIMIT {int(limit)}"
    )
    return sql, [after, *([] if upto is None else [upto]), *resources]


@cache
def _entry_columns() -> str:
    return ", ".join(quote(ChangeLogEntry._meta.get_field(name).column) for name in ENTRY_COLUMNS)


def _newest() -> models.QuerySet:
    return ChangeLogEntry.objects.filter(position__isnull=False).order_by("-position")
