"""`make bench-api`: PolicyHub's reads on the 1k and 1M data sets (`make bench-scale`) against floors.

python -m bench.reads --small URL --large URL [--rounds 5] [--only TEXT] [--clients 16] [--seconds 10]

Each data set is served by its own gunicorn on 127.0.0.1: production's `gunicorn.conf.py` (threaded
workers, JSON access log) with 2 workers whatever the CPU count, and `bench.reads.settings`
(PolicyHub plus the raw-SQL floors of `bench.reads.floors` and a query counter). Timed requests go
through `bench.reads.client` (the standard library's HTTP client). Every round sends each
request to the 1k server, the 1M server and, where it has one, the floor on the 1M server, one
after the other; the table shows the medians, a 304's ratio to the full answer of its path, and
how many rows each API page held at 1k and at 1M. Then 16 clients at once ask for criteria page 1
and its floor, and 4 clients for criteria page 1, its 304 and /health/live while the 1M server's
CPU time is read (`bench.reads.cpu`). The servers are stopped at the end, whatever happens.
"""

import argparse
import json
import os
import statistics
import subprocess
import sys
import threading
import time
from contextlib import ExitStack, contextmanager
from pathlib import Path
from urllib.parse import urlsplit

import requests as http

from bench.reads import cpu
from bench.reads.client import Answer, Client
from bench.reads.requests import CRITERIA, CURSOR_PAGES, REQUESTS, Facts, read_facts

ROOT = Path(__file__).resolve().parent.parent.parent
USER = PASSWORD = "bench"  # noqa: S105 - the scratch data set's own login, made by bench.scale
GOALS = {
    "api": "1M/1k <= 1.5 and <= 3x floor",
    "detail": "<= 3x floor",
    "304": "<= 50 ms and <= 0.3x the full answer",
    "pages": "1M/1k <= 1.5",
    "admin": "1M/1k <= 1.5",
}
# Enough clients to keep both workers busy, few enough to leave them the CPU (their own is not counted).
CPU_CLIENTS = 4


def parse_args(argv):
    parser = argparse.ArgumentParser(prog="python -m bench.reads", description=__doc__.split("\n\n")[0])
    parser.add_argument("--small", required=True, help="Database URL of the 1k data set.")
    parser.add_argument("--large", required=True, help="Database URL of the 1M data set.")
    parser.add_argument("--rounds", type=int, default=5, help="Interleaved rounds (medians are printed).")
    parser.add_argument("--only", help="Only requests whose label or path contains one of these (comma-separated).")
    parser.add_argument("--clients", type=int, default=16, help="Concurrent clients of the throughput test.")
    parser.add_argument("--seconds", type=float, default=10, help="Length of each throughput run; 0 skips it.")
    parser.add_argument("--port", type=int, default=8150, help="The 1k server's port; the 1M server's is +1.")
    return parser.parse_args(argv)


@contextmanager
def server(database_url: str, port: int):
    env = {
        **os.environ,
        "DATABASE_URL": database_url,
        "DJANGO_SETTINGS_MODULE": "bench.reads.settings",
        "DJANGO_ENV": "development",
        "DEBUG": "false",
        "LOG_LEVEL": "WARNING",
        # Production's setting (policyhub/settings.py): each worker keeps its database connection.
        # With development's 0, every request (and every floor) would also pay a new connection,
        # some 3 ms that would hide what the code itself costs.
        "DB_CONN_MAX_AGE": os.environ.get("DB_CONN_MAX_AGE", "60"),
    }
    command = [
        str(Path(sys.executable).parent / "gunicorn"),
        "policyhub.wsgi",
        # Named, although gunicorn would find it in the working directory anyway (it always did).
        f"--config={ROOT / 'gunicorn.conf.py'}",
        "--workers=2",
        f"--bind=127.0.0.1:{port}",
        "--timeout=300",
        "--log-level=warning",
    ]
    process = subprocess.Popen(command, cwd=ROOT, env=env)  # noqa: S603 - our own fixed command
    try:
        base = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 120  # workers import Django first: slow on a busy machine
        while True:
            try:
                http.get(f"{base}/accounts/login/", timeout=30)
                break
            except http.RequestException:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.5)
        yield base, process.pid
    finally:
        process.terminate()
        process.wait(timeout=30)


