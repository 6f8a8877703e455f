"""`make bench-load`: a bounded load against gunicorn (`make serve`'s configuration) on 127.0.0.1.

Starts the server on a free port against DATABASE_URL (default: the `make run` SQLite file, with the
demo data), gives a Viewer user a token, then runs N client threads, each holding one keep-alive
connection, for a fixed time over a mix of API and page requests. Prints requests/s, p50, p99 and
errors (any status other than 200), then stops the server.

python -m bench.load [--connections 32] [--seconds 30] [--releases ../shared/data]

With --releases, the real code sets are imported first (ICD-10-CM, bundled, and the HCPCS file of
that folder), so lists and searches run over some 100,000 codes rather than the demo's handful.
"""

import argparse
import http.client
import os
import socket
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
MIX = [
    "/api/v1/codes/93590/",
    "/api/v1/codes/",
    "/api/v1/coverage-criteria/?payer=medicare",
    "/api/v1/payers/",
    "/api/v1/gaps/",
    "/health/ready",
]
ISSUE_VIEWER_KEY = """
from django.contrib.auth import get_user_model
from policyhub.roles import VIEWER, assign_role
from policyhub.models import ApiToken
user, _ = get_user_model().objects.get_or_create(username="bench-load")
assign_role(user=user, role=VIEWER)
print(ApiToken.objects.issue(user=user, name="bench-load")[1])
"""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def manage(env: dict, *args: str, stdin: str | None = None) -> str:
    done = subprocess.run(  # noqa: S603 - our own manage.py
        [sys.executable, "manage.py", *args], cwd=ROOT, env=env, input=stdin, capture_output=True, text=True
    )
    if done.returncode:
        sys.exit(f"manage.py {' '.join(args)} failed:\n{done.stderr[-2000:]}")
    return done.stdout


def wait_ready(port: int, server: subprocess.Popen, seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if server.poll() is not None:
            sys.exit("gunicorn exited before it was ready")
        try:
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
            connection.request("GET", "/health/ready")
            if connection.getresponse().status == 200:
                return
        except OSError:
            pass
        time.sleep(0.3)
    sys.exit("gunicorn was not ready in time")


def client(port: int, token: str, until: float, offset: int, timings: list, errors: list) -> None:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    headers = {"Authorization": f"Token {token}", "Host": "127.0.0.1"}
    i = offset
    while time.monotonic() < until:
        path = MIX[i % len(MIX)]
        i += 1
        started = time.perf_counter()
        try:
            connection.request("GET", path, headers=headers)
            response = connection.getresponse()
            response.read()
            status = response.status
        except (OSError, http.client.HTTPException) as exc:
            errors.append(f"{path}: {type(exc).__name__}")
            connection.close()
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
            continue
        timings.append(time.perf_counter() - started)
        if status != 200:
            errors.append(f"{path}: {status}")
    connection.close()


def main(argv: list[str]) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.load", description=__doc__)
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--seconds", type=float, default=30)
    parser.add_argument("--releases", type=Path, help="Folder of the real CMS files to import first.")
    args = parser.parse_args(argv)

    port = free_port()
    env = {
        **os.environ,
        "DJANGO_ENV": os.environ.get("DJANGO_ENV", "development"),
        "DEBUG": "false",
        "GUNICORN_BIND": f"127.0.0.1:{port}",
        # The load comes from one token; its hourly budget must not be what is measured.
        "API_TOKEN_THROTTLE_RATE": "100000000/hour",
        "LOG_LEVEL": "WARNING",
    }
    manage(env, "migrate", "--no-input")
    manage(env, "load_demo")
    if args.releases:
        manage(env, "import_icd10cm")
        manage(env, "import_hcpcs", str(args.releases / "hcpcs_2026_jan.csv"))
    token = manage(env, "shell", stdin=ISSUE_VIEWER_KEY).strip().splitlines()[-1]
    server = subprocess.Popen(  # noqa: S603
        [sys.executable, "-m", "gunicorn", "-c", "gunicorn.conf.py"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        wait_ready(port, server)
        timings: list[float] = []
        errors: list[str] = []
        until = time.monotonic() + args.seconds
        threads = [
            threading.Thread(target=client, args=(port, token, until, n, timings, errors))
            for n in range(args.connections)
        ]
        started = time.monotonic()
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        elapsed = time.monotonic() - started
    finally:
        server.terminate()
        server.wait(timeout=30)

    timings.sort()
    p99 = timings[min(len(timings) - 1, int(len(timings) * 0.99))] if timings else 0
    data = "demo data and real releases" if args.releases else "demo data"
    print(f"{args.connections} connections for {args.seconds:.0f} s against gunicorn ({len(MIX)} URLs in turn, {data})")
    print(f"  requests   {len(timings)}")
    print(f"  req/s      {len(timings) / elapsed:.1f}")
    print(f"  p50        {statistics.median(timings) * 1000 if timings else 0:.0f} ms")
    print(f"  p99        {p99 * 1000:.0f} ms")
    print(f"  errors     {len(errors)}" + (f" (first: {errors[0]})" if errors else ""))
    if errors:
        sys.exit(1)


if __name__ == "__main__":
    main(sys.argv[1:])
