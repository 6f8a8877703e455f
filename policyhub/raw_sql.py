"""Hand-written SELECTs for hot paths, returning ordinary model instances.

Where a request runs small, indexed look-ups on every call (the coverage check's ten or so, the API
token's), compiling each through the ORM cost several times what the database spends on it
(bench/coverage_check.py, docs/bench.md). Here each look-up is one parametrised statement built from
the models' own table and column names, and rows become model instances through `Model.from_db()`
with the ORM's own value converters, as the ORM itself makes them, so callers read
`criterion.get_coverage_status_display()` and friends as usual. Works on SQLite and PostgreSQL.
"""

from dataclasses import dataclass
from functools import cached_property

from django.db import connection, models


def quote(name: str) -> str:
    return connection.ops.quote_name(name)


def placeholders(values) -> str:
    return ", ".join(["%s"] * len(values))


@dataclass(frozen=True)
class Columns:
    """Some columns of a model, in the order `Model.from_db()` expects (its concrete fields' order)."""

    model: type[models.Model]
    alias: str
    fields: tuple  # concrete fields

    @classmethod
    def of(cls, model: type[models.Model], alias: str, names: set[str] | None = None) -> "Columns":
        """The columns of `names` and the key; every concrete field's when `names` is None."""
        wanted = None if names is None else {*names, "id"}
        return cls(model, alias, tuple(f for f in model._meta.concrete_fields if wanted is None or f.name in wanted))

    @property
    def table(self) -> str:
        return f"{quote(self.model._meta.db_table)} {self.alias}"

    def sql(self) -> str:
        return ", ".join(f"{self.alias}.{quote(field.column)}" for field in self.fields)

    def col(self, name: str) -> str:
        return f"{self.alias}.{quote(self.model._meta.get_field(name).column)}"

    @cached_property
    def _converters(self) -> list[tuple[int, object, list]]:
        """Per column that needs any, the converters the ORM's compiler applies to it: the backend's
        (SQLite returns times as text, booleans as integers) and the field's (JSON arrives as text)."""
        found = []
        for index, field in enumerate(self.fields):
            column = field.get_col(self.model._meta.db_table)
            converters = connection.ops.get_db_converters(column) + column.get_db_converters(connection)
            if converters:
                found.append((index, column, converters))
        return found

    def build(self, values):
        """A model instance from this slice of a row; None when its key is NULL (an empty LEFT JOIN)."""
        if values[0] is None and self.fields[0].primary_key:
            return None
        if self._converters:
            values = list(values)
            for index, column, converters in self._converters:
                for converter in converters:
                    values[index] = converter(values[index], column, connection)
        return self.model.from_db(connection.alias, [f.attname for f in self.fields], values)

    def __len__(self):
        return len(self.fields)


def fetch(sql: str, params: list) -> list[tuple]:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall()


def fetch_models(columns: Columns, where: str, params: list, *, join: Columns | None = None, on: str = ""):
    """Instances of `columns.model` matching `where`; with `join`, each also gets its LEFT JOINed
    related instance (e.g. a criterion's policy) as (row, related) pairs."""
    select = columns.sql() + (f", {join.sql()}" if join else "")
    tables = columns.table + (f" LEFT JOIN {join.table} ON {on}" if join else "")
    rows = fetch(f"SELECT {select} FROM {tables} WHERE {where}", params)  # noqa: S608 (names from the models)
    width = len(columns)
    if join is None:
        return [columns.build(row) for row in rows]
    return [(columns.build(row[:width]), join.build(row[width:])) for row in rows]
