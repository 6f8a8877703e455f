"""Migration operations that only PostgreSQL runs (SQLite keeps the same schema without them)."""

from django.db import migrations


class PostgreSQLOnlySQL(migrations.RunSQL):
    """`RunSQL` that is a no-op on other databases: for PostgreSQL-only index types such as a
    `pg_trgm` GIN index, which speed searches up without changing their answers."""

    def database_forwards(self, app_label, schema_editor, from_state, to_state):
        if schema_editor.connection.vendor == "postgresql":
            super().database_forwards(app_label, schema_editor, from_state, to_state)

    def database_backwards(self, app_label, schema_editor, from_state, to_state):
        if schema_editor.connection.vendor == "postgresql":
            super().database_backwards(app_label, schema_editor, from_state, to_state)


def trigram_index(table: str, column: str) -> PostgreSQLOnlySQL:
    """A GIN `gin_trgm_ops` index on the expression Django's `icontains` compares on PostgreSQL
    (`UPPER(column::text) LIKE UPPER(%term%)`), so the search reads the index instead of every row."""
    name = f"{table}_{column}_trgm"
    return PostgreSQLOnlySQL(
        f"CREATE INDEX IF NOT EXISTS {name} ON {table} USING gin (UPPER(({column})::text) gin_trgm_ops)",
        f"DROP INDEX IF EXISTS {name}",
    )
