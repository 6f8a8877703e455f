"""Fast writes for release imports: new rows by COPY or executemany, history rows copied in SQL.

Django's `bulk_create` builds a model instance per row and compiles every value through the ORM;
for a 98,000-code release that was most of the import's time. Here a new row is a dict of field
values, completed with the model's defaults and converted once per distinct value, and the rows go
to the database in one COPY (PostgreSQL) or one prepared statement run for all rows (SQLite).

History rows are not built in Python at all: `record_history` copies the rows just written into
the history table with one INSERT ... SELECT, stamped as simple-history stamps a save ('+' created,
'~' changed), so an imported row's history reads like any other and always matches the row.
"""

import json
from collections.abc import Callable, Iterable, Sequence

from django.core.exceptions import FieldDoesNotExist
from django.db import connection

from policyhub import changelog

# Text and numbers go to the driver as they are; other types take the backend's adaptation.
PASS_THROUGH = {
    "AutoField",
    "BigAutoField",
    "BigIntegerField",
    "BooleanField",
    "CharField",
    "ForeignKey",
    "IntegerField",
    "PositiveBigIntegerField",
    "PositiveIntegerField",
    "PositiveSmallIntegerField",
    "SlugField",
    "SmallIntegerField",
    "TextField",
    "URLField",
}


def insert_rows(model, rows: Sequence[dict], *, when) -> list[int]:
    """Insert new rows of `model` and return their primary keys (history is the caller's to record).

    Each row maps attnames (`code`, `payer_id`) to values; fields it leaves out take the model's
    default, as `Model(**row)` would, and the timestamps take `when`. The caller holds
    `lock_for_import(model)`: the ids are taken from the table's sequence as one block.
    """
    if not rows:
        return []
    meta = model._meta
    fields = list(meta.concrete_fields)
    known = {field.attname for field in fields}
    for row in rows:
        unknown = row.keys() - known
        if unknown:
            raise FieldDoesNotExist(f"{meta.label} has no field {', '.join(sorted(unknown))}")
    ids = _allocate_ids(meta.db_table, meta.pk.column, len(rows))
    fields = [meta.pk, *(field for field in fields if not field.primary_key)]
    # Per field: its attname, how to convert a given value (None: as it is), and the value it takes
    # when the row leaves it out, converted once (or a function for per-row defaults such as uuid4).
    plan = []
    for field in fields[1:]:
        convert = _converter(field)
        if getattr(field, "auto_now", False) or getattr(field, "auto_now_add", False):
            fallback, per_row = convert(when), False
        elif field.has_default() and callable(field.default):
            fallback, per_row = (lambda field=field, convert=convert: convert(field.get_default())), True
        else:
            fallback, per_row = convert(field.get_default()), False
        plan.append((field.attname, None if convert is _same else convert, fallback, per_row))

    def values(row: dict, pk: int) -> list:
        out = [pk]
        for attname, convert, fallback, per_row in plan:
            if attname in row:
                out.append(row[attname] if convert is None else convert(row[attname]))
            else:
                out.append(fallback() if per_row else fallback)
        return out

    _insert(meta.db_table, fields, (values(row, pk) for row, pk in zip(rows, ids, strict=True)))
    return ids


def record_history(model, ids: Sequence[int], history_type: str, *, user, reason: str, when) -> None:
    """Copy the rows `ids` of `model`, as they now are, into its history table in one statement,
    and append their entries to the change log (as every audited save does)."""
    if not ids:
        return
    changelog.record_rows(model, ids)
    history = model.history.model
    stamp = {
        "history_date": when,
        "history_change_reason": reason,
        "history_type": history_type,
        "history_user_id": getattr(user, "pk", None),
    }
    quote = connection.ops.quote_name
    own_columns = {field.column for field in model._meta.concrete_fields}
    targets, sources, params = [], [], []
    for field in history._meta.concrete_fields:
        if field.primary_key:
            continue
        targets.append(quote(field.column))
        if field.attname in stamp:
            sources.append("%s")
            params.append(_converter(field)(stamp[field.attname]))
        elif field.column in own_columns:
            sources.append(quote(field.column))
        else:
            raise FieldDoesNotExist(f"{history._meta.label}.{field.name}: no column of {model._meta.label} to copy")
    condition, id_param = _among(quote(model._meta.pk.column), ids)
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {quote(history._meta.db_table)} ({', '.join(targets)}) "  # noqa: S608 - names from models
            f"SELECT {', '.join(sources)} FROM {quote(model._meta.db_table)} WHERE {condition}",
            [*params, id_param],
        )