def login(base: str) -> http.Session:
    session = http.Session()
    session.get(f"{base}/admin/login/")
    answer = session.post(
        f"{base}/admin/login/",
        data={
            "username": USER,
            "password": PASSWORD,
            "csrfmiddlewaretoken": session.cookies["csrftoken"],
            "next": "/admin/",
        },
        headers={"Referer": f"{base}/admin/login/"},
        allow_redirects=False,
    )
    if answer.status_code != 302:
        sys.exit(f"Could not log in as {USER!r} at {base}: run `make bench-scale` first.")
    return session


def prepare(session: http.Session, base: str, facts: Facts) -> None:
    facts.etag = session.get(f"{base}{CRITERIA}").headers.get("ETag", "")
    url = f"{base}{CRITERIA}?cursor="
    for _ in range(CURSOR_PAGES):
        following = session.get(url).json().get("next")
        if not following:
            break
        url = following
    facts.cursor_deep = url.removeprefix(base)


def timed(client: Client, url: str, headers=None) -> tuple[float, Answer]:
    started = time.perf_counter()
    answer = client.get(url, headers)
    return (time.perf_counter() - started) * 1000, answer


def rows_in(answer: Answer) -> int | None:
    """How many rows an API list page holds (its `results`); None for anything else."""
    if not answer.headers.get("Content-Type", "").startswith("application/json"):
        return None
    try:
        results = json.loads(answer.body).get("results")
    except (ValueError, AttributeError):
        return None
    return len(results) if isinstance(results, list) else None


def measure(sides, requests, rounds: int) -> dict:
    """{label index: {"small": [ms...], "large": [...], "floor": [...], "status": ..., "queries": ..., "rows": ...}}"""
    results = {
        index: {"small": [], "large": [], "floor": [], "status": {}, "queries": {}, "rows": {}} for index in requests
    }
    for round_number in range(rounds + 1):  # round 0 warms up and is not counted
        for index, request in requests.items():
            for side, (client, base, facts) in sides.items():
                path, floor = request.resolve(facts)
                headers = {"If-None-Match": facts.etag} if request.conditional else None
                ms, answer = timed(client, f"{base}{path}", headers)
                results[index]["status"][side] = answer.status
                results[index]["queries"][side] = answer.headers.get("X-Bench-Queries", "?")
                if round_number:
                    results[index][side].append(ms)
                else:  # counted once, outside the timing
                    results[index]["rows"][side] = rows_in(answer)
                if side == "large" and floor:
                    ms, _answer = timed(client, f"{base}{floor}")
                    if round_number:
                        results[index]["floor"].append(ms)
        print(f"  round {round_number}/{rounds} done", file=sys.stderr, flush=True)
    return results


def median(values):
    return statistics.median(values) if values else None


def print_table(requests, results) -> None:
    """The table; a 304's "vs floor" column holds its ratio to the full answer of the same path
    (the 304 goal), and `reference` rows (the cost of any request) have no goal. "rows" counts an
    API page's results: where they differ between 1k and 1M, so does the work behind the ratio."""
    print(
        "\n| request | 1k ms | 1M ms | 1M / 1k | floor ms | vs floor | queries 1k / 1M | rows 1k / 1M | status |\n"
        "|---|--:|--:|--:|--:|--:|--:|--:|---|"
    )
    full_answers = {
        request.path: median(results[index]["large"]) for index, request in requests.items() if not request.conditional
    }
    for index, request in requests.items():
        row = results[index]
        small, large, floor = median(row["small"]), median(row["large"]), median(row["floor"])
        ratio = f"{large / small:.2f}" if small else "—"
        floor_ms = f"{floor:.1f}" if floor else "—"
        to_floor = f"{large / floor:.1f}x" if floor else "—"
        full = full_answers.get(request.path) if request.conditional else None
        if full:
            to_floor = f"{large / full:.2f}x of the full answer"
        statuses = "/".join(sorted({str(status) for status in row["status"].values()}))
        queries = f"{row['queries'].get('small')} / {row['queries'].get('large')}"
        rows = " / ".join("—" if count is None else str(count) for count in map(row["rows"].get, ("small", "large")))
        print(
            f"| {request.label.strip()} | {small:.1f} | {large:.1f} | {ratio} | {floor_ms} | {to_floor} | "
            f"{queries} | {rows} | {statuses} |"
        )


def load(cookies: dict, base: str, path: str, clients: int, seconds: float, headers=None) -> tuple[int, float, float]:
    """`clients` clients asking for `path` at once for `seconds`: answers, seconds taken, median latency (ms).

    The clients share the logged-in session's cookie (a login per client would time the password
    hash) and start together.
    """
    latencies: list[float] = []
    lock = threading.Lock()
    start = threading.Barrier(clients + 1)

    def client():
        own = Client(base, cookies)
        start.wait()
        while time.perf_counter() < deadline:
            ms, _answer = timed(own, f"{base}{path}", headers)
            with lock:
                latencies.append(ms)

    threads = [threading.Thread(target=client) for _ in range(clients)]
    for thread in threads:
        thread.start()
    deadline = time.perf_counter() + seconds
    started = time.perf_counter()
    start.wait()
    for thread in threads:
        thread.join()
    return len(latencies), time.perf_counter() - started, statistics.median(latencies)


