"""Aggregates over published data that a process remembers until that data changes.

A reader page shows how many rows match ("page 1 of 200", "3,412 criteria" beside a payer). On the
full data set those counts visit every match — the coverage matrix's count of codes reads a million
criteria (250 ms) while the page itself reads fifty — and they are the same on every request until
a curator publishes something. Every write of published data appends to the change log
(`policyhub.changelog`), so an aggregate read at change position P holds until a newer position
exists: it is kept in this process's memory under its SQL and parameters (or a key its caller
gives instead) and that position, and read again once the change log has moved on.

Counts read at P are never older than P: the position is read first, and every change numbered up to
P had committed before. Keys also hold when the newest entry committed, so a database restored to
an earlier state, or a test's rolled-back data, never meets a count taken from other data at the
same position. Only queries of published data may be remembered: drafts do not move the change log.
"""

import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable
from datetime import datetime
from typing import TypeVar

from django.core.exceptions import EmptyResultSet
from django.db.models import QuerySet

from policyhub import changelog

T = TypeVar("T")

# A few hundred filter combinations per position is plenty; old positions fall out first.
MAX_ENTRIES = 2048

_memory: OrderedDict[tuple, object] = OrderedDict()
_lock = threading.Lock()

AsOf = tuple[int, datetime | None]


def newest_change(request) -> AsOf:
    """The change log's newest position for this request, read once however many reads use it."""
    if not hasattr(request, "_newest_change"):
        request._newest_change = changelog.newest_change()
    return request._newest_change


def use_newest_change(request, newest: AsOf) -> None:
    """Give the request the newest position read together with its data, in the same statement
    (the changes feed reads its entries so): `newest_change(request)` then answers it."""
    request._newest_change = newest


def remembered(
    queryset: QuerySet, read: Callable[[QuerySet], T], *, as_of: AsOf | None, key: Hashable | None = None
) -> T:
    """`read(queryset)` (e.g. `QuerySet.count`, or `dict` of a `values_list`), as read before at the
    change position `as_of` by this process, else read now and kept. Without a position (`None`:
    the caller's rows include drafts), it is read every time.

    `read` must be a named function, not a lambda: its name is part of the key. What it returns is
    shared by every later caller: read it, never change it.

    The queryset is known by its SQL, unless the caller gives a `key` that tells apart every
    queryset it may pass (as `policyhub.api_pagination` does for API lists): compiling an API
    list's SQL only to find its count took 0.7-0.9 ms of a 7 ms page (docs/bench.md).
    """
    if as_of is None:
        return read(queryset)
    position, committed_at = as_of
    if committed_at is None:
        return read(queryset)  # nothing is logged yet: no position to tell one state from another
    if key is None:
        try:
            sql, params = queryset.query.sql_with_params()
        except EmptyResultSet:
            return read(queryset)  # it matches nothing (e.g. `pk__in=[]`): known without a query
        known_by = ("sql", sql, repr(params))
    else:
        known_by = ("key", key)
    entry = (queryset.db, position, committed_at, read.__module__, read.__qualname__, *known_by)
    with _lock:
        if entry in _memory:
            _memory.move_to_end(entry)
            return _memory[entry]
    value = read(queryset)
    with _lock:
        _memory[entry] = value
        while len(_memory) > MAX_ENTRIES:
            _memory.popitem(last=False)
    return value
