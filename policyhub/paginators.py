"""Page-number pagination that never counts a large result exactly.

An exact `COUNT(*)` over a million filtered, joined rows costs more than the page itself. Up to
`EXACT_UP_TO` rows the count is exact (so small lists answer exactly as before); beyond, it is
the planner's estimate on PostgreSQL, and pages are then served as long as they have rows instead
of being checked against that estimate (a page is empty: 404).
"""

import json
from functools import cached_property

from django.core.paginator import EmptyPage, Page, PageNotAnInteger
from django.db import connections

from policyhub.remembered import RememberedCountPaginator, remembered


class EstimatedPage(Page):
    """A page of a result counted by estimate: another page follows when this one is full."""

    def has_next(self):
        # Off by one only when the last page is exactly full: its `next` then answers 404.
        return len(self.object_list) == self.paginator.per_page


class CappedCountPaginator(RememberedCountPaginator):
    """Counts exactly up to `EXACT_UP_TO` rows, estimates above (PostgreSQL; exact elsewhere).

    Given `as_of` (a change position, for published data only), the count is `remembered` until
    published data changes: a filter such as codes `?coverage_status=` tests every code's criteria.
    """

    EXACT_UP_TO = 10_000

    @cached_property
    def count_is_exact(self) -> bool:
        return self.counted[1]

    @cached_property
    def count(self) -> int:
        return self.counted[0]

    @cached_property
    def counted(self) -> tuple[int, bool]:
        return remembered(self.object_list, self.capped_count, as_of=self.as_of)

    @classmethod
    def capped_count(cls, queryset) -> tuple[int, bool]:
        """The rows of `queryset` and whether that is exact."""
        connection = connections[queryset.db]
        if connection.vendor != "postgresql":
            return queryset.count(), True
        capped = queryset.order_by()[: cls.EXACT_UP_TO + 1].count()
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
        number = self.validate_number(number)
        if self.count_is_exact:
            return super().page(number)
        bottom = (number - 1) * self.per_page
        page = EstimatedPage(self.object_list[bottom : bottom + self.per_page], number, self)
        if number > 1 and not page.object_list:
            raise EmptyPage(self.error_messages["no_results"])
        return page


def planner_estimate(queryset) -> int:
    """How many rows PostgreSQL's planner expects the query to return (no rows are read)."""
    sql, params = queryset.order_by().query.sql_with_params()
    with connections[queryset.db].cursor() as cursor:
        cursor.execute(f"EXPLAIN (FORMAT JSON) {sql}", params)
        plan = cursor.fetchone()[0]
    if isinstance(plan, str):
        plan = json.loads(plan)
    return int(plan[0]["Plan"]["Plan Rows"])
