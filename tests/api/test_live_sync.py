"""Against real servers: the example sync client keeps an exact copy while data changes under it,
and the per-token rate holds across processes."""

import json
import os
import subprocess
import sys

import pytest

from tests.api.live import ROOT, Server, environment, issue_token, manage, scratch_database
from tests.imports.conftest import FIXTURES

RESOURCES = ["codes", "diagnosis-codes", "payers", "coverage-criteria", "gaps"]
# A Redis database of its own per test database: CI runs the SQLite and PostgreSQL suites side by side.
REDIS_URL = f"redis://127.0.0.1:6379/{4 if os.environ.get('DATABASE_URL', '').startswith('postgres') else 3}"


@pytest.fixture(scope="module")
def live_db(tmp_path_factory) -> str:
    url = scratch_database(tmp_path_factory.mktemp("live"), "live")
    manage(url, "load_demo")
    manage(url, "import_icd10cm", str(FIXTURES / "icd10cm_order_2030.txt"))
    return url


def _client(base: str, token: str, state, *extra) -> subprocess.CompletedProcess:
    command = [sys.executable, "examples/sync_client.py", "--base", base, "--token", token, "--state", str(state)]
    result = subprocess.run(
        [*command, *extra, *RESOURCES], cwd=ROOT, capture_output=True, text=True, timeout=600, check=False
    )
    assert result.returncode == 0, result.stderr
    return result


def test_example_client_copy_equals_the_published_data(live_db, tmp_path):
    """While curators create, edit, publish, retire and delete rows and an import commits seconds
    after it wrote, the example client copies and then follows the changes; once things settle,
    its copy equals a fresh walk of every collection exactly."""
    env = environment(live_db)
    server = Server(env, workers=2)
    try:
        token = issue_token(live_db)
        writers = subprocess.Popen(
            [sys.executable, "-m", "tests.api.live_writers", str(FIXTURES / "icd10cm_order_2031.txt"), "24"],
            cwd=ROOT,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        state = tmp_path / "state.json"
        runs = 0
        while writers.poll() is None or runs < 2:
            _client(server.base, token, state, "--page-size", "3")
            runs += 1
        assert writers.returncode == 0, writers.stderr.read()
        _client(server.base, token, state)
        copy = json.loads(state.read_text())

        fresh = tmp_path / "fresh.json"
        _client(server.base, token, fresh)
        published = json.loads(fresh.read_text())
    finally:
        server.stop()
    assert runs >= 3  # the client ran while the writers did
    for resource in RESOURCES:
        assert copy["copies"][resource] == published["copies"][resource], resource
    codes = copy["copies"]["diagnosis-codes"]
    assert codes["QA00"]["description"]  # added by the late-committing import
    assert codes["Z9989"]["status"] == "terminated"


@pytest.mark.parametrize("cache", ["database", "redis"])
def test_token_rate_holds_across_two_server_processes(live_db, cache):
    """Six requests a minute per token, asked alternately of two servers: the seventh is refused
    whichever server gets it, because both count in the shared cache."""
    extra = {"API_TOKEN_THROTTLE_RATE": "6/minute"}
    if cache == "redis":
        redis = pytest.importorskip("redis")
        try:
            redis.Redis.from_url(REDIS_URL).flushdb()
        except redis.ConnectionError:
            pytest.skip("no Redis at 127.0.0.1:6379")
        extra["CACHE_URL"] = REDIS_URL
    env = environment(live_db, **extra)
    token = issue_token(live_db, username=f"throttled-{cache}")
    servers = [Server(env), Server(env)]
    try:
        statuses = [servers[i % 2].get("/api/v1/payers/", token) for i in range(9)]
    finally:
        for server in servers:
            server.stop()
    assert statuses[:6] == [200] * 6
    assert statuses[6:] == [429] * 3
