"""Where one request's time goes: its queries, each with EXPLAIN ANALYZE's execution time.

python -m bench.reads.explain --database-url URL /api/v1/coverage-criteria/ [--plans]

Requests run in-process (Django's test client, logged in as the data set's `bench` user).
"""

import argparse
import os
import sys
import time


def main(argv) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.reads.explain", description=__doc__.split("\n\n")[0])
    parser.add_argument("--database-url", required=True)
    parser.add_argument("--plans", action="store_true", help="Print each query's whole plan.")
    parser.add_argument("paths", nargs="+")
    args = parser.parse_args(argv)
    os.environ.update(DATABASE_URL=args.database_url, DJANGO_SETTINGS_MODULE="bench.reads.settings", DEBUG="false")
    import django

    django.setup()
    from django.contrib.auth import get_user_model
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext, setup_test_environment

    setup_test_environment()
    client = Client()
    client.force_login(get_user_model().objects.get(username="bench"))
    for path in args.paths:
        client.get(path)  # warm up
        with CaptureQueriesContext(connection) as queries:
            started = time.perf_counter()
            response = client.get(path)
            total = (time.perf_counter() - started) * 1000
        print(f"\n{path}: {response.status_code}, {total:.0f} ms, {len(queries)} queries")
        with connection.cursor() as cursor:
            for query in queries.captured_queries:
                sql = query["sql"]
                if not sql.lstrip().upper().startswith("SELECT"):
                    continue
                cursor.execute(f"EXPLAIN (ANALYZE, FORMAT TEXT) {sql}")
                plan = [row[0] for row in cursor.fetchall()]
                executed = next((line for line in plan if line.startswith("Execution Time")), "")
                print(f"  {executed:<32} {sql[:300]}")
                if args.plans:
                    print("    " + "\n    ".join(plan))


if __name__ == "__main__":
    main(sys.argv[1:])