def throughput(cookies: dict, base: str, path: str, clients: int, seconds: float) -> tuple[float, float]:
    """Requests per second and median latency (ms) of `clients` clients asking for `path` at once."""
    answers, taken, latency = load(cookies, base, path, clients, seconds)
    return answers / taken, latency


def server_cpu(cookies: dict, base: str, master: int, database: str, path: str, seconds: float, headers=None):
    """CPU milliseconds per answer of gunicorn and of its database sessions, under steady load
    (`bench.reads.cpu`): what one answer takes from the server's capacity."""
    before = cpu.gunicorn(master), cpu.database_sessions(database)
    answers, _taken, _latency = load(cookies, base, path, CPU_CLIENTS, seconds, headers)
    after = cpu.gunicorn(master), cpu.database_sessions(database)
    app, db = cpu.spent(before[0], after[0]), cpu.spent(before[1], after[1])
    return 1000 * app / answers, 1000 * db / answers


def cpu_line(measured: dict[str, tuple[float, float]], seconds: float) -> str:
    """The server's CPU per answer (`server_cpu`) of criteria page 1, its 304 and /health/live, and
    the 304's share of the full answer's."""
    spent = {label: (app, db, app + db) for label, (app, db) in measured.items()}

    def shown(label: str) -> str:
        app, db, total = spent[label]
        return f"{total:.2f} ms ({app:.2f} + {db:.2f})"

    share = spent["304"][2] / spent["full"][2] if spent["full"][2] else float("nan")
    return (
        f"\nServer CPU per answer at 1M, {CPU_CLIENTS} clients, {seconds:.0f} s each (gunicorn + its database "
        f"sessions): criteria page 1 {shown('full')}; its 304 {shown('304')}, {share:.2f}x of the full answer; "
        f"/health/live {shown('live')}"
    )


def main(argv) -> None:
    args = parse_args(argv)
    wanted = [text for text in (args.only or "").split(",") if text]
    requests = {
        index: request
        for index, request in enumerate(REQUESTS)
        if not wanted or any(text in f"{request.label} {request.path}" for text in wanted)
    }
    with ExitStack() as stack:
        sides, masters = {}, {}
        for side, url, port in (("small", args.small, args.port), ("large", args.large, args.port + 1)):
            facts = read_facts(url)
            base, master = stack.enter_context(server(url, port))
            session = login(base)
            prepare(session, base, facts)
            sides[side] = (Client(base, session.cookies.get_dict()), base, facts)
            masters[side] = master
            print(f"{side}: {url} ({facts.criteria:,} criteria, code {facts.code}) on {base}", file=sys.stderr)
        results = measure(sides, requests, args.rounds)
        print(f"\nPolicyHub reads, medians of {args.rounds} interleaved rounds (gunicorn, 2 threaded workers)")
        print_table(requests, results)
        print("\nGoals: " + "; ".join(f"{group}: {goal}" for group, goal in GOALS.items()))
        if args.seconds:
            client, base, _facts = sides["large"]
            app = throughput(client.cookies, base, CRITERIA, args.clients, args.seconds)
            floor = throughput(client.cookies, base, "/bench/floor/criteria/", args.clients, args.seconds)
            print(
                f"\nThroughput at 1M, {args.clients} clients, {args.seconds:.0f} s each: criteria page 1 "
                f"{app[0]:.1f} req/s (p50 {app[1]:.0f} ms); floor {floor[0]:.1f} req/s (p50 {floor[1]:.0f} ms); "
                f"{100 * app[0] / floor[0]:.0f} % of the floor (goal >= 25 %)"
            )
            if cpu.available():
                database = urlsplit(args.large).path.lstrip("/")
                measured = {
                    label: server_cpu(client.cookies, base, masters["large"], database, path, args.seconds, headers)
                    for label, path, headers in (
                        ("full", CRITERIA, None),
                        ("304", CRITERIA, {"If-None-Match": sides["large"][2].etag}),
                        ("live", "/health/live", None),
                    )
                }
                print(cpu_line(measured, args.seconds))


if __name__ == "__main__":
    main(sys.argv[1:])
