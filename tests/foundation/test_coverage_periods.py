"""The effective-period rules of coverage: "in force on a day" and "overlapping" (CoverageCriterionQuerySet)."""

import datetime as dt

import pytest

from payers.models import CoverageCriterion
from tests.factories import CoverageCriterionFactory

pytestmark = pytest.mark.django_db

JAN_1, JUN_30, JUL_1, DEC_31 = dt.date(2030, 1, 1), dt.date(2030, 6, 30), dt.date(2030, 7, 1), dt.date(2030, 12, 31)


@pytest.fixture
def periods():
    """A first half-year, a second half-year, an open-ended one from July, one open since the beginning."""
    return {
        "first half": CoverageCriterionFactory(effective_start=JAN_1, effective_end=JUN_30),
        "second half": CoverageCriterionFactory(effective_start=JUL_1, effective_end=DEC_31),
        "from July": CoverageCriterionFactory(effective_start=JUL_1),
        "until June": CoverageCriterionFactory(effective_end=JUN_30),
    }


def names(periods, queryset) -> set[str]:
    return {name for name, row in periods.items() if queryset.filter(pk=row.pk).exists()}


@pytest.mark.parametrize(
    ("day", "expected"),
    [
        (JAN_1, {"first half", "until June"}),
        (JUN_30, {"first half", "until June"}),  # the last day is in force
        (JUL_1, {"second half", "from July"}),  # so is the first
        (dt.date(2031, 1, 1), {"from July"}),
        (dt.date(1999, 1, 1), {"until June"}),
    ],
)
def test_in_force_on_includes_both_ends_and_open_periods(periods, day, expected):
    assert names(periods, CoverageCriterion.objects.in_force_on(day)) == expected


@pytest.mark.parametrize(
    ("start", "end", "expected"),
    [
        (JUN_30, JUL_1, {"first half", "second half", "from July", "until June"}),
        (dt.date(2030, 3, 1), dt.date(2030, 3, 31), {"first half", "until June"}),
        (dt.date(2031, 1, 1), None, {"from July"}),
        (None, dt.date(2029, 12, 31), {"until June"}),
    ],
)
def test_overlapping_shares_a_day(periods, start, end, expected):
    assert names(periods, CoverageCriterion.objects.overlapping(start, end)) == expected
