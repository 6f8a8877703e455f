"""How much each API token may ask: its requests counted where every worker and host sees them.

`ApiTokenRateThrottle` limits a token to `DEFAULT_THROTTLE_RATES["api_token"]` with a sliding window
counter: two counts per token, this fixed window of the rate's period and the one before, of which
the part still inside the period counts. The counts live in Redis when `CACHE_URL` names it and in
the database (`RequestCount`) when not, so the limit holds across processes either way.

Each request adds itself and reads both counts in one round trip, counting atomically (Redis: INCR;
the database: one upsert), so two workers never both count the same number, and a busy token costs
the same as an idle one. Counting through Django's cache cost a read and a write of the cache per
request, 1.7 ms in the database cache (docs/bench.md).
"""

import functools
import math

import redis
from django.conf import settings
from django.db import models
from rest_framework.settings import api_settings
from rest_framework.throttling import SimpleRateThrottle

from policyhub.raw_sql import fetch, quote


class RequestCount(models.Model):
    """A token's requests in the current fixed window of its rate's period (`window`, the number of
    whole periods since the epoch) and in the window before: one row per token and period, rewritten
    in place by `DatabaseCounts`."""

    key = models.CharField(max_length=120, primary_key=True)
    window = models.BigIntegerField()
    current = models.PositiveIntegerField()
    before = models.PositiveIntegerField()

    class Meta:
        ordering = ["key"]

    def __str__(self):
        return f"{self.key}: {self.current} in window {self.window}, {self.before} before"


class DatabaseCounts:
    """Counts in `RequestCount`, one upsert a request (PostgreSQL and SQLite alike)."""

    def add(self, key: str, window: int, seconds: int) -> tuple[int, int]:
        return fetch(_upsert_sql(), [key, window])[0]

    def take_back(self, key: str, window: int) -> None:
        RequestCount.objects.filter(key=key, window__gte=window, current__gt=0).update(current=models.F("current") - 1)


class RedisCounts:
    """Counts in Redis, one key per token and window, which expires when it no longer counts."""

    def __init__(self, url: str, options: dict | None = None):
        # The cache's own connection options (its timeouts, `settings.REDIS_TIMEOUT_SECONDS`).
        self.redis = redis.Redis.from_url(url, **(options or {}))

    def add(self, key: str, window: int, seconds: int) -> tuple[int, int]:
        # One round trip; INCR alone is atomic, so no MULTI is needed (it cost a quarter more).
        pipe = self.redis.pipeline(transaction=False)
        pipe.incr(f"{key}:{window}")
        pipe.expire(f"{key}:{window}", 2 * seconds)
        pipe.get(f"{key}:{window - 1}")
        current, _, before = pipe.execute()
        return current, int(before or 0)

    def take_back(self, key: str, window: int) -> None:
        self.redis.decr(f"{key}:{window}")


@functools.cache
def _upsert_sql() -> str:
    """One request added to the token's row, which returns its two counts. A row left from an older
    window moves on: the window just before becomes `before`, an older one counts nothing. A row
    ahead (another host's clock) is taken as this window."""
    table = quote(RequestCount._meta.db_table)
    key, window, current, before = (quote(f.column) for f in RequestCount._meta.concrete_fields)
    same = f"c.{window} >= excluded.{window}"
    return f"""
        INSERT INTO {table} AS c ({key}, {window}, {current}, {before}) VALUES (%s, %s, 1, 0)
        ON CONFLICT ({key}) DO UPDATE SET
            {before} = CASE WHEN {same} THEN c.{before}
                            WHEN c.{window} = excluded.{window} - 1 THEN c.{current} ELSE 0 END,
            {current} = CASE WHEN {same} THEN c.{current} + 1 ELSE 1 END,
            {window} = CASE WHEN {same} THEN c.{window} ELSE excluded.{window} END
        RETURNING {current}, {before}
    """  # noqa: S608 - names from the model


@functools.cache
def _redis_counts(url: str, options: tuple) -> RedisCounts:
    return RedisCounts(url, dict(options))


def request_counts() -> DatabaseCounts | RedisCounts:
    """Where the counts live: the default cache's Redis, or the database."""
    cache = settings.CACHES["default"]
    if cache["BACKEND"] == "django.core.cache.backends.redis.RedisCache":
        return _redis_counts(cache["LOCATION"], tuple(sorted(cache.get("OPTIONS", {}).items())))
    return DatabaseCounts()


class ApiTokenRateThrottle(SimpleRateThrottle):
    """Limits each token to the rate in `DEFAULT_THROTTLE_RATES["api_token"]`; sessions are not limited.

    Rounded up, the sliding window's estimate never lets through more than the rate. DRF's own
    `SimpleRateThrottle` keeps the time of every request of the period in one cache entry and reads
    and rewrites it on every request: at the default 10,000 an hour some 90 KB a token.
    """

    scope = "api_token"

    def get_rate(self):
        # Read at request time (SimpleRateThrottle binds the rates at import), so settings changes apply.
        return api_settings.DEFAULT_THROTTLE_RATES.get(self.scope)

    def get_cache_key(self, request, view):
        from policyhub.models import ApiToken  # policyhub.models imports this module

        if isinstance(request.auth, ApiToken):
            return f"throttle:{self.scope}:{request.auth.pk}:{self.duration}"
        return None

    def allow_request(self, request, view):
        if self.rate is None:
            return True
        key = self.get_cache_key(request, view)
        if key is None:
            return True
        window, self.elapsed = divmod(self.timer() / self.duration, 1)
        counts = request_counts()
        counted, self.before = counts.add(key, int(window), self.duration)
        self.current = counted - 1  # this window's requests before this one
        if self.used() < self.num_requests:
            return True
        counts.take_back(key, int(window))  # a refused request does not count
        return False

    def used(self) -> int:
        """Requests within the last period before this one: this window's, and the earlier window's
        share of it."""
        # The tolerance keeps a float product such as 3 * (1 - 0.0) from rounding up to 4.
        return math.ceil(self.before * (1 - self.elapsed) + self.current - 1e-9)

    def wait(self) -> float | None:
        """Seconds until a request would be allowed again (the `Retry-After` of a 429): until
        `used()` is at most one less than the rate."""
        if self.num_requests == 0:
            return None  # never
        left = self.num_requests - 1 - self.current
        if left < 0:
            # Not in this window: in the next, this window's count is the earlier one's.
            share = (self.num_requests - 1) / self.current
            return (1 - self.elapsed) * self.duration + self.duration * (1 - share)
        # When the earlier window's share has fallen to what is left of the rate.
        return max(self.duration * (1 - left / self.before - self.elapsed), 1)
