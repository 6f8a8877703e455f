"""Orchestrates the benchmark: scratch databases, one process per step, a printed table.

python -m bench [--databases sqlite,postgresql] [--postgres-url URL] [--shared-data DIR]

Last, the import gates' own cost: the first ICD-10-CM load with and without them, interleaved.
"""

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
from contextlib import contextmanager
from pathlib import Path

import psycopg

ROOT = Path(__file__).resolve().parent.parent
SHARED_DATA = ROOT.parent / "shared" / "data"
DEFAULT_POSTGRES = "postgres://postgres@127.0.0.1:5432/policyhub_bench"
MEMORY_BUDGET_MB = 300
COPY_RATIO_GOAL = 3
GATE_ROUNDS = 3
GATE_COST_GOAL = 0.10


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument("--databases", default="sqlite,postgresql", help="Comma-separated: sqlite, postgresql.")
    parser.add_argument("--postgres-url", default=os.environ.get("BENCH_POSTGRES_URL", DEFAULT_POSTGRES))
    parser.add_argument("--shared-data", type=Path, default=SHARED_DATA, help="Folder of the real CMS files.")
    args = parser.parse_args(argv)
    args.databases = [name.strip() for name in args.databases.split(",") if name.strip()]
    unknown = set(args.databases) - {"sqlite", "postgresql"}
    if unknown:
        parser.error(f"--databases: unknown {', '.join(sorted(unknown))}; use sqlite and/or postgresql")
    return args


# What a curator (and a proxy in front of the server) waits for one request: the admin preview
# must fit in it. Not gunicorn's `timeout`, which never stops a request in a threaded worker.
REQUEST_BUDGET_SECONDS = 30


