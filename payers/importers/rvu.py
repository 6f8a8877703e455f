"""The Medicare Physician Fee Schedule national RVU file (PPRRVU), as a CSV with a header row.

Each code's RVUs become national benchmarks (no payer) for the file's period: work and malpractice
RVUs for any setting, practice-expense and total RVUs per setting, and the national payment amount
(total RVU x conversion factor, before geographic adjustment). A setting the file marks "NA" (not
paid there) gets no benchmark. Global days and the surgery indicators are kept on the code; global
days ZZZ marks an add-on code.

Codes the catalogue lacks are added: HCPCS Level II with the file's description, CPT with their
number only, since CPT descriptors are AMA copyright and curators enter them.
"""

import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path

from codes.choices import CodeSystem, ReleaseKind
from codes.importers.bulk_sync import BulkSync
from codes.importers.errors import ImportFileError
from codes.importers.gates import Overrides
from codes.importers.progress import Progress
from codes.importers.releases import BATCH_SIZE, ImportRun, release_import
from codes.importers.sources import open_checked, read_csv, sha256_of
from codes.importers.values import check_choice, parse_date, parse_decimal
from codes.models import BillingCode
from payers.choices import BenchmarkMetric, BenchmarkSetting
from payers.models import Benchmark
from policyhub.choices import WorkflowState

REQUIRED = (
    "hcpcs",
    "modifier",
    "work_rvu",
    "non_fac_pe_rvu",
    "facility_pe_rvu",
    "mp_rvu",
    "non_facility_total",
    "facility_total",
    "glob_days",
    "mult_proc",
    "bilat_surg",
    "asst_surg",
    "co_surg",
    "team_surg",
    "conv_factor",
    "effective_start",
    "effective_end",
)
CPT = re.compile(r"[0-9]{4}[0-9FTU]")
HCPCS = re.compile(r"[A-Z][0-9]{4}")
GLOBAL_DAYS = {"000", "010", "090", "XXX", "YYY", "ZZZ", "MMM"}
ADD_ON_GLOBAL_DAYS = "ZZZ"
NOT_APPLICABLE = "NA"
DATE_FORMATS = ("YYYY-MM-DD", "YYYYMMDD", "MM/DD/YYYY")
CENTS = Decimal("0.01")
INDICATORS = ("mult_proc", "bilat_surg", "asst_surg", "co_surg", "team_surg")
CODE_FIELDS = ("global_days", *INDICATORS)


@dataclass
class RvuRow:
    line: int
    code: str
    system: str
    description: str
    global_days: str
    indicators: dict[str, str]
    values: dict[tuple[str, str], Decimal]
    conversion_factor: Decimal | None
    period_start: date
    period_end: date | None


def period_label(start: date) -> str:
    return f"{start.year} Q{(start.month - 1) // 3 + 1}"


def read_rvu_rows(path: Path, *, progress: Progress, run: ImportRun) -> Iterator[RvuRow]:
    for line, row in read_csv(path, required=REQUIRED, kind="PFS RVU", progress=progress):
        code = row["hcpcs"].upper()
        if CPT.fullmatch(code):
            system = CodeSystem.CPT
        elif HCPCS.fullmatch(code):
            system = CodeSystem.HCPCS
        else:
            raise ImportFileError(f"'{code}' is neither a CPT nor a HCPCS Level II code", line=line, field="hcpcs")
        if row["modifier"]:
            # The benchmark has no modifier: component rows (26, TC, 53) would overwrite the global row.
            run.reject(f"rows for a code with modifier {row['modifier']} (benchmarks hold the global service only)")
            continue

        def number(name: str, row=row, line=line) -> Decimal | None:
            return parse_decimal(row[name], line=line, field=name)

        start = parse_date(row["effective_start"], formats=DATE_FORMATS, line=line, field="effective_start")
        end = parse_date(row["effective_end"], formats=DATE_FORMATS, line=line, field="effective_end")
        if start is None:
            raise ImportFileError("the period has no start date", line=line, field="effective_start")
        if end and end < start:
            raise ImportFileError(
                f"the period ends ({end}) before it starts ({start})", line=line, field="effective_end"
            )
        non_facility_paid = row.get("non_fac_indicator", "").upper() != NOT_APPLICABLE
        facility_paid = row.get("facility_indicator", "").upper() != NOT_APPLICABLE
        values = {
            (BenchmarkMetric.WORK_RVU, BenchmarkSetting.ANY): number("work_rvu"),
            (BenchmarkMetric.MP_RVU, BenchmarkSetting.ANY): number("mp_rvu"),
        }
        if facility_paid:
            values[BenchmarkMetric.PE_RVU, BenchmarkSetting.FACILITY] = number("facility_pe_rvu")
            values[BenchmarkMetric.TOTAL_RVU, BenchmarkSetting.FACILITY] = number("facility_total")
        if non_facility_paid:
            values[BenchmarkMetric.PE_RVU, BenchmarkSetting.NON_FACILITY] = number("non_fac_pe_rvu")
            values[BenchmarkMetric.TOTAL_RVU, BenchmarkSetting.NON_FACILITY] = number("non_facility_total")
        conversion_factor = number("conv_factor")
        if conversion_factor:
            for setting in (BenchmarkSetting.FACILITY, BenchmarkSetting.NON_FACILITY):
                total = values.get((BenchmarkMetric.TOTAL_RVU, setting))
                if total is not None:
                    values[BenchmarkMetric.PAYMENT_AMOUNT, setting] = (total * conversion_factor).quantize(
                        CENTS, rounding=ROUND_HALF_UP
                    )
        global_days = check_choice(row["glob_days"].upper(), GLOBAL_DAYS, line=line, field="glob_days")
        indicators = {}
        for name in INDICATORS:
            value = row[name]
            if len(value) > 1:
                raise ImportFileError(f"'{value}' is not a one-character indicator", line=line, field=name)
            indicators[name] = value
        yield RvuRow(
            line=line,
            code=code,
            system=system,
            description=row.get("level_ii_description", ""),
            global_days=global_days,
            indicators=indicators,
            values={key: value for key, value in values.items() if value is not None},
            conversion_factor=conversion_factor,
            period_start=start,
            period_end=end,
        )


