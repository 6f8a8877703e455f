"""Writing a release's rows in bulk: create, update what changed, leave the rest alone, with history.

Bulk writes skip model signals, so history rows are written explicitly (`writers`): every created,
changed or terminated row gets one, with the release as change reason.
A row's `release` names the release that last created or changed it.
"""

from django.utils import timezone

from codes.choices import CodeStatus
from codes.importers.errors import ImportFileError
from codes.importers.gates import termination_date_for
from codes.importers.releases import (
    BATCH_SIZE,
    CREATED,
    DESCRIPTOR_CHANGES,
    HISTORY_BATCH_SIZE,
    OUTCOMES,
    TERMINATED,
    UNCHANGED,
    UPDATE_BATCH_SIZE,
    UPDATED,
    ImportRun,
    chunked,
)
from codes.importers.writers import insert_rows, lock_for_import, record_history


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
