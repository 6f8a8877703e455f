"""Builds the read benchmark's data set in a scratch PostgreSQL database, in minutes.

python -m bench.scale --criteria 1000000 [--database-url postgres://.../ph_scale_1m] [--shared-data DIR]

The database is dropped and created again, migrated, and loaded with the real releases through
the project's importers (places of service, ICD-10-CM bundled with simple-icd-10-cm, HCPCS Level II
January 2026, Medicare PFS RVUs), then with a synthetic, deterministic payer side written by COPY:

- 300 payers, 10 policy documents each;
- `--criteria` published coverage criteria, two periods (2020-2023 and 2024 onwards, so they never
  overlap) for each of `criteria / 2` (code, payer) pairs: codes in code order, 25 payers each (so
  the first code has 50 criteria at 1k rows as at 1M), each criterion with two diagnosis codes;
- criteria / 5 published documentation requirements and criteria / 20 follow-up gaps;
- audit history rows for all of them (the changes feed reads history), dated 2024 to 2026;
- an admin user `bench` (password `bench`) for the admin and the reader pages.

1M criteria take a few minutes on two cores; `--criteria 1000` builds the same shape at 1k rows.
"""

import argparse
import os
import random
import sys
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import psycopg

ROOT = Path(__file__).resolve().parent.parent
SHARED_DATA = ROOT.parent / "shared" / "data"
PAYERS = 300
POLICIES_PER_PAYER = 10
PAYERS_PER_CODE = 25
PERIODS = ((date(2020, 1, 1), date(2023, 12, 31)), (date(2024, 1, 1), None))
HISTORY_START = datetime(2024, 1, 1, tzinfo=UTC)
HISTORY_SPAN_SECONDS = 2 * 365 * 24 * 3600
BENCH_USER = "bench"

VOCABULARY = (
    "transesophageal echocardiography documents the defect anatomy and the patient is at prohibitive surgical "
    "risk heart team evaluation symptomatic regurgitation despite medical therapy catheter closure device "
    "imaging guidance fluoroscopy prior treatment failed conservative management functional class"
)
WORDS = VOCABULARY.split()


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


def copy_rows(cursor, table: str, columns: tuple[str, ...], rows) -> int:
    """COPY `rows` (tuples of `columns`) into `table`; columns left out take the model's default."""
    from django.apps import apps
    from django.db import connection

    model = next(model for model in apps.get_models(include_auto_created=True) if model._meta.db_table == table)
    rest = [field for field in model._meta.concrete_fields if field.column not in columns and not field.primary_key]
    defaults = tuple(field.get_db_prep_save(field.get_default(), connection) for field in rest)
    count = 0
    with cursor.copy(f"COPY {table} ({', '.join((*columns, *(field.column for field in rest)))}) FROM STDIN") as copy:
        for row in rows:
            copy.write_row(row + defaults)
            count += 1
    return count


def stamp(number: int) -> datetime:
    """A time between 2024 and 2026 that spreads rows evenly (deterministic in `number`)."""
    return HISTORY_START + timedelta(seconds=(number * 7919) % HISTORY_SPAN_SECONDS)


def sentence(rng: random.Random, words: int) -> str:
    return " ".join(rng.choice(WORDS) for _ in range(words)).capitalize() + "."


