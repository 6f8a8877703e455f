"""Querysets compiled to SQL once per process, then run again with another value in one place.

A code's brief is a dozen small, indexed look-ups that differ from one code to the next only in the
code's key. Compiling each through the ORM on every request cost about a third of a brief built in
process (docs/bench.md), several times what the database spends on them. A `Prepared` query is an
ordinary queryset, written with the ORM where it belongs (the selectors), built once with a marker
in place of the value; its SQL, parameters and what the ORM needs to read its rows (columns,
converters, related models) are kept, and each call only swaps the value in. Rows come back as the
queryset itself would give them: model instances through `Model.from_db()` with their
`select_related` objects and the queryset's own `prefetch_related` lookups, or `values()` dicts,
with the ORM's converters applied, on SQLite and PostgreSQL alike.

Only what stays the same between calls may go into such a queryset: no dates of today, no lists of
varying length. `PreparedPrefetches` applies it to the `Prefetch` lookups of one object. Used for a
code's brief (`briefs.selectors`) and every API detail's look-up (`api.ReadOnlyViewSet.looked_up`).

Rows are built from what the compiler leaves after `as_sql()` (`select`, `klass_info`,
`annotation_col_map`), as Django's own `ModelIterable` builds them: on a Django upgrade,
`tests/foundation/test_prepared.py` says whether that still holds.
"""

import threading
from collections.abc import Callable
from dataclasses import dataclass

from django.core.exceptions import ImproperlyConfigured
from django.db import connections
from django.db.models import Prefetch, QuerySet, prefetch_related_objects
from django.db.models.query import ModelIterable, ValuesIterable, get_related_populators

# Values no row has, found among the compiled parameters to mark the one that changes.
MARKS = {int: -7_318_275_119_362, str: "~prepared-value~"}


@dataclass(frozen=True)
class _Statement:
    """One compiled queryset: its SQL and parameters, the marker's place among them, and how to
    turn its rows into what the queryset gives."""

    sql: str
    params: tuple
    slot: int
    converters: tuple  # (column index, converters, expression) for columns that need any
    build: Callable[[list, str], list]
    prefetches: tuple  # the queryset's own prefetch_related lookups, run on the built instances

    def run(self, value, alias: str) -> list:
        params = list(self.params)
        params[self.slot] = value
        connection = connections[alias]
        with connection.cursor() as cursor:
            cursor.execute(self.sql, params)
            rows = cursor.fetchall()
        if self.converters:
            rows = [_converted(row, self.converters, connection) for row in rows]
        found = self.build(rows, alias)
        if self.prefetches and found:
            prefetch_related_objects(found, *self.prefetches)
        return found


def _converted(row, converters, connection) -> list:
    row = list(row)
    for index, functions, expression in converters:
        value = row[index]
        for function in functions:
            value = function(value, expression, connection)
        row[index] = value
    return row


class Prepared:
    """`make(value)`'s rows, its statement compiled on the first call (per database).

    `make` builds the same queryset for every value, the value used once (e.g.
    `lambda code_id: Rows.objects.filter(code=code_id).order_by(...)`); `kind` is the value's type.
    """

    def __init__(self, make: Callable[..., QuerySet], kind: type = int):
        self._make = make
        self._mark = MARKS[kind]
        self._statements: dict[str, _Statement] = {}
        self._lock = threading.Lock()

    def __call__(self, value, *, using: str = "default") -> list:
        statement = self._statements.get(using)
        if statement is None:
            with self._lock:  # threaded workers: one compiles, the others wait for it
                statement = self._statements.get(using)
                if statement is None:
                    statement = self._statements[using] = _compile(self._make(self._mark), self._mark, using)
        return statement.run(value, using)