def run_step(database_url: str, step: str, *args: str) -> dict:
    env = {**os.environ, "DATABASE_URL": database_url, "DJANGO_ENV": "development"}
    # The command is this interpreter running our own step module, never user input.
    done = subprocess.run(  # noqa: S603
        [sys.executable, "-m", "bench.steps", step, *args], cwd=ROOT, env=env, capture_output=True, text=True
    )
    if done.returncode:
        sys.exit(f"bench step {step} failed:\n{done.stderr[-3000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def recreate_postgres(url: str, *, drop_only: bool = False, template: str | None = None) -> None:
    base, name = url.rsplit("/", 1)
    with psycopg.connect(f"{base}/postgres", autocommit=True) as connection:
        connection.execute(f'DROP DATABASE IF EXISTS "{name}"')
        if not drop_only:
            connection.execute(f'CREATE DATABASE "{name}"' + (f' TEMPLATE "{template}"' if template else ""))


def line(label: str, result: dict) -> str:
    rate = result["rows"] / result["seconds"] if result["seconds"] and result["rows"] else 0
    wrote = {True: "wrote rows", False: "wrote nothing"}.get(result.get("wrote"), "")
    return (
        f"  {label:<38} {result['rows']:>8} rows {result['seconds']:>8.2f} s {rate:>10,.0f} rows/s "
        f"peak RSS {result['peak_rss_mb']:>6.1f} MB  {wrote}"
    )


def bench_database(name: str, url: str, shared: Path) -> dict:
    print(f"\n{name}: {url}")
    run_step(url, "migrate")
    results = {"icd": run_step(url, "icd")}
    print(line("ICD-10-CM full release (bundled)", results["icd"]))
    results["icd_again"] = run_step(url, "icd")
    print(line("ICD-10-CM again, unchanged", results["icd_again"]))
    results["lookups"] = run_step(url, "lookups")
    print(f"  Diagnosis picker on {results['lookups']['rows']:,} codes (median of 7; goal well under 300 ms):")
    for term, figures in results["lookups"]["terms"].items():
        ratio = figures["ms"] / figures["floor_ms"] if figures["floor_ms"] else 0
        print(
            f"    {term!r:<26} {figures['ms']:>7.1f} ms  floor {figures['floor_ms']:>6.1f} ms ({ratio:.1f}x)  "
            f"{figures['matches']:>6,} matches"
        )
    hcpcs = shared / "cms-hcpcs-2019" / "HCPC2019_CONTR_ANWEB.txt"
    rvu = shared / "pfs_rvu_2024_jul.csv"
    if hcpcs.exists():
        results["hcpcs"] = run_step(url, "hcpcs", str(hcpcs))
        print(line("HCPCS 2019 (fixed width)", results["hcpcs"]))
    else:
        print(f"  HCPCS 2019: {hcpcs} not found, skipped")
    if rvu.exists():
        results["rvu"] = run_step(url, "rvu", str(rvu))
        print(line("Medicare PFS RVUs July 2024", results["rvu"]))
    else:
        print(f"  RVUs: {rvu} not found, skipped")
    if name == "sqlite":
        results["upload"] = run_step(url, "upload")
        upload = results["upload"]
        print(line(f"Admin CSV upload at the limits ({upload['size_mb']} MB)", upload))
        print(
            f"    checks {upload['check_seconds']:.2f} s; preview (dry run) {upload['preview_seconds']:.1f} s, "
            f"{upload['preview_ms_per_row']} ms a row, {upload['preview_new']:,} new, "
            f"{upload['preview_invalid']} refused (request budget {REQUEST_BUDGET_SECONDS} s)"
        )
    if name == "postgresql":
        results["copy"] = run_step(url, "copy")
        results["copy"].update(verdict_lines(results["icd"]["seconds"], results["copy"]))
    return results


def gates_ab(name: str, fresh_database) -> dict:
    """The first full ICD-10-CM load with the import gates and without them (issue 12: the gates may
    cost legitimate imports at most 10 %), on a fresh migrated database each time, in interleaved rounds:
    the machine's drift then weighs on both sides alike."""
    times = {"icd": [], "icd-ungated": []}
    for _ in range(GATE_ROUNDS):
        for step, runs in times.items():
            with fresh_database() as url:
                runs.append(run_step(url, step))
    medians = {
        step: {key: statistics.median(run[key] for run in runs) for key in ("seconds", "cpu_seconds")}
        for step, runs in times.items()
    }
    gated, ungated = medians["icd"], medians["icd-ungated"]
    cost = {key: gated[key] / ungated[key] - 1 for key in gated}
    verdict = "met" if max(cost.values()) <= GATE_COST_GOAL else "NOT met"
    print(
        f"  {name}, first ICD-10-CM load, medians of {GATE_ROUNDS} interleaved rounds: with the gates "
        f"{gated['seconds']:.2f} s ({gated['cpu_seconds']:.2f} s CPU), without {ungated['seconds']:.2f} s "
        f"({ungated['cpu_seconds']:.2f} s CPU): the gates cost {cost['seconds']:+.1%} wall, {cost['cpu_seconds']:+.1%} "
        f"CPU (goal <= {GATE_COST_GOAL:.0%}: {verdict})"
    )
    return {"medians": medians, "cost": cost}


@contextmanager
def fresh_sqlite(template: Path):
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "run.sqlite3"
        shutil.copyfile(template, path)
        yield f"sqlite:///{path}"


@contextmanager
def fresh_postgres(url: str, template: str):
    recreate_postgres(url, template=template)
    try:
        yield url
    finally:
        recreate_postgres(url, drop_only=True)


def bench_gates(databases: list[str], postgres_url: str) -> None:
    print("\nThe import gates' own cost (issue 12):")
    if "sqlite" in databases:
        with tempfile.TemporaryDirectory() as folder:
            template = Path(folder) / "template.sqlite3"
            run_step(f"sqlite:///{template}", "migrate")
            gates_ab("sqlite", lambda: fresh_sqlite(template))
    if "postgresql" in databases:
        template_url = f"{postgres_url}_template"
        recreate_postgres(template_url)
        try:
            run_step(template_url, "migrate")
            template = template_url.rsplit("/", 1)[1]
            gates_ab("postgresql", lambda: fresh_postgres(f"{postgres_url}_ab", template))
        finally:
            recreate_postgres(template_url, drop_only=True)


def verdict_lines(import_seconds: float, copy: dict) -> dict:
    """Print the COPY floors and the import's ratio to each; the goal is judged on the last one."""
    print(line("COPY, bare temporary table", copy))
    print(line("COPY, table shaped like the real one", {**copy, "seconds": copy["shaped_seconds"]}))
    print(f"  reading the release (XML) alone: {copy['read_seconds']:.2f} s")
    floors = {
        "COPY into the bare table": copy["seconds"],
        "reading + COPY into the bare table": copy["read_seconds"] + copy["seconds"],
        "reading + COPY into the shaped table": copy["read_seconds"] + copy["shaped_seconds"],
    }
    ratios = {}
    for label, seconds in floors.items():
        ratios[label] = import_seconds / seconds
        print(f"  ICD import / {label} ({seconds:.2f} s) = {ratios[label]:.1f}x")
    ratio = ratios["reading + COPY into the shaped table"]
    verdict = "met" if ratio <= COPY_RATIO_GOAL else "NOT met"
    print(f"  Goal, within {COPY_RATIO_GOAL}x of reading + COPY into the shaped table: {verdict}")
    return {"ratios": ratios}


def main(argv: list[str]) -> None:
    args = parse_args(argv)
    print("PolicyHub import benchmark (peak RSS: getrusage ru_maxrss of each step's own process)")
    all_results = {}
    for name in args.databases:
        if name == "sqlite":
            with tempfile.TemporaryDirectory() as folder:
                all_results[name] = bench_database(name, f"sqlite:///{folder}/bench.sqlite3", args.shared_data)
        else:
            recreate_postgres(args.postgres_url)
            try:
                all_results[name] = bench_database(name, args.postgres_url, args.shared_data)
            finally:
                recreate_postgres(args.postgres_url, drop_only=True)
    peaks = [step["peak_rss_mb"] for results in all_results.values() for step in results.values()]
    unchanged_wrote = [name for name, results in all_results.items() if results["icd_again"].get("wrote")]
    print(f"\nHighest peak RSS: {max(peaks):.1f} MB (budget {MEMORY_BUDGET_MB} MB)")
    verdict = "no, on " + ", ".join(unchanged_wrote) if unchanged_wrote else "yes"
    print(f"Unchanged re-import wrote nothing: {verdict}")
    bench_gates(args.databases, args.postgres_url)


if __name__ == "__main__":
    main(sys.argv[1:])
