"""Page-number pagination that never counts a large result exactly, nor walks to a deep page.

An exact `COUNT(*)` over a million filtered, joined rows costs more than the page itself. Up to
`EXACT_UP_TO` rows the count is exact (so small lists answer exactly as before); beyond, it is
the planner's estimate on PostgreSQL, and pages are then served as long as they have rows instead
of being checked against that estimate (a page is empty: 404).

A deep page (`page=5000`: 249,950 rows in) read with `OFFSET` makes the database produce, join and
sort every row before it: half a second on a million criteria. Published lists find it instead
from checkpoints (`seek`): how many rows come before each value of the list's leading sort column,
read once per change position like the counts. The page is then read among the rows between the
checkpoints around it, a short `OFFSET` (about `CHECKPOINT_EVERY` rows at most) into them: the same
rows, in the same order, as the long `OFFSET` gives.

Where no checkpoint finds a deep page (the admin's lists, which hold drafts too), and on every page of
a list sorted by something else than its model's own order (a curator's column, a reader's
`?ordering=`: the database sorts every row to find any page), the page's keys are found first, by a
statement that selects nothing else, and its rows read by key: the rows skipped or sorted no longer
carry every column of every joined table (1M criteria: the last page 3.9 → 0.7 s, page 1 sorted by
policy 1.1 → 0.3 s). Readers' pages do the same from 500 rows in (`RememberedCountPaginator`): their
rows carry summaries computed for every row skipped (the last page of /codes/ 0.82 → 0.08 s).
"""

import json
from bisect import bisect_left, bisect_right
from collections.abc import Hashable
from functools import cached_property

from django.core.exceptions import FieldDoesNotExist
from django.core.paginator import EmptyPage, Page, PageNotAnInteger, Paginator
from django.db import connections
from django.db.models import Count, QuerySet

from policyhub.remembered import AsOf, remembered


def count_up_to(queryset: QuerySet, limit: int) -> int:
    """The rows of `queryset`, counted no further than `limit + 1`: whether a selection is over a
    limit costs at most the limit's rows, however many a million-row table holds. Unordered: the
    order of rows nobody reads would only add a sort."""
    return queryset.order_by()[: limit + 1].count()


# Rows between two checkpoints, at least: a deep page is read among a few hundred rows (with the
# page size of 50; about 100 bytes a checkpoint, 0.5 MB for a million rows, per process).
CHECKPOINT_EVERY = 200


class EstimatedPage(Page):
    """A page of a result counted by estimate: another page follows when this one is full."""

    def has_next(self):
        # Off by one only when the last page is exactly full: its `next` then answers 404.
        return len(self.object_list) == self.paginator.per_page


class RememberedCountPaginator(Paginator):
    """A paginator whose total is `remembered` at the change position `as_of` (published data only;
    without a position it counts every time), and whose deep pages are read by key (`rows`)."""

    # Pages starting this many rows in, and every page of a list sorted otherwise than its model,
    # walk the rows before them by key alone (`rows`). A reader's list computes its summaries (a
    # code's criteria and open gaps) for every row it skips: the last page of /codes/ at 1M criteria
    # counted 20,000 codes' criteria, 0.82 s.
    NARROW_FROM = 500

    def __init__(self, object_list, per_page, *args, as_of: AsOf | None = None, key: Hashable | None = None, **kwargs):
        super().__init__(object_list, per_page, *args, **kwargs)
        self.as_of = as_of
        self.key = key  # what stands for `object_list` in the memory (see `remembered`); None: its SQL

    @cached_property
    def count(self) -> int:
        return remembered(self.object_list, QuerySet.count, as_of=self.as_of, key=self.key)

    def page(self, number):
        # Django's `Paginator.page`, its rows read by `rows`.
        number = self.validate_number(number)
        bottom = (number - 1) * self.per_page
        top = bottom + self.per_page
        if top + self.orphans >= self.count:
            top = self.count
        return self._get_page(self.rows(bottom, top), number, self)

    def rows(self, bottom: int, top: int) -> QuerySet:
        """`object_list[bottom:top]`; deep in, or sorted otherwise, found by key first."""
        if (bottom >= self.NARROW_FROM or sorted_otherwise(self.object_list)) and keys_alone_select_it(
            self.object_list
        ):
            # Walk the `OFFSET` (or sort) with the keys alone, then read the page's rows by key: the
            # database no longer joins, carries, sorts and sums up every row it skips.
            keys = list(self.object_list.values_list("pk", flat=True)[bottom:top])
            return self.object_list.filter(pk__in=keys)
        return self.object_list[bottom:top]


