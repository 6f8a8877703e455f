"""Sync benchmark: a full keyset walk of diagnosis-codes and the changes feed at 1M change-log rows.

python -m bench.sync [--database-url URL] [--change-log-rows N]

Uses its own database (default: PostgreSQL `policyhub_bench_sync`, made if missing), migrates it,
imports the bundled ICD-10-CM release once and fills the change log up to N rows. Prints rows/s
of the walk, the ratio of the last page's time to the first's (goal <= 1.5), and the feed's time
for 100 entries as a ratio to a raw SQL query for the same rows (goal <= 3).
"""

import argparse
import os
import statistics
import sys
import time

DEFAULT_URL = "postgres://postgres@127.0.0.1:5432/policyhub_bench_sync"
WALK_RATIO_GOAL = 1.5
FEED_RATIO_GOAL = 3
REPEATS = 200


def prepare(url: str) -> None:
    os.environ["DATABASE_URL"] = url
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "policyhub.settings")
    # As served in production (and as bench.reads runs its servers): DEBUG off, so no statement is
    # recorded. The throttle's counts go where CACHE_URL says (Redis, or the database's table).
    os.environ["DEBUG"] = "false"
    if url.startswith("postgres"):
        import psycopg

        admin, name = url.rsplit("/", 1)
        with psycopg.connect(f"{admin}/postgres", autocommit=True) as connection:
            if not connection.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone():
                connection.execute(f'CREATE DATABASE "{name}"')
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    from codes.models import DiagnosisCode

    if DiagnosisCode.objects.count() < 98186:
        call_command("import_icd10cm", verbosity=0)


def client():
    from django.contrib.auth import get_user_model
    from django.test import Client

    from policyhub.models import ApiToken
    from policyhub.roles import VIEWER, assign_role, sync_roles

    user, _ = get_user_model().objects.get_or_create(username="bench-sync")
    sync_roles()
    assign_role(user=user, role=VIEWER)
    _, key = ApiToken.objects.issue(user=user, name="bench")
    return Client(HTTP_AUTHORIZATION=f"Token {key}")


def timed_get(http, url: str) -> tuple[float, dict]:
    start = time.perf_counter()
    response = http.get(url)
    elapsed = time.perf_counter() - start
    assert response.status_code == 200, response.content[:300]
    return elapsed, response.json()


def walk(http) -> dict:
    url, times, rows = "/api/v1/diagnosis-codes/?cursor=&page_size=500", [], 0
    start = time.perf_counter()
    while url:
        elapsed, body = timed_get(http, url)
        times.append(elapsed)
        rows += len(body["results"])
        url = body["next"]
    total = time.perf_counter() - start
    # First and last full pages, each timed again a few times: one slow request is noise.
    first = "/api/v1/diagnosis-codes/?cursor=&page_size=500"
    last = _page_url(http, len(times) - 2)
    first_time = statistics.median(timed_get(http, first)[0] for _ in range(5))
    last_time = statistics.median(timed_get(http, last)[0] for _ in range(5))
    return {"rows": rows, "pages": len(times), "rows_per_s": rows / total, "ratio": last_time / first_time}


def _page_url(http, index: int) -> str:
    url = "/api/v1/diagnosis-codes/?cursor=&page_size=500"
    for _ in range(index):
        url = http.get(url).json()["next"]
    return url


def fill_change_log(rows: int) -> None:
    from django.db import connection

    from policyhub.changelog import ChangeLogEntry, assign_positions

    missing = rows - ChangeLogEntry.objects.count()
    if missing <= 0:
        return
    table = connection.ops.quote_name(ChangeLogEntry._meta.db_table)
    series = (
        "SELECT n FROM generate_series(1, %s) AS n"
        if connection.vendor == "postgresql"
        else "WITH RECURSIVE s(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM s WHERE n < %s) SELECT n FROM s"
    )
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {table} (resource, key, action, recorded_at) "  # noqa: S608 - table from the model
            f"SELECT 'diagnosis-codes', 'BENCH' || n, 'upserted', CURRENT_TIMESTAMP FROM ({series}) AS numbers",
            [missing],
        )
        if connection.vendor == "sqlite":
            cursor.execute(f"UPDATE {table} SET position = id, positioned_at = recorded_at WHERE position IS NULL")  # noqa: S608
    assign_positions()
    if connection.vendor == "postgresql":
        # What autovacuum does soon after a bulk load: numbering a million rows at once left that
        # many dead entries in the index of unnumbered entries.
        with connection.cursor() as cursor:
            cursor.execute(f"VACUUM ANALYZE {table}")


def feed(http) -> dict:
    from django.db import connection

    from policyhub.changelog import ChangeLogEntry

    top = ChangeLogEntry.objects.order_by("-position").values_list("position", flat=True).first()
    after = top - 100
    url = f"/api/v1/changes/?after={after}&page_size=100"
    table = connection.ops.quote_name(ChangeLogEntry._meta.db_table)
    sql = f"SELECT * FROM {table} WHERE position > %s ORDER BY position LIMIT 100"  # noqa: S608

    def raw() -> float:
        start = time.perf_counter()
        with connection.cursor() as cursor:
            cursor.execute(sql, [after])
            assert len(cursor.fetchall()) == 100
        return time.perf_counter() - start

    # Interleaved, so that a machine slowing down for a while weighs on both alike.
    api_times, raw_times = [], []
    for _ in range(REPEATS):
        api_times.append(timed_get(http, url)[0])
        raw_times.append(raw())
    api, raw_time = statistics.median(api_times), statistics.median(raw_times)
    return {"entries": ChangeLogEntry.objects.count(), "api_ms": api * 1000, "raw_ms": raw_time * 1000}


def _cache_kind() -> str:
    from django.conf import settings

    return "Redis" if "redis" in settings.CACHES["default"]["BACKEND"].lower() else "the database"


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.sync", description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", default=os.environ.get("BENCH_SYNC_DATABASE_URL", DEFAULT_URL))
    parser.add_argument("--change-log-rows", type=int, default=1_000_000)
    parser.add_argument("--feed-only", action="store_true", help="skip the walk; time the changes feed only")
    args = parser.parse_args(argv)
    prepare(args.database_url)
    http = client()
    if not args.feed_only:
        result = walk(http)
        print(
            f"keyset walk of diagnosis-codes: {result['rows']} rows in {result['pages']} pages, "
            f"{result['rows_per_s']:.0f} rows/s; last page / first page = {result['ratio']:.2f} "
            f"(goal <= {WALK_RATIO_GOAL})"
        )
    fill_change_log(args.change_log_rows)
    result = feed(http)
    ratio = result["api_ms"] / result["raw_ms"]
    print(
        f"changes feed, 100 entries of {result['entries']}: {result['api_ms']:.1f} ms via the API, "
        f"{result['raw_ms']:.2f} ms raw SQL; ratio {ratio:.1f} (goal <= {FEED_RATIO_GOAL}; the API figure includes "
        f"authentication, throttle and serialisation; throttle counts in {_cache_kind()})"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
