"""One benchmark step in a fresh process: `python -m bench.steps <step> [path]`, printing one JSON line.

The database is the one in DATABASE_URL (a scratch database the orchestrator created).
"""

import json
import os
import resource
import statistics
import sys
import time

import django


def peak_rss_mb() -> float:
    # ru_maxrss is in kilobytes on Linux: the whole process's high-water mark.
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def migrate() -> dict:
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    return {"rows": 0}


def import_icd() -> dict:
    from codes.importers.icd10cm import import_icd10cm

    return summary_of(import_icd10cm())


def import_icd_ungated() -> dict:
    """The same load with the import gates (issue 12) taken out: what they cost is the difference.

    The gates on this path: the release-order check, the mass-termination check, the turn lock
    against a concurrent import of the same kind, and each code's format check.
    """
    from codes.importers import icd10cm, releases

    releases.newer_releases = lambda **kwargs: set()
    releases.mass_change_refusal = lambda run, overrides: None
    releases.take_import_turn = lambda kind: None
    icd10cm.check_code = lambda code, *, line: code
    return import_icd()


def summary_of(run) -> dict:
    """Rows handled (every outcome of every table), whether anything was written, and the counts."""
    return {
        "rows": sum(sum(counter.values()) for counter in run.counts.values()),
        "wrote": run.wrote_anything(),
        "counts": {label: dict(counter) for label, counter in run.counts.items()},
    }


def import_hcpcs(path: str) -> dict:
    from codes.importers.hcpcs import import_hcpcs as run_import

    return summary_of(run_import(path))


def import_rvu(path: str) -> dict:
    from payers.importers.rvu import import_rvu as run_import

    return summary_of(run_import(path))