class CappedCountPaginator(RememberedCountPaginator):
    """Counts exactly up to `EXACT_UP_TO` rows, estimates above (PostgreSQL; exact elsewhere).

    Given `as_of` (a change position, for published data only), the count is `remembered` until
    published data changes: a filter such as codes `?coverage_status=` tests every code's criteria.
    """

    EXACT_UP_TO = 10_000
    # Pages starting this many rows in are found from checkpoints (published lists only).
    SEEK_FROM = 10_000
    # Pages starting this many rows in, where no checkpoint finds them, walk the rows before them
    # by key alone (`rows`).
    NARROW_FROM = 10_000

    @cached_property
    def count_is_exact(self) -> bool:
        return self.counted[1]

    @cached_property
    def count(self) -> int:
        return self.counted[0]

    @cached_property
    def counted(self) -> tuple[int, bool]:
        return remembered(self.object_list, self.capped_count, as_of=self.as_of, key=self.key)

    @classmethod
    def capped_count(cls, queryset) -> tuple[int, bool]:
        """The rows of `queryset` and whether that is exact."""
        connection = connections[queryset.db]
        if connection.vendor != "postgresql":
            return queryset.count(), True
        capped = count_up_to(queryset, cls.EXACT_UP_TO)
        if capped <= cls.EXACT_UP_TO:
            return capped, True
        return max(cls.EXACT_UP_TO + 1, planner_estimate(queryset)), False

    def validate_number(self, number):
        if self.count_is_exact:
            return super().validate_number(number)
        # Django's checks without the upper bound, which an estimate cannot give.
        try:
            if isinstance(number, float) and not number.is_integer():
                raise ValueError
            number = int(number)
        except (TypeError, ValueError):
            raise PageNotAnInteger(self.error_messages["invalid_page"]) from None
        if number < 1:
            raise EmptyPage(self.error_messages["min_page"])
        return number

    def page(self, number):
        if self.count_is_exact:
            return super().page(number)
        number = self.validate_number(number)
        bottom = (number - 1) * self.per_page
        top = bottom + self.per_page
        page = EstimatedPage(self.rows(bottom, top), number, self)
        if number > 1 and not page.object_list:
            raise EmptyPage(self.error_messages["no_results"])
        return page

    def rows(self, bottom: int, top: int) -> QuerySet:
        """`object_list[bottom:top]`, found from a checkpoint when it starts deep in a published list."""
        if bottom >= self.SEEK_FROM and self.as_of is not None:
            sought = seek(self.object_list, bottom, top, as_of=self.as_of)
            if sought is not None:
                around, skip = sought
                return around[skip : skip + top - bottom]
        return super().rows(bottom, top)


def planner_estimate(queryset) -> int:
    """How many rows PostgreSQL's planner expects the query to return (no rows are read)."""
    sql, params = queryset.order_by().query.sql_with_params()
    with connections[queryset.db].cursor() as cursor:
        cursor.execute(f"EXPLAIN (FORMAT JSON) {sql}", params)
        plan = cursor.fetchone()[0]
    if isinstance(plan, str):
        plan = json.loads(plan)
    return int(plan[0]["Plan"]["Plan Rows"])


