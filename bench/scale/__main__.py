"""Builds the read benchmark's data set in a scratch PostgreSQL database, in minutes.

python -m bench.scale --criteria 1000000 [--database-url postgres://.../ph_scale_1m] [--shared-data DIR]

The database is dropped and created again, migrated, and loaded with the real releases through
the project's importers (places of service, ICD-10-CM bundled with simple-icd-10-cm, HCPCS Level II
January 2026, Medicare PFS RVUs), then with the synthetic, deterministic payer side of
`bench.scale.synthetic`, written by COPY:

- 300 payers, 10 policy documents each;
- `--criteria` published coverage criteria, two periods (2020-2023 and 2024 onwards, so they never
  overlap) for each of `criteria / 2` (code, payer) pairs: codes in code order, 25 payers each, the
  first payer on every code (so the first code has 50 criteria, and the first payer 40 at 1k rows,
  40,000 at 1M); each criterion with two diagnosis codes, and every tenth with a third, common one;
- criteria / 5 published documentation requirements and criteria / 20 follow-up gaps (at least
  200), half of them open;
- audit history rows for all of them, dated 2024 to 2026, and a change-log entry each (the changes feed
  and the API's validators read the change log);
- an admin user `bench` (password `bench`) for the admin and the reader pages.

1M criteria take about 4 minutes on two cores; `--criteria 1000` builds the same shape at 1k rows.
"""

import argparse
import os
import sys
import time
from pathlib import Path

import psycopg

ROOT = Path(__file__).resolve().parent.parent.parent
SHARED_DATA = ROOT.parent / "shared" / "data"
BENCH_USER = "bench"


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench.scale", description=__doc__.split("\n\n")[0])
    parser.add_argument("--criteria", type=int, default=1_000_000, help="Published coverage criteria to create.")
    parser.add_argument("--database-url", help="Scratch PostgreSQL database (dropped and created again).")
    parser.add_argument("--shared-data", type=Path, default=SHARED_DATA, help="Folder of the real CMS files.")
    args = parser.parse_args(argv)
    if args.criteria < 2:
        parser.error("--criteria: at least 2")
    if not args.database_url:
        suffix = f"{args.criteria // 1_000_000}m" if args.criteria >= 1_000_000 else f"{args.criteria // 1000}k"
        args.database_url = f"postgres://postgres@127.0.0.1:5432/ph_scale_{suffix}"
    if not args.database_url.startswith(("postgres://", "postgresql://")):
        parser.error("--database-url: a PostgreSQL database is needed (the data set is written with COPY)")
    return args


def recreate_database(url: str) -> None:
    base, name = url.rsplit("/", 1)
    with psycopg.connect(f"{base}/postgres", autocommit=True) as connection:
        connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        connection.execute(f'CREATE DATABASE "{name}"')


class Clock:
    def __init__(self):
        self.started = self.last = time.perf_counter()

    def step(self, label: str) -> None:
        now = time.perf_counter()
        print(f"  {label:<52} {now - self.last:7.1f} s", flush=True)
        self.last = now


def import_releases(shared: Path, clock: Clock) -> None:
    from codes.importers.hcpcs import import_hcpcs
    from codes.importers.icd10cm import import_icd10cm
    from codes.importers.places_of_service import import_places_of_service
    from payers.importers.rvu import import_rvu

    import_places_of_service(shared / "place_of_service.csv")
    import_icd10cm()
    clock.step("ICD-10-CM (bundled) and places of service")
    import_hcpcs(shared / "hcpcs_2026_jan.csv")
    import_rvu(shared / "pfs_rvu_2024_jul.csv")
    clock.step("HCPCS 2026 and PFS RVUs (codes and benchmarks)")


def write_history(clock: Clock) -> None:
    """One history row and one change-log entry per synthetic row, as a save through the ORM writes."""
    from django.db import connection

    from payers.models import CoverageCriterion, DocumentationRequirement, FollowUpGap, Payer, PolicyDocument
    from policyhub import changelog

    with connection.cursor() as cursor:
        for model in (Payer, PolicyDocument, CoverageCriterion, DocumentationRequirement, FollowUpGap):
            history = model.history.model
            own = {field.column for field in model._meta.concrete_fields}
            columns = [f.column for f in history._meta.concrete_fields if f.column in own and f.column != "history_id"]
            names = ", ".join(columns)
            cursor.execute(
                f"INSERT INTO {history._meta.db_table} ({names}, history_date, history_type, history_change_reason) "  # noqa: S608
                f"SELECT {names}, updated_at, '+', 'scale data set' FROM {model._meta.db_table}"
            )
            changelog.record_every_row(model)
    clock.step("audit history and change log of the synthetic rows")


def create_bench_user() -> None:
    from django.contrib.auth import get_user_model

    get_user_model().objects.create_superuser(BENCH_USER, "bench@example.invalid", BENCH_USER)


def build(criteria: int, database_url: str, shared: Path) -> dict:
    clock = Clock()
    recreate_database(database_url)
    os.environ.update(DATABASE_URL=database_url, DJANGO_SETTINGS_MODULE="policyhub.settings")
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection, transaction

    call_command("migrate", verbosity=0)
    clock.step("migrate")
    import_releases(shared, clock)
    from bench.scale.synthetic import write_synthetic

    with transaction.atomic():
        counts = write_synthetic(criteria, clock.step)
        write_history(clock)
        create_bench_user()
    connection.close()
    with psycopg.connect(database_url, autocommit=True) as raw:
        raw.execute("VACUUM ANALYZE")
    clock.step("VACUUM ANALYZE")
    print(f"  {'total':<52} {time.perf_counter() - clock.started:7.1f} s")
    return counts


def main(argv: list[str]) -> None:
    args = parse_args(argv)
    print(f"Scale data set with {args.criteria:,} coverage criteria in {args.database_url}", flush=True)
    counts = build(args.criteria, args.database_url, args.shared_data)
    print("  " + ", ".join(f"{count:,} {label}" for label, count in counts.items()))


if __name__ == "__main__":
    main(sys.argv[1:])
