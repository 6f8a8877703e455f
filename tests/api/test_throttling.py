"""Each API token's request budget (`policyhub.throttling`): a sliding window over the rate's period,
counted where every worker sees it (the database, or Redis), refused requests not counted."""

import os
import threading
import uuid

import pytest
from django.db import connection
from rest_framework.test import APIClient

from policyhub.models import ApiToken
from policyhub.throttling import ApiTokenRateThrottle, DatabaseCounts, RedisCounts, RequestCount

pytestmark = pytest.mark.django_db

CODES = "/api/v1/codes/"
# Apart from the live tests' Redis databases (3 and 4), and one per suite: CI runs both side by side.
REDIS_URL = f"redis://127.0.0.1:6379/{6 if os.environ.get('DATABASE_URL', '').startswith('postgres') else 5}"


def _client(key: str) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    return client


def _rate(settings, rate: str) -> None:
    settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK, "DEFAULT_THROTTLE_RATES": {"api_token": rate}}


def test_each_token_has_its_own_request_budget(reader, settings):
    """Past its rate a token answers 429 with Retry-After; another token is not affected."""
    _rate(settings, "3/minute")
    _, busy_key = ApiToken.objects.issue(user=reader)
    _, quiet_key = ApiToken.objects.issue(user=reader)
    busy = _client(busy_key)
    assert [busy.get(CODES).status_code for _ in range(3)] == [200, 200, 200]
    response = busy.get(CODES)
    assert response.status_code == 429
    assert int(response["Retry-After"]) > 0
    assert response.json()["code"] == "throttled"
    assert _client(quiet_key).get(CODES).status_code == 200


def test_the_rate_counts_the_last_full_period_across_window_edges(reader, settings, monkeypatch):
    """Three a minute means three in any sixty seconds: three asked at the end of one minute leave
    none for the start of the next, and the budget comes back as that minute slides out."""
    _rate(settings, "3/minute")
    now = [60 * 1_000_000 + 57.0]  # three seconds before a minute's edge
    monkeypatch.setattr(ApiTokenRateThrottle, "timer", lambda self: now[0])
    _, key = ApiToken.objects.issue(user=reader)
    client = _client(key)
    assert [client.get(CODES).status_code for _ in range(3)] == [200, 200, 200]
    now[0] += 5  # two seconds into the next minute
    refused = client.get(CODES)
    assert refused.status_code == 429
    # The three fall out of the last sixty seconds 20 s into this minute at the latest.
    assert 1 <= int(refused["Retry-After"]) <= 20
    now[0] += 20
    assert client.get(CODES).status_code == 200


def test_a_busy_tokens_count_is_one_small_row(reader, settings):
    """However many requests a token makes, its count is one row of two numbers (DRF's own throttle
    kept the time of each request of the period: 10,000 at the default rate, read and written back
    on every request)."""
    _rate(settings, "1000/hour")
    token, key = ApiToken.objects.issue(user=reader)
    client = _client(key)
    for _ in range(40):
        assert client.get("/api/v1/").status_code == 200
    (count,) = RequestCount.objects.all()
    assert count.key == f"throttle:api_token:{token.pk}:3600"
    assert count.current == 40


def test_sessions_are_not_throttled(client, reader, settings):
    """Internal users browsing with their session are not limited by the token rate."""
    _rate(settings, "1/minute")
    client.force_login(reader)
    assert {client.get(CODES).status_code for _ in range(3)} == {200}


def test_a_refused_request_does_not_count(reader, settings, monkeypatch):
    """A client that keeps asking while refused gets its budget back as soon as one that waited."""
    _rate(settings, "3/minute")
    now = [60 * 1_000_000 + 1.0]
    monkeypatch.setattr(ApiTokenRateThrottle, "timer", lambda self: now[0])
    _, key = ApiToken.objects.issue(user=reader)
    client = _client(key)
    assert [client.get(CODES).status_code for _ in range(8)] == [200] * 3 + [429] * 5
    now[0] += 59 + 30  # half of the next minute: half of the three still count, 1.5 rounded up
    assert [client.get(CODES).status_code for _ in range(2)] == [200, 429]


@pytest.fixture
def redis_counts() -> RedisCounts:
    """Counts in the Redis these machines run; CI fails without it, elsewhere the test is skipped."""
    redis = pytest.importorskip("redis")
    try:
        redis.Redis.from_url(REDIS_URL).ping()
    except redis.ConnectionError:
        if os.environ.get("CI"):
            raise
        pytest.skip("no Redis at 127.0.0.1:6379")
    return RedisCounts(REDIS_URL)


@pytest.fixture(params=["database", "redis"])
def counts(request):
    return DatabaseCounts() if request.param == "database" else request.getfixturevalue("redis_counts")


def test_counts_move_on_with_the_window(counts):
    """Each add returns this window's count with the request and the window before's; a window
    later the count becomes the earlier one, two later it is gone; a taken-back request is gone."""
    key = f"test:{uuid.uuid4().hex}"
    assert [counts.add(key, 10, 60) for _ in range(3)] == [(1, 0), (2, 0), (3, 0)]
    assert [counts.add(key, 11, 60) for _ in range(2)] == [(1, 3), (2, 3)]
    counts.take_back(key, 11)
    assert counts.add(key, 11, 60) == (2, 3)
    assert counts.add(key, 13, 60) == (1, 0)


def test_workers_asking_at_once_never_share_a_count(redis_counts):
    """Eight threads adding to one token's count at the same moment: every request gets its own
    number and none is lost (the count is one atomic step in Redis, not a read and a write)."""
    key, seen = f"test:{uuid.uuid4().hex}", []

    def ask():
        seen.extend(redis_counts.add(key, 7, 60)[0] for _ in range(50))

    threads = [threading.Thread(target=ask) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(seen) == list(range(1, 401))


def test_on_postgresql_the_counts_write_no_write_ahead_log():
    """A count is written on every API request and is worth nothing after a crash: on PostgreSQL
    its table is unlogged, so the write costs no WAL record and no disk flush at commit."""
    if connection.vendor != "postgresql":
        pytest.skip("PostgreSQL only")
    with connection.cursor() as cursor:
        cursor.execute("SELECT relpersistence FROM pg_class WHERE relname = %s", [RequestCount._meta.db_table])
        assert cursor.fetchone() == ("u",)
