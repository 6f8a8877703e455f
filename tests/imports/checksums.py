"""A fingerprint of the whole database: one hash per table of its rows, read in a fixed order.

Two equal fingerprints mean every row of every table is byte-for-byte the same, which is what a
refused import must leave behind (history, releases and sessions included).
"""

import hashlib

from django.db import connection


def table_checksums() -> dict[str, str]:
    """SHA-256 per table of its rows, each row rendered and the rows sorted (no table relies on order)."""
    result = {}
    with connection.cursor() as cursor:
        for table in sorted(connection.introspection.table_names(cursor)):
            cursor.execute(f"SELECT * FROM {connection.ops.quote_name(table)}")  # noqa: S608 - a table name
            digest = hashlib.sha256()
            for row in sorted(repr(tuple(row)) for row in cursor.fetchall()):
                digest.update(row.encode())
                digest.update(b"\n")
            result[table] = digest.hexdigest()
    return result
