"""`make bench-api`'s table: the 304 row judged against the full answer of its path, and how many
rows each API page held at 1k and at 1M."""

from email.message import Message

from bench.reads.__main__ import print_table, rows_in
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
