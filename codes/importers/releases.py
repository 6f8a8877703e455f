"""Writing a release's rows in bulk: create, update what changed, leave the rest alone, with history.

An import runs inside one transaction (`release_import`), so bad input found on the last line still
leaves the database as it was, and a dry run rolls the same transaction back after counting.
Bulk writes skip model signals, so history rows are written explicitly (`writers`): every created,
changed or terminated row gets one, with the release as change reason.
A row's `release` names the release that last created or changed it.
"""

from collections import Counter
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date

from django.db import IntegrityError, transaction
from django.utils import timezone

from codes.choices import CodeStatus
from codes.importers.errors import ImportFileError
from codes.importers.gates import (
    ImplausibleRelease,
    Overrides,
    mass_change_refusal,
    newer_releases,
    termination_date_for,
)
from codes.importers.writers import insert_rows, lock_for_import, record_history, take_import_turn
from codes.models import CodeSetRelease

BATCH_SIZE = 2000
# bulk_update builds one CASE per field and row; smaller statements keep it quick.
UPDATE_BATCH_SIZE = 500
# Created rows whose history is written in one statement: far quicker than one per batch.
HISTORY_BATCH_SIZE = 50_000
# Keys of changed rows kept per category for the detailed report; counts are always exact.
LISTED_KEYS = 1000

CREATED, UPDATED, UNCHANGED, TERMINATED = "created", "updated", "unchanged", "terminated"
DESCRIPTOR_CHANGES = "descriptor changes"
OUTCOMES = (CREATED, UPDATED, UNCHANGED, TERMINATED)


def describe_counts(counter: dict) -> str:
    """'1 created, 1 updated, 1 with new descriptors, 8 unchanged, 1 terminated' for one kind of row."""
    parts = [f"{counter.get(outcome, 0)} {outcome}" for outcome in OUTCOMES]
    if DESCRIPTOR_CHANGES in counter:
        parts.insert(2, f"{counter[DESCRIPTOR_CHANGES]} with new descriptors")
    return ", ".join(parts)


def chunked(items: Iterable, size: int) -> Iterator[list]:
    chunk = []
    for item in items:
        chunk.append(item)
        if len(chunk) == size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


@dataclass
class ImportRun:
    """One import of one release file: its release row, who runs it, and what it did."""

    kind: str
    name: str
    effective_date: date | None
    source_file: str
    checksum: str
    user: object = None
    dry_run: bool = False
    release: CodeSetRelease | None = None
    repeat: bool = False
    counts: dict[str, Counter] = field(default_factory=dict)
    changed_keys: dict[str, dict[str, list]] = field(default_factory=dict)
    rejected: Counter = field(default_factory=Counter)
    notes: list[str] = field(default_factory=list)
    syncs: list["BulkSync"] = field(default_factory=list)
    overrides: Overrides = field(default_factory=Overrides)
    # Releases newer than this one (only with --allow-older): their rows are left as they are.
    newer_release_ids: set[int] = field(default_factory=set)
    # Why the real import would stop (a dry run reports it instead of stopping).
    refusal: str | None = None

    @property
    def reason(self) -> str:
        return f"Imported from {self.name} ({self.source_file})"[:100]

    def tally(self, label: str, outcome: str, key=None, amount: int = 1) -> None:
        self.counts.setdefault(label, Counter(dict.fromkeys(OUTCOMES, 0)))[outcome] += amount
        if key is not None and outcome != UNCHANGED:
            self._list(label, outcome, [key], str)

    def tally_many(self, label: str, outcome: str, keys: list, describe) -> None:
        """Count `keys` under `outcome`, listing (through `describe`) only as many as the report keeps."""
        self.tally(label, outcome, amount=len(keys))
        if keys:
            self._list(label, outcome, keys, describe)

    def _list(self, label: str, outcome: str, keys: list, describe) -> None:
        listed = self.changed_keys.setdefault(label, {}).setdefault(outcome, [])
        listed.extend(describe(key) for key in keys[: max(0, LISTED_KEYS - len(listed))])

    def reject(self, reason: str, amount: int = 1) -> None:
        """Rows of the file deliberately not loaded (the reason says why); not an error."""
        self.rejected[reason] += amount

    def summary(self) -> dict:
        result = {label: dict(counter) for label, counter in self.counts.items()}
        result["rejected"] = sum(self.rejected.values())
        if self.rejected:
            result["rejected reasons"] = dict(self.rejected)
        return result

    def changes(self) -> dict:
        """Per label: the keys listed per outcome and, where its rows record their release, their
        model (app_label.model_name), so the release page can link to them."""
        models = {sync.label: sync.model._meta.label_lower for sync in self.syncs if sync.stamp_release}
        return {
            label: {"model": models.get(label, ""), "keys": self.changed_keys.get(label, {})} for label in self.counts
        }

    def wrote_anything(self) -> bool:
        return not self.repeat or any(
            counter[outcome] for counter in self.counts.values() for outcome in (CREATED, UPDATED, TERMINATED)
        )