UNITS = {
    BenchmarkMetric.WORK_RVU: "RVU",
    BenchmarkMetric.PE_RVU: "RVU",
    BenchmarkMetric.MP_RVU: "RVU",
    BenchmarkMetric.TOTAL_RVU: "RVU",
    BenchmarkMetric.PAYMENT_AMOUNT: "USD",
}


def import_rvu(
    path, *, user=None, dry_run: bool = False, overrides: Overrides | None = None, progress_stream=None
) -> ImportRun:
    """Load a PFS RVU file as national benchmarks and fee-schedule flags on the codes."""
    path = open_checked(path)
    progress = Progress(path.stat().st_size, label="PFS RVU", stream=progress_stream)
    first = _first_period(path)
    source = f"CMS PFS PPRRVU {first:%B %Y}"
    with release_import(
        kind=ReleaseKind.RVU,
        name=f"Medicare PFS RVU {period_label(first)}",
        effective_date=first,
        source_file=path.name,
        checksum=sha256_of(path),
        user=user,
        dry_run=dry_run,
        overrides=overrides,
    ) as run:
        codes = {
            system: BulkSync(
                run,
                BillingCode,
                key=("code",),
                fields=(*CODE_FIELDS, "is_add_on"),
                label="billing codes",
                scope={"system": system},
                defaults={"system": system},
                # The code's release names its code-set release (HCPCS), not the fee schedule.
                stamp_release=False,
            )
            for system in (CodeSystem.CPT, CodeSystem.HCPCS)
        }
        pending: list[RvuRow] = []
        benchmarks = BulkSync(
            run,
            Benchmark,
            key=("code_id", "setting", "metric", "period"),
            fields=("value", "unit", "period_start", "period_end", "source"),
            label="benchmarks",
            # The fee schedule speaks for the national figures readers see, not a curator's pending
            # revision of one; what it loads is published reference data (outside review), with its release.
            scope={"payer__isnull": True, "revision_of__isnull": True},
            defaults={"state": WorkflowState.PUBLISHED},
        )

        def write_benchmarks():
            for sync in codes.values():
                sync.flush()
            ids = dict(BillingCode.objects.filter(code__in={row.code for row in pending}).values_list("code", "id"))
            for row in pending:
                for (metric, setting), value in row.values.items():
                    benchmarks.feed(
                        {
                            "code_id": ids[row.code],
                            "setting": setting,
                            "metric": metric,
                            "period": period_label(row.period_start),
                            "value": value,
                            "unit": UNITS[metric],
                            "period_start": row.period_start,
                            "period_end": row.period_end,
                            "source": source,
                        },
                        line=row.line,
                    )
            pending.clear()

        for row in read_rvu_rows(path, progress=progress, run=run):
            record = {"code": row.code, "global_days": row.global_days, **row.indicators}
            if row.global_days == ADD_ON_GLOBAL_DAYS:
                # Only ever set: an add-on flag a curator set stays when the fee schedule says otherwise.
                record["is_add_on"] = True
            short = row.description if row.system == CodeSystem.HCPCS else ""
            codes[row.system].feed(record, line=row.line, create_values={"short_descriptor": short})
            pending.append(row)
            if len(pending) >= BATCH_SIZE:
                write_benchmarks()
        write_benchmarks()
        benchmarks.finish()
        progress.close()
    return run


def _first_period(path: Path) -> date:
    for line, row in read_csv(path, required=REQUIRED, kind="PFS RVU"):
        start = parse_date(row["effective_start"], formats=DATE_FORMATS, line=line, field="effective_start")
        if start:
            return start
    raise ImportFileError("no row names its period (effective_start)", path=path)