def _compile(queryset: QuerySet, mark, alias: str) -> _Statement:
    query = queryset.query
    compiler = query.get_compiler(using=alias)
    sql, params = compiler.as_sql()
    slots = [index for index, param in enumerate(params) if type(param) is type(mark) and param == mark]
    if len(slots) != 1:
        raise ImproperlyConfigured(f"A prepared queryset must use its value exactly once; {len(slots)} found in: {sql}")
    if compiler.has_extra_select or queryset._known_related_objects:
        raise ImproperlyConfigured(f"Not preparable (extra columns or known related objects): {sql}")
    columns = [column[0] for column in compiler.select[: compiler.col_count]]
    # The converters are the backend's and the fields' functions; each call passes its own thread's
    # connection to them, as the compiler does.
    converters = tuple(
        (index, tuple(functions), expression)
        for index, (functions, expression) in compiler.get_converters(columns).items()
    )
    prefetches = ()
    if queryset._iterable_class is ValuesIterable:
        # As values() does: a queryset's prefetch_related lookups do not apply to plain rows.
        build = _dicts([*query.extra_select, *query.values_select, *query.annotation_select])
    elif queryset._iterable_class is ModelIterable:
        build, prefetches = _instances(compiler, alias), tuple(queryset._prefetch_related_lookups)
    else:
        raise ImproperlyConfigured(f"Only instances and values() rows can be prepared: {queryset._iterable_class}")
    return _Statement(sql, tuple(params), slots[0], converters, build, prefetches)


def _dicts(names: list[str]):
    def build(rows, alias):
        return [dict(zip(names, row, strict=True)) for row in rows]

    return build


def _instances(compiler, alias: str):
    """As Django's `ModelIterable` builds a row's instance, its select_related objects and annotations."""
    select, klass_info, annotations = compiler.select, compiler.klass_info, compiler.annotation_col_map
    model = klass_info["model"]
    start, end = klass_info["select_fields"][0], klass_info["select_fields"][-1] + 1
    names = [column[0].target.attname for column in select[start:end]]
    related = get_related_populators(klass_info, select, alias)

    def build(rows, alias):
        found = []
        for row in rows:
            instance = model.from_db(alias, names, row[start:end])
            for populator in related:
                populator.populate(row, instance)
            for name, index in (annotations or {}).items():
                setattr(instance, name, row[index])
            found.append(instance)
        return found

    return build


class PreparedPrefetches:
    """`prefetch_related_objects([instance], *lookups())` for one instance, each statement prepared.

    For `Prefetch` objects of one level over a reverse foreign key (a code's sites of service, its
    benchmarks...): each related row gets its instance set as Django's prefetch sets it, and the
    rows land in `to_attr` or in the related manager's cache, in the Prefetch queryset's order.
    """

    def __init__(self, lookups: Callable[[], list[Prefetch]]):
        self._lookups = lookups
        self._parts: list | None = None

    def _prepare(self, model) -> list:
        parts = []
        for lookup in self._lookups():
            relation = model._meta.get_field(lookup.prefetch_through)
            if not (relation.one_to_many and relation.auto_created) or lookup.queryset is None:
                raise ImproperlyConfigured(f"{lookup.prefetch_through}: only reverse foreign keys with a queryset.")
            key = relation.field.name

            def make(value, queryset=lookup.queryset, key=key):
                return queryset.filter(**{key: value})

            parts.append((lookup, relation.field, Prepared(make)))
        return parts

    def __call__(self, instance, *, using: str = "default") -> None:
        if self._parts is None:
            self._parts = self._prepare(type(instance))
        for lookup, field, rows in self._parts:
            found = rows(instance.pk, using=using)
            for row in found:
                field.set_cached_value(row, instance)
            if lookup.to_attr:
                setattr(instance, lookup.to_attr, found)
            else:
                manager = getattr(instance, lookup.prefetch_through)
                cached = manager._apply_rel_filters(lookup.queryset)
                cached._result_cache = found
                cached._prefetch_done = True
                if not hasattr(instance, "_prefetched_objects_cache"):
                    instance._prefetched_objects_cache = {}
                instance._prefetched_objects_cache[field.remote_field.cache_name] = cached