def write_synthetic(criteria: int, clock: Clock) -> dict:
    from django.db import connection

    from codes.models import BillingCode, DiagnosisCode
    from payers import choices

    rng = random.Random(15)
    code_ids = list(BillingCode.objects.order_by("code", "id").values_list("id", flat=True))
    diagnosis_ids = list(DiagnosisCode.objects.filter(is_billable=True).order_by("code").values_list("id", flat=True))
    counts = {}
    with connection.cursor() as django_cursor:
        cursor = django_cursor.cursor
        cursor.execute("SELECT COALESCE(MAX(id), 0) FROM payers_payer")
        first_payer = cursor.fetchone()[0] + 1
        payer_ids = list(range(first_payer, first_payer + PAYERS))
        kinds = choices.PayerKind.values
        counts["payers"] = copy_rows(
            cursor,
            "payers_payer",
            (
                "id",
                "created_at",
                "updated_at",
                "version",
                "name",
                "slug",
                "kind",
                "is_national",
                "is_tracked",
                "website",
            ),
            (
                (
                    pk,
                    stamp(pk),
                    stamp(pk),
                    1,
                    f"Payer {n:03d} Health Plan",
                    f"payer-{n:03d}",
                    kinds[n % len(kinds)],
                    n % 3 == 0,
                    n % 2 == 0,
                    f"https://payer-{n:03d}.example",
                )
                for n, pk in enumerate(payer_ids)
            ),
        )
        policy_ids = {}
        policy_rows = []
        for n, payer in enumerate(payer_ids):
            for k in range(POLICIES_PER_PAYER):
                pk = len(policy_rows) + 1
                policy_ids.setdefault(payer, []).append(pk)
                policy_rows.append(
                    (
                        pk,
                        stamp(pk),
                        stamp(pk),
                        1,
                        payer,
                        "policy",
                        f"MP-{n:03d}-{k:02d}",
                        f"Cardiac procedures policy {k} of payer {n:03d}",
                        date(2024, 1 + k, 1),
                    )
                )
        counts["policy documents"] = copy_rows(
            cursor,
            "payers_policydocument",
            (
                "id",
                "created_at",
                "updated_at",
                "version",
                "payer_id",
                "document_type",
                "number",
                "title",
                "effective_date",
            ),
            policy_rows,
        )
        clock.step("payers and policy documents")

        pairs = criteria // len(PERIODS)
        statuses, auths = choices.CoverageStatus.values, choices.PriorAuth.values

        def pair(j: int) -> tuple[int, int]:
            # Codes in order, each with 25 payers: (12 r + code index) mod 300 repeats for no r below
            # 25, so no (code, payer) pair is used twice. A code has 50 criteria in every data set.
            code_index, rounds = divmod(j, PAYERS_PER_CODE)
            return code_ids[code_index % len(code_ids)], payer_ids[(12 * rounds + code_index) % PAYERS]

        def criterion_rows():
            pk = 0
            for j in range(pairs):
                code, payer = pair(j)
                for start, end in PERIODS:
                    pk += 1
                    when = stamp(pk)
                    yield (
                        pk,
                        when,
                        when,
                        1,
                        "published",
                        when,
                        "",
                        code,
                        payer,
                        statuses[pk % len(statuses)],
                        auths[pk % len(auths)],
                        "",
                        sentence(rng, 24),
                        sentence(rng, 8),
                        rng.choice(policy_ids[payer]),
                        start,
                        end,
                        (when.date() if pk % 4 else None),
                    )

        counts["coverage criteria"] = copy_rows(
            cursor,
            "payers_coveragecriterion",
            (
                "id",
                "created_at",
                "updated_at",
                "version",
                "state",
                "reviewed_at",
                "review_comment",
                "code_id",
                "payer_id",
                "coverage_status",
                "prior_auth",
                "prior_auth_delegate",
                "criteria",
                "limitations",
                "policy_id",
                "effective_start",
                "effective_end",
                "last_verified",
            ),
            criterion_rows(),
        )
        clock.step(f"{counts['coverage criteria']:,} coverage criteria")

        def link_rows():
            step = max(1, len(diagnosis_ids) // 7)
            for criterion in range(1, counts["coverage criteria"] + 1):
                first = (criterion * 37) % len(diagnosis_ids)
                yield (criterion, diagnosis_ids[first])
                yield (criterion, diagnosis_ids[(first + step) % len(diagnosis_ids)])

        counts["diagnosis links"] = copy_rows(
            cursor,
            "payers_coveragecriterion_diagnosis_codes",
            ("coveragecriterion_id", "diagnosiscode_id"),
            link_rows(),
        )
        clock.step(f"{counts['diagnosis links']:,} criterion-diagnosis links")

        doc_kinds, levels, purposes = (
            choices.DocumentationKind.values,
            choices.RequirementLevel.values,
            ["", *choices.DocumentationPurpose.values],
        )

        def requirement_rows():
            for pk in range(1, criteria // 5 + 1):
                code, payer = pair(pk % pairs)
                when = stamp(pk * 3)
                yield (
                    pk,
                    when,
                    when,
                    1,
                    "published",
                    when,
                    "",
                    code,
                    None if pk % 10 == 0 else payer,
                    doc_kinds[pk % len(doc_kinds)],
                    sentence(rng, 14),
                    levels[pk % 2],
                    purposes[pk % len(purposes)],
                    None if pk % 10 == 0 else rng.choice(policy_ids[payer]),
                )

        counts["documentation requirements"] = copy_rows(
            cursor,
            "payers_documentationrequirement",
            (
                "id",
                "created_at",
                "updated_at",
                "version",
                "state",
                "reviewed_at",
                "review_comment",
                "code_id",
                "payer_id",
                "kind",
                "text",
                "level",
                "purpose",
                "policy_id",
            ),
            requirement_rows(),
        )
        categories, gap_statuses = choices.GapCategory.values, choices.GapStatus.values
        closed = {choices.GapStatus.RESOLVED, choices.GapStatus.WONT_FIX}

        def gap_rows():
            for pk in range(1, criteria // 20 + 1):
                code, payer = pair((pk * 13) % pairs)
                when = stamp(pk * 5)
                status = gap_statuses[pk % len(gap_statuses)]
                yield (
                    pk,
                    when,
                    when,
                    1,
                    code,
                    payer,
                    categories[pk % len(categories)],
                    sentence(rng, 12),
                    status,
                    1 + pk % 3,
                    date(2026, 1, 1) + timedelta(days=pk % 700),
                    "",
                    when,
                    when if status in closed else None,
                    "",
                )

        counts["gaps"] = copy_rows(
            cursor,
            "payers_followupgap",
            (
                "id",
                "created_at",
                "updated_at",
                "version",
                "code_id",
                "payer_id",
                "category",
                "description",
                "status",
                "priority",
                "due_date",
                "resolution_note",
                "opened_at",
                "resolved_at",
                "rule",
            ),
            gap_rows(),
        )
        clock.step("documentation requirements and gaps")
        for table in (
            "payers_payer",
            "payers_policydocument",
            "payers_coveragecriterion",
            "payers_documentationrequirement",
            "payers_followupgap",
            "payers_coveragecriterion_diagnosis_codes",
        ):
            cursor.execute(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), (SELECT MAX(id) FROM {table}))")  # noqa: S608 - our table names
    return counts


def write_history(clock: Clock) -> None:
    """One history row per synthetic row, as simple-history records a creation, dated like the row."""
    from django.db import connection

    from payers.models import CoverageCriterion, DocumentationRequirement, FollowUpGap, Payer, PolicyDocument

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
    clock.step("audit history of the synthetic rows")


def create_bench_user() -> None:
    from django.contrib.auth import get_user_model

    user = get_user_model().objects.create_superuser(BENCH_USER, "bench@example.invalid", BENCH_USER)
    return user


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
    with transaction.atomic():
        counts = write_synthetic(criteria, clock)
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