class _DryRunRollback(Exception):
    pass


@contextmanager
def release_import(
    *,
    kind: str,
    name: str,
    effective_date: date | None,
    source_file: str,
    checksum: str,
    user=None,
    dry_run: bool = False,
    overrides: Overrides | None = None,
) -> Iterator[ImportRun]:
    """Run an import in one transaction and record its release with the counts.

    The same file imported again (same kind and checksum) reuses its release row, so an unchanged
    release writes nothing at all. A dry run does all the work, then rolls it back. The gates
    (`gates.py`) run before anything is kept: release order first, mass change once every row is
    compared; a refusal rolls the transaction back.

    Imports of one kind take turns (a transaction-scoped lock on PostgreSQL; SQLite's write lock
    on SQLite): the second of two imports of the same file then finds the first's release and
    only compares, writing nothing.
    """
    run = ImportRun(
        kind=kind,
        name=name,
        effective_date=effective_date,
        source_file=source_file[:500],
        checksum=checksum,
        user=user,
        dry_run=dry_run,
        overrides=overrides or Overrides(),
    )
    try:
        with transaction.atomic():
            take_import_turn(kind)
            run.release = CodeSetRelease.objects.filter(kind=kind, checksum=checksum).first()
            run.repeat = run.release is not None
            run.newer_release_ids = newer_releases(
                kind=kind, effective_date=effective_date, checksum=checksum, overrides=run.overrides
            )
            if not run.repeat:
                try:
                    with transaction.atomic():
                        run.release = CodeSetRelease.objects.create(
                            kind=kind,
                            name=name[:100],
                            effective_date=effective_date,
                            source_file=run.source_file,
                            checksum=checksum,
                            changed_by=user,
                        )
                except IntegrityError:
                    raise ImportFileError(
                        f"already imported (release '{name}', checksum {checksum[:12]}…) by an import that "
                        "finished meanwhile; nothing was written"
                    ) from None
            try:
                yield run
                for sync in run.syncs:
                    sync.finish()
            except IntegrityError as exc:
                raise ImportFileError(f"the database refused the release: {exc}") from exc
            run.refusal = mass_change_refusal(run, run.overrides)
            if run.refusal and not dry_run:
                raise ImplausibleRelease(run.refusal)
            if not run.repeat:
                run.release.counts = run.summary()
                run.release.changes = run.changes()
                run.release.save(update_fields=["counts", "changes", "updated_at"])
            if dry_run:
                raise _DryRunRollback
    except _DryRunRollback:
        pass


