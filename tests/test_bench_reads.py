"""`make bench-api`'s table: the 304 row judged against the full answer of its path, and how many
rows each API page held at 1k and at 1M."""

import os
import subprocess
import sys
import time
from email.message import Message

import pytest

from bench.reads import cpu
from bench.reads.__main__ import cpu_line, print_table, rows_in
from bench.reads.client import Answer
from bench.reads.requests import CRITERIA, REQUESTS, Request


def row(small, large, floor=(), status=200, rows=None):
    return {
        "small": small,
        "large": large,
        "floor": list(floor),
        "status": {"large": status},
        "queries": {},
        "rows": rows or {},
    }


def test_a_304_is_shown_against_the_full_answer_of_its_path(capsys):
    requests = {
        0: Request("page 1", "api", CRITERIA, "/floor/"),
        1: Request("  304", "304", CRITERIA, conditional=True),
        2: Request("  for scale", "reference", "/health/live"),
    }
    results = {
        0: row([9.0, 10.0, 11.0], [7.0, 8.0, 30.0], floor=[4.0], rows={"small": 3, "large": 50}),
        1: row([2.0], [2.0, 2.2, 2.4], status=304),
        2: row([1.0], [1.0]),
    }
    print_table(requests, results)
    lines = {line.split("|")[1].strip(): line for line in capsys.readouterr().out.splitlines() if line.startswith("| ")}
    assert "| 0.28x of the full answer |" in lines["304"]  # 2.2 ms of 8.0 ms (medians)
    assert "| 2.0x |" in lines["page 1"]  # 8.0 ms against its floor of 4.0 ms
    assert "| 3 / 50 |" in lines["page 1"]
    assert "| — / — |" in lines["for scale"]
    assert "| — |" in lines["for scale"]


def test_the_304_row_has_its_full_answer_in_the_table():
    conditional = [request for request in REQUESTS if request.conditional]
    assert conditional
    for request in conditional:
        assert any(other.path == request.path and not other.conditional for other in REQUESTS)


def answer(body: bytes, content_type="application/json") -> Answer:
    headers = Message()
    headers["Content-Type"] = content_type
    return Answer(200, headers, body)


def test_rows_are_an_api_pages_results():
    assert rows_in(answer(b'{"count": 900, "results": [{"id": 1}, {"id": 2}]}')) == 2
    assert rows_in(answer(b'{"code": "93590", "results": "not a list"}')) is None
    assert rows_in(answer(b'{"code": "93590"}')) is None  # a detail
    assert rows_in(answer(b"[1, 2]")) is None
    assert rows_in(answer(b"", content_type="text/html; charset=utf-8")) is None
    assert rows_in(answer(b"")) is None  # a 304 has no body


def test_cpu_spent_counts_growth_new_processes_and_ended_ones_once():
    before = cpu.Snapshot({1: 10.0, 2: 4.0, 3: 7.0}, reaped=100.0)
    # 2 grew by 1 s; 3 ended with 9 s in all (reaped: +9); 4 is new with 2 s; the master grew by 0.5 s.
    after = cpu.Snapshot({1: 10.5, 2: 5.0, 4: 2.0}, reaped=109.0)
    assert cpu.spent(before, after) == pytest.approx(0.5 + 1.0 + 2.0 + (9.0 - 7.0))
    assert cpu.spent(before, before) == 0


def test_a_database_session_is_known_by_its_process_title():
    assert cpu.session_database("postgres: 15/main: postgres ph_scale_1m 127.0.0.1(40112) idle") == "ph_scale_1m"
    assert cpu.session_database("postgres: bench ph_scale_1k 127.0.0.1(40112) SELECT") == "ph_scale_1k"
    assert cpu.session_database("postgres: 15/main: checkpointer") is None
    assert cpu.session_database("postgres: 15/main: background writer") is None
    assert cpu.session_database("/usr/bin/python -m gunicorn") is None


@pytest.mark.skipif(not cpu.available(), reason="reads Linux's /proc")
def test_a_process_and_its_children_are_read_from_proc():
    child = subprocess.Popen([sys.executable, "-c", "sum(range(3_000_000)); import time; time.sleep(30)"])  # noqa: S603
    try:
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            snapshot = cpu.gunicorn(os.getpid())
            if snapshot.own.get(child.pid, 0) > 0:
                break
            time.sleep(0.05)
        assert os.getpid() in snapshot.own and snapshot.own[child.pid] > 0
    finally:
        child.kill()
        child.wait()
    assert child.pid not in cpu.gunicorn(os.getpid()).own
    assert cpu.gunicorn(os.getpid()).reaped >= snapshot.reaped + snapshot.own[child.pid] - 0.02


def test_the_cpu_line_gives_the_304_as_a_share_of_the_full_answer():
    line = cpu_line({"full": (5.0, 1.0), "304": (1.2, 0.3), "live": (0.6, 0.0)}, seconds=8)
    assert "criteria page 1 6.00 ms (5.00 + 1.00)" in line
    assert "its 304 1.50 ms (1.20 + 0.30), 0.25x of the full answer" in line
    assert "/health/live 0.60 ms" in line