def copy_icd() -> dict:
    """The floor: the same ICD-10-CM rows, already parsed, COPYed into scratch tables.

    Two tables: a bare temporary one (no indexes, no write-ahead log: the least any COPY costs)
    and a regular table created like the real diagnosis code table, with its columns, indexes and
    checks (what storing these rows in this schema costs any loader). Both are dropped after.
    """
    from django.db import connection, transaction
    from django.utils import timezone

    from codes.choices import CodeStatus
    from codes.importers.icd10cm import read_bundled
    from codes.models import DiagnosisCode

    reading = time.perf_counter()
    entries = list(read_bundled())
    read_seconds = time.perf_counter() - reading
    now, active = timezone.now(), CodeStatus.ACTIVE.value
    rows = [
        (number, now, now, 1, e.code, e.short_description, e.description, e.is_billable, e.order_number, active)
        for number, e in enumerate(entries, start=1)
    ]
    columns = (
        "id, created_at, updated_at, version, code, short_description, description, is_billable, order_number, status"
    )
    timings = {}
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(
            "CREATE TEMP TABLE bench_icd_bare (id bigint, created_at timestamptz, updated_at timestamptz, "
            "version integer, code varchar(7), short_description varchar(255), description text, "
            "is_billable boolean, order_number integer, status varchar(12))"
        )
        cursor.execute(f"CREATE TABLE bench_icd_shaped (LIKE {DiagnosisCode._meta.db_table} INCLUDING ALL)")
        for label, table in (("seconds", "bench_icd_bare"), ("shaped_seconds", "bench_icd_shaped")):
            started = time.perf_counter()
            with cursor.cursor.copy(f"COPY {table} ({columns}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(row)
            timings[label] = time.perf_counter() - started
        transaction.set_rollback(True)
    return {"rows": len(rows), "read_seconds": read_seconds, **timings}


def admin_upload() -> dict:
    """An admin CSV upload at the limits (IMPORT_MAX_ROWS new billing codes, just under
    IMPORT_MAX_UPLOAD_BYTES): the form's file checks, the library's reading of it into a table, then
    the preview (django-import-export's dry run: every row validated, saved and rolled back).

    Peak RSS is the process's: what a web worker holds while it shows the preview.
    """
    import tempfile

    from django.conf import settings
    from django.contrib.admin import site
    from django.core.files.uploadedfile import TemporaryUploadedFile
    from import_export.formats import base_formats

    from codes.admin import BillingCodeAdmin
    from codes.admin_imports import check_upload
    from codes.models import BillingCode
    from codes.resources import BillingCodeResource

    rows = settings.IMPORT_MAX_ROWS
    header = b"system,code,short_descriptor,long_descriptor,category,is_add_on,status\n"
    # Long descriptors fill the file to just under the byte limit: the most a file may hold.
    words = max(1, (settings.IMPORT_MAX_UPLOAD_BYTES * 95 // 100 - len(header)) // rows - 60) // 5
    line = "HCPCS,{code},Short descriptor {n},Long descriptor {n} " + "word " * words + ",,0,active\n"
    letters = "ABCEGHJKLMNPQRSTV"
    with tempfile.TemporaryDirectory() as folder:
        upload = TemporaryUploadedFile("codes.csv", "text/csv", 0, "utf-8", folder)
        upload.write(header)
        for n in range(rows):
            upload.write(line.format(code=f"{letters[n // 10000 % len(letters)]}{n % 10000:04d}", n=n).encode())
        upload.size = upload.tell()
        started = time.perf_counter()
        check_upload(upload, format_class=base_formats.CSV, resource=BillingCodeResource())
        checked = time.perf_counter() - started
        admin = BillingCodeAdmin(BillingCode, site)
        # What the admin does next (GuardedImportExportMixin.write_to_tmp_storage, then the library).
        csv_format = admin.get_import_formats()[0](encoding=admin.from_encoding)
        stored = admin.write_to_tmp_storage(upload, csv_format)
        upload.close()
        dataset = csv_format.create_dataset(stored.read())
        stored.remove()
    started = time.perf_counter()
    result = BillingCodeResource().import_data(dataset, dry_run=True, rollback_on_validation_errors=True)
    previewed = time.perf_counter() - started
    return {
        "rows": dataset.height,
        "size_mb": round(upload.size / 1024 / 1024, 1),
        "check_seconds": checked,
        "preview_seconds": previewed,
        "preview_ms_per_row": round(previewed * 1000 / dataset.height, 2),
        "preview_new": result.totals["new"],
        "preview_invalid": len(result.invalid_rows) + len(result.row_errors()),
    }


LOOKUP_TERMS = ("I25.1", "mitral", "chronic kidney disease", "disease")
PICKER = {"app_label": "payers", "model_name": "coveragecriterion", "field_name": "diagnosis_codes"}


def median_ms(call, runs: int = 7) -> float:
    call()  # warm
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        call()
        times.append(time.perf_counter() - started)
    return round(statistics.median(times) * 1000, 1)


def diagnosis_lookups() -> dict:
    """The diagnosis picker (the admin's autocomplete) on the full release: the median of 7 calls
    per term, in-process with a logged-in superuser, beside the floor: the picker's two queries
    (the count behind "more results", then the first page) as raw SQL through the cursor."""
    from django.contrib.auth.models import User
    from django.db import connection, transaction
    from django.test import Client

    from codes.models import DiagnosisCode
    from codes.selectors import search_diagnosis_codes

    terms = {}
    with transaction.atomic():
        client = Client()
        client.force_login(User.objects.create_superuser("bench-lookups", "bench@policyhub.invalid", None))
        for term in LOOKUP_TERMS:
            matches = search_diagnosis_codes(DiagnosisCode.objects.all(), term)
            page = matches.order_by("code").values("pk", "code", "description")[:20]
            # The SQL Django wrote for the search, with its parameters: no user input.
            statements = [
                ("SELECT COUNT(*) FROM ({}) AS matches", *matches.values("pk").query.sql_with_params()),
                ("{}", *page.query.sql_with_params()),
            ]

            def floor(statements=statements):
                with connection.cursor() as cursor:
                    for shape, sql, params in statements:
                        cursor.execute(shape.format(sql), params)
                        cursor.fetchall()

            def picker(term=term):
                response = client.get("/admin/autocomplete/", {**PICKER, "term": term})
                assert response.status_code == 200, response.status_code

            terms[term] = {"ms": median_ms(picker), "floor_ms": median_ms(floor), "matches": matches.count()}
        transaction.set_rollback(True)
    return {"rows": DiagnosisCode.objects.count(), "terms": terms}


STEPS = {
    "migrate": migrate,
    "icd": import_icd,
    "icd-ungated": import_icd_ungated,
    "hcpcs": import_hcpcs,
    "rvu": import_rvu,
    "copy": copy_icd,
    "upload": admin_upload,
    "lookups": diagnosis_lookups,
}


def main(argv: list[str]) -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "policyhub.settings")
    django.setup()
    step, args = argv[0], argv[1:]
    started, cpu = time.perf_counter(), time.process_time()
    result = STEPS[step](*args)
    result.setdefault("seconds", time.perf_counter() - started)
    result.setdefault("cpu_seconds", time.process_time() - cpu)
    result.update(step=step, peak_rss_mb=round(peak_rss_mb(), 1))
    print(json.dumps(result))


if __name__ == "__main__":
    main(sys.argv[1:])
