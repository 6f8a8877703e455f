"""Fast inserts for release imports: new rows and their history rows, by COPY or executemany.

Django's `bulk_create` compiles every value of every row through the ORM and, on SQLite, splits a
batch into statements of at most 999 parameters; for a 98,000-code release that was most of the
import's time. Here each value is converted once and the rows go to the database in one COPY
(PostgreSQL) or one prepared statement run for all rows (SQLite). History rows carry the same
content as simple-history's `bulk_history_create` would write ('+' for created, '~' for changed),
so an imported row's history looks like any other.
"""

from collections.abc import Callable, Sequence

from django.db import connection


def insert_rows(model, objs: Sequence, *, user, reason: str, when) -> None:
    """Insert new, unsaved `objs` of `model`, give them primary keys, and record their creation."""
    if not objs:
        return
    meta = model._meta
    for obj in objs:
        for name in ("created_at", "updated_at"):
            if hasattr(obj, name) and getattr(obj, name) is None:
                setattr(obj, name, when)
    pk_field = meta.pk
    for obj, pk in zip(objs, _allocate_ids(meta.db_table, pk_field.column, len(objs)), strict=True):
        setattr(obj, pk_field.attname, pk)
        obj._state.adding = False
    fields = list(meta.concrete_fields)
    _insert(meta.db_table, fields, ([getattr(obj, field.attname) for field in fields] for obj in objs))
    insert_history(model, objs, "+", user=user, reason=reason, when=when)


def insert_history(model, objs: Sequence, history_type: str, *, user, reason: str, when) -> None:
    """Write one history row per object, as simple-history records a save."""
    if not objs:
        return
    history = model.history.model
    fields = [field for field in history._meta.concrete_fields if not field.primary_key]
    stamp = {
        "history_date": when,
        "history_change_reason": reason,
        "history_type": history_type,
        "history_user_id": getattr(user, "pk", None),
    }
    _insert(
        history._meta.db_table,
        fields,
        ([stamp[f.attname] if f.attname in stamp else getattr(obj, f.attname) for f in fields] for obj in objs),
    )


def _allocate_ids(table: str, column: str, count: int) -> list[int]:
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(
                "SELECT nextval(pg_get_serial_sequence(%s, %s)) FROM generate_series(1, %s)",
                [connection.ops.quote_name(table), column, count],
            )
            return [row[0] for row in cursor.fetchall()]
        # SQLite: the import's transaction holds the write lock (it wrote the release row first), so
        # nobody else takes these ids; AUTOINCREMENT's high-water mark keeps deleted ids unused.
        cursor.execute(f"SELECT MAX({connection.ops.quote_name(column)}) FROM {connection.ops.quote_name(table)}")  # noqa: S608
        highest = cursor.fetchone()[0] or 0
        cursor.execute("SELECT seq FROM sqlite_sequence WHERE name = %s", [table])
        row = cursor.fetchone()
        start = max(highest, row[0] if row else 0) + 1
        return list(range(start, start + count))


def _insert(table: str, fields: list, rows) -> None:
    convert = [_converter(field) for field in fields]
    quote = connection.ops.quote_name
    columns = ", ".join(quote(field.column) for field in fields)
    prepared = ([fn(value) for fn, value in zip(convert, row, strict=True)] for row in rows)
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            with cursor.cursor.copy(f"COPY {quote(table)} ({columns}) FROM STDIN") as copy:
                for row in prepared:
                    copy.write_row(row)
        else:
            marks = ", ".join(["%s"] * len(fields))
            cursor.executemany(f"INSERT INTO {quote(table)} ({columns}) VALUES ({marks})", list(prepared))  # noqa: S608


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
