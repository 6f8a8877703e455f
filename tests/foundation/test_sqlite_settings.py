"""SQLite (the `make run` default) runs in write-ahead-log mode with a busy timeout, so pages and the API
read while an import writes, and a second writer waits instead of failing."""

import sqlite3

import pytest
from django.conf import settings
from django.db import connection
from django.db.backends.sqlite3.base import DatabaseWrapper

pytestmark = pytest.mark.skipif(connection.vendor != "sqlite", reason="SQLite settings")


@pytest.fixture
def file_database(tmp_path, django_db_blocker):
    wrapper = DatabaseWrapper({**settings.DATABASES["default"], "NAME": str(tmp_path / "policyhub.sqlite3")})
    with django_db_blocker.unblock():
        yield wrapper
        wrapper.close()


def test_a_sqlite_file_database_is_in_wal_mode_with_a_busy_timeout(file_database):
    with file_database.cursor() as cursor:
        assert cursor.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        assert cursor.execute("PRAGMA busy_timeout").fetchone()[0] == 20_000


def test_a_reader_is_not_blocked_by_an_open_write_transaction(file_database, tmp_path):
    """While an import holds the write lock (with written rows), another connection still reads at once."""
    with file_database.cursor() as cursor:
        cursor.execute("CREATE TABLE item (name TEXT)")
        cursor.execute("INSERT INTO item VALUES ('before')")
    writer = file_database.connection
    # A tiny page cache makes the writer spill to the file mid-transaction, as a big import does.
    writer.execute("PRAGMA cache_size = 1")
    writer.execute("BEGIN IMMEDIATE")
    writer.executemany("INSERT INTO item VALUES (?)", [("during",)] * 20_000)
    reader = sqlite3.connect(tmp_path / "policyhub.sqlite3", timeout=0)
    try:
        assert reader.execute("SELECT name FROM item").fetchall() == [("before",)]
    finally:
        reader.close()
        writer.execute("ROLLBACK")