class BulkSync:
    """Brings one model's rows in line with the records of a release, a batch at a time.

    `key` names the fields that identify a row (attnames, e.g. `code_id`); `fields` the fields the
    release owns, compared and written. Fields it does not name (a curator's category, a brief)
    are never touched. `scope` limits which existing rows the release speaks for.
    """

    def __init__(
        self,
        run: ImportRun,
        model,
        *,
        key: tuple[str, ...],
        fields: tuple[str, ...],
        label: str,
        scope: dict | None = None,
        descriptor_fields: tuple[str, ...] = (),
        stamp_release: bool = True,
        defaults: dict | None = None,
    ):
        self.run = run
        self.model = model
        self.key = key
        self.fields = fields
        self.label = label
        self.scope = scope or {}
        self.descriptor_fields = set(descriptor_fields)
        self.has_status = any(f.name == "status" for f in model._meta.fields)
        self.stamp_release = stamp_release and any(f.name == "release" for f in model._meta.fields)
        self.defaults = defaults or {}
        self.seen: dict[tuple, int | None] = {}
        self.scope_was_empty: bool | None = None
        # Rows of the code set active before this import: what the mass-change gate's shares are of.
        self.active_before = 0
        self.has_termination_date = any(f.name == "termination_date" for f in model._meta.fields)
        self.kept_for_newer = 0
        self.unrecorded: list[int] = []
        run.syncs.append(self)
        self.pending: list[tuple[tuple, dict, dict | None]] = []
        for outcome in OUTCOMES:
            run.tally(label, outcome, amount=0)
        if descriptor_fields:
            run.tally(label, DESCRIPTOR_CHANGES, amount=0)

    def feed(self, record: dict, *, line: int | None = None, create_values: dict | None = None) -> None:
        """Queue one record. A field of `fields` the record leaves out is left as it is;
        `create_values` are used only when the row is new."""
        key = tuple(record[name] for name in self.key)
        if key in self.seen:
            first = self.seen[key]
            raise ImportFileError(
                f"duplicate {self.label[:-1] if self.label.endswith('s') else self.label} "
                f"{'/'.join(str(part) for part in key)}" + (f" (first on line {first})" if first else ""),
                line=line,
            )
        self.seen[key] = line
        self.pending.append((key, record, create_values))
        if len(self.pending) >= BATCH_SIZE:
            self.flush()

    def flush(self) -> None:
        """Write the queued records: new rows created, changed rows updated, the rest counted."""
        if not self.pending:
            return
        batch, self.pending = self.pending, []
        if self.scope_was_empty is None:
            lock_for_import(self.model)
            # A first load of a code set cannot meet rows of its own: skip looking them up.
            self.scope_was_empty = not self.model.objects.filter(**self.scope).exists()
            if not self.scope_was_empty:
                in_scope = self.model.objects.filter(**self.scope)
                if self.has_status:
                    in_scope = in_scope.exclude(status=CodeStatus.TERMINATED)
                self.active_before = in_scope.count()
        existing = {} if self.scope_was_empty else self._existing([key for key, _, _ in batch])
        creates, created_keys, changes = [], [], {}
        stamp = {"changed_by_id": getattr(self.run.user, "pk", None)}
        if self.stamp_release:
            stamp["release_id"] = self.run.release.pk
        unchanged = 0
        for key, record, create_values in batch:
            current = existing.get(key)
            if current is None:
                creates.append({**self.defaults, **(create_values or {}), **record, **stamp})
                created_keys.append(key)
                continue
            pk, values = current
            if values.pop("release_id", None) in self.run.newer_release_ids:
                self.kept_for_newer += 1
                unchanged += 1
                continue
            changed = [name for name in self.fields if name in record and values[name] != record[name]]
            if not changed:
                unchanged += 1
                continue
            changes[pk] = (key, record, changed)
        self.run.tally(self.label, UNCHANGED, amount=unchanged)
        self.run.tally_many(self.label, CREATED, created_keys, self._label_key)
        updates = []
        now = timezone.now()
        for pk, obj in self.model.objects.in_bulk(list(changes)).items():
            key, record, changed = changes[pk]
            was_active = self.has_status and obj.status != CodeStatus.TERMINATED
            for name in changed:
                setattr(obj, name, record[name])
            if self.has_termination_date and obj.status == CodeStatus.TERMINATED and obj.termination_date is None:
                obj.termination_date = termination_date_for(obj, self.run.effective_date)
                changed.append("termination_date")
            self._stamp(obj, now)
            updates.append(obj)
            ends = was_active and obj.status == CodeStatus.TERMINATED
            self.run.tally(self.label, TERMINATED if ends else UPDATED, key=self._label_key(key))
            if self.descriptor_fields.intersection(changed):
                self.run.tally(self.label, DESCRIPTOR_CHANGES, key=self._label_key(key))
        self._write(creates, updates)

    def finish(self) -> None:
        """Write what is queued and the history of every row created. The import does this at its end."""
        self.flush()
        self._record_created()
        if self.kept_for_newer:
            self.run.notes.append(
                f"{self.kept_for_newer} {self.label} last written by a newer release were left as they are."
            )

    def seen_codes(self) -> set:
        """The single-field keys of every record fed so far."""
        return {key[0] for key in self.seen}

    def terminate_missing(self, scope: dict | None = None) -> int:
        """Mark terminated the rows an earlier release loaded that this release no longer lists.

        Rows never loaded from a release (typed by a curator) are left alone; nothing is deleted.
        `scope` narrows the rows the release speaks for (default: the lookup scope).
        """
        self.flush()
        if scope is None and self.scope_was_empty:
            return 0  # every row in scope came from this release
        candidates = (
            self.model.objects.filter(**(self.scope if scope is None else scope), release__isnull=False)
            .exclude(status=CodeStatus.TERMINATED)
            .exclude(release_id__in=self.run.newer_release_ids)
            .values_list("pk", *self.key)
        )
        stale = [pk for pk, *key in candidates.iterator(chunk_size=5000) if tuple(key) not in self.seen]
        now = timezone.now()
        for pks in chunked(stale, BATCH_SIZE):
            objs = list(self.model.objects.filter(pk__in=pks))
            for obj in objs:
                obj.status = CodeStatus.TERMINATED
                if self.has_termination_date and obj.termination_date is None:
                    obj.termination_date = termination_date_for(obj, self.run.effective_date)
                self._stamp(obj, now)
                self.run.tally(self.label, TERMINATED, key=self._label_key(tuple(getattr(obj, k) for k in self.key)))
            extra = ("status", "termination_date") if self.has_termination_date else ("status",)
            self._write([], objs, extra_fields=extra)
        return len(stale)

    def _existing(self, keys: list[tuple]) -> dict[tuple, tuple[int, dict]]:
        """Primary key and release-owned values of the rows a batch of keys names, read as tuples."""
        queryset = self.model.objects.filter(**self.scope)
        for position, name in enumerate(self.key):
            queryset = queryset.filter(**{f"{name}__in": {key[position] for key in keys}})
        width = len(self.key)
        names = self.fields
        if self.run.newer_release_ids and self.stamp_release:
            names = (*names, "release_id")
        return {
            tuple(row[1 : width + 1]): (row[0], dict(zip(names, row[width + 1 :], strict=True)))
            for row in queryset.values_list("pk", *self.key, *names)
        }

    def _stamp(self, obj, now) -> None:
        obj.version += 1
        obj.updated_at = now
        obj.changed_by = self.run.user
        if self.stamp_release:
            obj.release = self.run.release

    def _write(self, creates: list[dict], updates: list, extra_fields: tuple[str, ...] = ()) -> None:
        now = timezone.now()
        self.unrecorded.extend(insert_rows(self.model, creates, when=now))
        if len(self.unrecorded) >= HISTORY_BATCH_SIZE:
            self._record_created()
        if updates:
            self._record_created()  # a row's creation comes before its changes in history
            written = [*self.fields, *extra_fields, "version", "updated_at", "changed_by"]
            if self.stamp_release:
                written.append("release")
            self.model.objects.bulk_update(updates, list(dict.fromkeys(written)), batch_size=UPDATE_BATCH_SIZE)
            self._record([obj.pk for obj in updates], "~", now)

    def _record_created(self) -> None:
        ids, self.unrecorded = self.unrecorded, []
        self._record(ids, "+", timezone.now())

    def _record(self, ids: list[int], history_type: str, when) -> None:
        record_history(self.model, ids, history_type, user=self.run.user, reason=self.run.reason, when=when)

    @staticmethod
    def _label_key(key: tuple) -> str:
        return "/".join(str(part) for part in key if part not in (None, ""))
