"""The seed briefs' API JSON and page HTML stay as stored in tests/fixtures/snapshots/.

The snapshots were taken before the `briefs/` restructure: a move of code must not change what a
reader or an API client sees. A deliberate change to a page or a resource regenerates them:

    UPDATE_SNAPSHOTS=1 .venv/bin/pytest tests/foundation/test_snapshots.py

then review `git diff tests/fixtures/snapshots/` before committing.

Volatile parts are normalised so the comparison is the same on SQLite and PostgreSQL: timestamps,
today's date and the time of day after it (the print and download footers), CSRF tokens, change-log
positions (they count every change the database has seen). Ids are made deterministic by restarting
the (empty) tables' sequences.
"""

import json
import os
import re

import pytest
from django.apps import apps
from django.core.management.color import no_style
from django.db import connection
from django.utils import timezone

from payers.demo import load_demo
from tests.conftest import FIXTURES

SNAPSHOTS = FIXTURES / "snapshots"
UPDATE = os.environ.get("UPDATE_SNAPSHOTS") == "1"
CODES = ("93590", "93592")
LISTS = ("coverage-criteria", "documentation-requirements", "gaps")

API_URLS = {
    **{f"api_code_{code}.json": f"/api/v1/codes/{code}/" for code in CODES},
    **{f"api_{name}_{code}.json": f"/api/v1/{name}/?code={code}" for name in LISTS for code in CODES},
}
PAGE_URLS = {
    **{f"page_code_{code}.html": f"/codes/{code}/" for code in CODES},
    **{f"page_code_{code}_brief.md": f"/codes/{code}/brief.md" for code in CODES},
}

DATETIME = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:?\d{2})?")
TIME_OF_DAY = re.compile(r"<today> \d{2}:\d{2}")
CSRF = re.compile(r'(name="csrfmiddlewaretoken" value=")[^"]+(")')
POSITION = re.compile(r'("change_position": )\d+')


def normalise(text: str) -> str:
    text = DATETIME.sub("<datetime>", text)
    text = CSRF.sub(r"\1<csrf>\2", text)
    text = POSITION.sub(r'\1"<position>"', text)
    today = timezone.localdate()
    for form in {today.isoformat(), f"{today:%b}. {today.day}, {today.year}", f"{today:%B} {today.day}, {today.year}"}:
        text = text.replace(form, "<today>")
    return TIME_OF_DAY.sub("<today> <hh:mm>", text)


def restart_sequences():
    """Restart the id counters so the demo's ids start at 1, whatever ran before in this process.

    Rolled-back tests leave PostgreSQL's sequences advanced; on SQLite, a transactional test's
    committed rows leave AUTOINCREMENT counters behind after the flush that empties their tables.
    """
    if connection.vendor == "sqlite":
        tables = connection.introspection.sequence_list()
        statements = connection.ops.sequence_reset_by_name_sql(no_style(), tables)
    else:
        statements = connection.ops.sequence_reset_sql(no_style(), apps.get_models())
    with connection.cursor() as cursor:
        for sql in statements:
            cursor.execute(sql)


@pytest.fixture
def seeded_reader_client(db, reader_client):
    restart_sequences()
    load_demo()
    return reader_client


def check(name: str, text: str):
    path = SNAPSHOTS / name
    if UPDATE:
        SNAPSHOTS.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
        return
    assert path.exists(), f"{path} is missing: run with UPDATE_SNAPSHOTS=1 to create it"
    assert text == path.read_text(), f"{name} differs from its snapshot (UPDATE_SNAPSHOTS=1 regenerates it)"


def test_api_json_matches_the_snapshots(seeded_reader_client):
    """The code resource and the coverage, documentation and gap lists of the seed codes are unchanged."""
    for name, url in API_URLS.items():
        response = seeded_reader_client.get(url, HTTP_ACCEPT="application/json")
        assert response.status_code == 200, url
        check(name, normalise(json.dumps(response.json(), indent=2, ensure_ascii=False)) + "\n")


def test_pages_match_the_snapshots(seeded_reader_client):
    """The code brief pages and their Markdown downloads are unchanged."""
    for name, url in PAGE_URLS.items():
        response = seeded_reader_client.get(url)
        assert response.status_code == 200, url
        check(name, normalise(response.content.decode()))