def seek(queryset: QuerySet, start: int, end: int, *, as_of: AsOf) -> tuple[QuerySet, int] | None:
    """The rows of `queryset` between the checkpoints around rows `start` to `end`, and how many of
    them come before row `start`; `None` where the list cannot be sought (then OFFSET it is).

    A checkpoint is a value of the leading sort column and the number of rows sorted before its
    first row: the rows between two checkpoints are those whose value is at least the first's and
    below the second's, a range the database reads from the column's index, whatever else the
    list filters on. Checkpoints are `remembered` at the change position, so only published lists
    (`as_of`) are sought.
    """
    name = leading_column(queryset)
    if name is None:
        return None
    per_value = (
        queryset.order_by()
        .values(name)
        .annotate(_rows=Count("pk", distinct=queryset.query.distinct))
        .order_by(name)
        .values_list(name, "_rows")
    )
    checkpoints = remembered(per_value, checkpoints_of, as_of=as_of)
    if checkpoints is None:
        return None
    values, before = checkpoints
    first = bisect_right(before, start) - 1  # the last checkpoint at or before `start`
    beyond = bisect_left(before, end)  # the first with every row up to `end` before it
    bounds = {}
    if first > 0:
        bounds[f"{name}__gte"] = values[first]
    if beyond < len(values):
        bounds[f"{name}__lt"] = values[beyond]
    return queryset.filter(**bounds), start - before[first]


def checkpoints_of(per_value) -> tuple[tuple, tuple[int, ...]] | None:
    """From (value, rows) in sort order: every value at least `CHECKPOINT_EVERY` rows after the
    previous checkpoint, and the rows before it. `None` where a value is NULL: NULLs sort apart
    and no `>=` reaches them."""
    values, before = [], []
    seen = 0
    for value, rows in per_value:
        if value is None:
            return None
        if not before or seen - before[-1] >= CHECKPOINT_EVERY:
            values.append(value)
            before.append(seen)
        seen += rows
    return tuple(values), tuple(before)


def leading_column(queryset: QuerySet) -> str | None:
    """The list's leading sort column where it can be sought: the model's own leading sort column
    (`Meta.ordering`), ascending, a plain column repeated across rows (a code, a status) reached
    through forward to-one relations only, in a query that neither groups nor picks distinct
    columns. `None` otherwise, e.g. for a reader's own `?ordering=`."""
    query = queryset.query
    terms = query.order_by or (query.get_meta().ordering if query.default_ordering else ())
    default = queryset.model._meta.ordering
    if not terms or not default or terms[0] != default[0] or not isinstance(terms[0], str):
        return None
    if query.group_by is not None or query.distinct_fields or query.annotations or query.extra_order_by:
        return None
    name = terms[0]
    model = queryset.model
    *path, column = name.split("__")
    try:
        for part in path:
            field = model._meta.get_field(part)
            if not (field.many_to_one or field.one_to_one) or not field.concrete:
                return None
            model = field.related_model
        field = model._meta.get_field(column)
    except FieldDoesNotExist:
        return None
    if field.is_relation or not field.concrete or field.unique:
        return None
    return name


def keys_alone_select_it(queryset: QuerySet) -> bool:
    """Whether a slice of `queryset` can be found from its keys alone and read again by key, to the
    same rows in the same order: not where it groups, picks distinct rows or is sliced already."""
    query = queryset.query
    return not (query.distinct or query.group_by is not None or query.is_sliced or query.combinator)


def sorted_otherwise(queryset: QuerySet) -> bool:
    """Whether the list is sorted first by something else than its model's own leading sort column
    (a curator's column in the admin, a reader's `?ordering=`): no index then walks the rows in
    order, and the database sorts all of them to find the page."""
    query = queryset.query
    default = queryset.model._meta.ordering
    return bool(query.order_by) and bool(default) and query.order_by[0] != default[0]
