"""A trigram index on the diagnosis descriptions, so a word search through a full ICD-10-CM release
(98k codes) is an index look-up on PostgreSQL, not a scan of every description.

It serves Django's `description__icontains` as PostgreSQL writes it, `UPPER(description) LIKE
UPPER('%word%')`. pg_trgm ships with PostgreSQL and is a trusted extension (13+), so the database's
owner may create it. SQLite has no such index; its scan of the descriptions is fast enough in C.
Kept out of the model's `Meta.indexes` because that would ask SQLite for it too.
"""

from django.db import migrations

INDEX = "diagnosiscode_description_trgm"


def create(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    schema_editor.execute(
        f"CREATE INDEX IF NOT EXISTS {INDEX} ON codes_diagnosiscode USING gin (UPPER(description) gin_trgm_ops)"
    )


def drop(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(f"DROP INDEX IF EXISTS {INDEX}")


class Migration(migrations.Migration):
    dependencies = [("codes", "0010_i16_code_category_enforced")]
    operations = [migrations.RunPython(create, drop)]
