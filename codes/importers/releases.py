"""An import of one release: one transaction, its counts and report, its dry run.

An import runs inside one transaction (`release_import`), so bad input found on the last line still
leaves the database as it was, and a dry run rolls the same transaction back after counting. The
rows themselves are written by `codes.importers.bulk_sync`.
"""

from collections import Counter
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date
from typing import TYPE_CHECKING

from django.db import IntegrityError, transaction

from codes.importers.errors import ImportFileError
from codes.importers.gates import (
    ImplausibleRelease,
    Overrides,
    mass_change_refusal,
    newer_releases,
)
from codes.importers.writers import take_import_turn
from codes.models import CodeSetRelease

if TYPE_CHECKING:  # BulkSync imports this module
    from codes.importers.bulk_sync import BulkSync

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
