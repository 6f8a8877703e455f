"""Orchestrates the benchmark: scratch databases, one process per step, a printed table.

python -m bench [--databases sqlite,postgresql] [--postgres-url URL] [--shared-data DIR]
"""

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

import psycopg

ROOT = Path(__file__).resolve().parent.parent
SHARED_DATA = ROOT.parent / "shared" / "data"
DEFAULT_POSTGRES = "postgres://postgres@127.0.0.1:5432/policyhub_bench"
MEMORY_BUDGET_MB = 300
COPY_RATIO_GOAL = 3


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


# What a web worker allows one request (gunicorn.conf.py): the admin preview must fit in it.
GUNICORN_TIMEOUT = int(os.environ.get("GUNICORN_TIMEOUT", "30"))


def run_step(database_url: str, step: str, *args: str) -> dict:
    env = {**os.environ, "DATABASE_URL": database_url, "DJANGO_ENV": "development"}
    # The command is this interpreter running our own step module, never user input.
    done = subprocess.run(  # noqa: S603
        [sys.executable, "-m", "bench.steps", step, *args], cwd=ROOT, env=env, capture_output=True, text=True
    )
    if done.returncode:
        sys.exit(f"bench step {step} failed:\n{done.stderr[-3000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def recreate_postgres(url: str, *, drop_only: bool = False) -> None:
    base, name = url.rsplit("/", 1)
    with psycopg.connect(f"{base}/postgres", autocommit=True) as connection:
        connection.execute(f'DROP DATABASE IF EXISTS "{name}"')
        if not drop_only:
            connection.execute(f'CREATE DATABASE "{name}"')


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
            f"{upload['preview_invalid']} refused (worker timeout {GUNICORN_TIMEOUT} s)"
        )
    if name == "postgresql":
        results["copy"] = run_step(url, "copy")
        results["copy"].update(verdict_lines(results["icd"]["seconds"], results["copy"]))
    return results


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


if __name__ == "__main__":
    main(sys.argv[1:])
