"""Speed work must not change an answer: every API list (with its usual filters, pages and
orderings) and every code detail answers on the demo data and on the API tests' `dataset` exactly
as recorded in `answers/<data>.<database>.json` — same rows, same order, same JSON.

Keys, times and change-log positions differ from run to run, so they are normalised before
comparing: a key becomes its order of first appearance per resource, a time "<time>", a position
"<position>". `UPDATE_ANSWERS=1` rewrites the file (only when an answer is meant to change).
"""

import json
import os
import re
from pathlib import Path

import factory
import pytest
from django.db import connection

from payers.demo import load_demo
from tests import factories

ANSWERS = Path(__file__).resolve().parent / "answers"
V1 = "/api/v1"
URLS = [
    f"{V1}/codes/",
    f"{V1}/codes/?page_size=1&page=2",
    f"{V1}/codes/?q=mitral",
    f"{V1}/codes/?coverage_status=covered_with_criteria",
    f"{V1}/codes/?has_open_gaps=true",
    f"{V1}/codes/?ordering=-code",
    f"{V1}/codes/?cursor=",
    f"{V1}/codes/93590/",
    f"{V1}/codes/93592/",
    f"{V1}/codes/A0021/",
    f"{V1}/codes/?payer=medicare&prior_auth=varies",
    f"{V1}/modifiers/",
    f"{V1}/places-of-service/",
    f"{V1}/diagnosis-codes/",
    f"{V1}/diagnosis-codes/?q=I34",
    f"{V1}/payers/",
    f"{V1}/payers/?q=aetna",
    f"{V1}/payer-policies/",
    f"{V1}/payer-policies/?q=LCD",
    f"{V1}/coverage-criteria/",
    f"{V1}/coverage-criteria/?page_size=2&page=2",
    f"{V1}/coverage-criteria/?cursor=",
    f"{V1}/coverage-criteria/?code=93590",
    f"{V1}/coverage-criteria/?q=93590",
    f"{V1}/coverage-criteria/?q=echocardiography",
    f"{V1}/coverage-criteria/?q=aetna",
    f"{V1}/coverage-criteria/?effective_on=2025-06-01",
    f"{V1}/coverage-criteria/?coverage_status=covered_with_criteria&prior_auth=required",
    f"{V1}/coverage-criteria/?payer_kind=mac",
    f"{V1}/coverage-criteria/?diagnosis=I34.0",
    f"{V1}/coverage-criteria/?diagnosis=T82.857A",
    f"{V1}/coverage-criteria/?diagnosis=t82857a",
    f"{V1}/coverage-criteria/?diagnosis=Q99.8",
    f"{V1}/coverage-criteria/?payer=medicare",
    f"{V1}/coverage-criteria/?q=TEE",
    f"{V1}/coverage-criteria/?ordering=-effective_start",
    f"{V1}/documentation-requirements/",
    f"{V1}/documentation-requirements/?page_size=2&page=2",
    f"{V1}/documentation-requirements/?q=93590",
    f"{V1}/documentation-requirements/?kind=imaging",
    f"{V1}/documentation-requirements/?payer=aetna",
    f"{V1}/documentation-requirements/?q=TEE",
    f"{V1}/benchmarks/",
    f"{V1}/benchmarks/?q=93590",
    f"{V1}/gaps/",
    f"{V1}/gaps/?status=open",
    f"{V1}/gaps/?status=open&status=in_progress&category=benchmark",
    f"{V1}/gaps/?q=93592",
    f"{V1}/gaps/?is_open=true&ordering=-priority",
    f"{V1}/changes/?since=2000-01-01T00:00:00Z",
]
TIME = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d")
KEYED = re.compile(r"/api/v1/([a-z-]+)/(\d+)/$")
# A cursor encodes a position (a time and a key), which differs from run to run; so does the
# change-log position a changes page continues after.
CURSOR = re.compile(r"cursor=[^&]*")
AFTER = re.compile(r"after=\d+")


class Normaliser:
    """Replaces keys by their order of first appearance per resource, and times by a marker."""

    def __init__(self):
        self.keys: dict[tuple[str, str], int] = {}

    def key(self, resource: str, value) -> str:
        return f"<{resource} {self.keys.setdefault((resource, str(value)), len(self.keys) + 1)}>"

    def __call__(self, value, resource: str = "", field: str = ""):
        if isinstance(value, dict):
            own = value.get("url", "")
            match = KEYED.search(own) if isinstance(own, str) else None
            inner = match.group(1) if match else resource
            kind = value.get("model") or value.get("resource")
            if kind and "key" in value and str(value["key"]).isdigit():
                value = {**value, "key": self.key(kind, value["key"])}
            return {name: self(item, inner, name) for name, item in value.items()}
        if isinstance(value, list):
            return [self(item, resource, field) for item in value]
        if isinstance(value, str):
            if TIME.match(value):
                return "<time>"
            match = KEYED.search(value)
            if match:
                return value[: match.start(2)] + self.key(match.group(1), match.group(2)) + "/"
            return AFTER.sub("after=<position>", CURSOR.sub("cursor=<cursor>", value))
        if field in {"change_position", "position"} and isinstance(value, int):
            return "<position>"  # counts every change the database has seen
        if field in {"id", "change_id"} and isinstance(value, int):
            return self.key(resource or field, value)
        return value


def answers(client) -> dict:
    normalise = Normaliser()
    recorded = {}
    for url in URLS:
        response = client.get(url)
        recorded[url] = {"status": response.status_code, "body": normalise(response.json())}
    return recorded


@pytest.mark.parametrize("data", ["demo", "dataset"])
def test_every_list_and_detail_answers_as_recorded(api_client, request, data):
    """Same rows, same order, same JSON as before the speed work, on two data sets."""
    if data == "demo":
        load_demo()
    else:
        # Factory sequences count across tests: restart them so generated names do not depend on order.
        for value in vars(factories).values():
            if isinstance(value, type) and issubclass(value, factory.Factory):
                value.reset_sequence()
        request.getfixturevalue("dataset")
    got = answers(api_client)
    # One file per database: NULLs sort first on SQLite and last on PostgreSQL (payer-less rows).
    recorded = ANSWERS / f"{data}.{connection.vendor}.json"
    if os.environ.get("UPDATE_ANSWERS") == "1":
        recorded.write_text(json.dumps(got, indent=1) + "\n")
    expected = json.loads(recorded.read_text())
    assert list(got) == list(expected)
    for url in URLS:
        assert got[url] == expected[url], url