def _among(column: str, ids: Sequence[int]) -> tuple[str, object]:
    """A condition `column` is one of `ids`, with a single parameter whatever their number."""
    if connection.vendor == "postgresql":
        return f"{column} = ANY(%s::bigint[])", list(ids)
    return f"{column} IN (SELECT value FROM json_each(%s))", json.dumps(list(ids))  # noqa: S608 - a column name


def lock_for_import(model) -> None:
    """Keep other writers off `model`'s table until the import's transaction ends; readers go on.

    What an import compares and what it writes then agree, and a block of ids can be taken from
    the table's sequence at once. On SQLite every transaction takes the database's write lock when
    it begins (`transaction_mode` in settings), so there is nothing more to lock.
    """
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(f"LOCK TABLE {connection.ops.quote_name(model._meta.db_table)} IN EXCLUSIVE MODE")


def take_import_turn(kind: str) -> None:
    """Wait until no other import of the same kind of release is running, for the rest of the
    transaction (PostgreSQL; SQLite transactions queue at BEGIN already)."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(hashtext(%s))", [f"policyhub import {kind}"])


def _allocate_ids(table: str, column: str, count: int) -> list[int]:
    """`count` unused, consecutive primary keys, for a table `lock_for_import` has locked."""
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            # One setval instead of a nextval per row; no insert can take ids meanwhile (table lock).
            cursor.execute(
                "WITH sequence AS (SELECT pg_get_serial_sequence(%s, %s) AS name), "
                "first AS (SELECT nextval(name) AS id, name FROM sequence) "
                "SELECT id, setval(name, id + %s - 1) FROM first",
                [connection.ops.quote_name(table), column, count],
            )
            start = cursor.fetchone()[0]
            return list(range(start, start + count))
        # SQLite: AUTOINCREMENT's high-water mark keeps the ids of deleted rows unused.
        cursor.execute(f"SELECT MAX({connection.ops.quote_name(column)}) FROM {connection.ops.quote_name(table)}")  # noqa: S608
        highest = cursor.fetchone()[0] or 0
        cursor.execute("SELECT seq FROM sqlite_sequence WHERE name = %s", [table])
        row = cursor.fetchone()
        start = max(highest, row[0] if row else 0) + 1
        return list(range(start, start + count))


def _insert(table: str, fields: list, rows: Iterable[list]) -> None:
    """Write rows of database values (already converted) into `fields` of `table`."""
    quote = connection.ops.quote_name
    columns = ", ".join(quote(field.column) for field in fields)
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            with cursor.cursor.copy(f"COPY {quote(table)} ({columns}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(row)
        else:
            marks = ", ".join(["%s"] * len(fields))
            cursor.executemany(f"INSERT INTO {quote(table)} ({columns}) VALUES ({marks})", list(rows))  # noqa: S608


def _converter(field) -> Callable:
    """The database value of a field: as is for text and numbers, the backend's adaptation otherwise.

    Adapted values are remembered: a release repeats few dates and one timestamp on every row.
    """
    if field.get_internal_type() in PASS_THROUGH:
        return _same
    seen = {}

    def convert(value):
        try:
            return seen[value]
        except KeyError:
            seen[value] = adapted = field.get_db_prep_save(value, connection)
            return adapted

    return convert


def _same(value):
    return value
