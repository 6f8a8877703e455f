"""PostgreSQL-only exclusion constraint: no two current criteria for one code and payer overlap.

SQLite has no exclusion constraints; there `CoverageCriterion.clean()` (called by the admin,
services and importers) is the guard. Pending revisions and retired rows are exempt because
they never stand in force beside the row they replace.
"""

from django.db import migrations

CONSTRAINT = "coveragecriterion_no_overlap"


def create(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute("CREATE EXTENSION IF NOT EXISTS btree_gist")
    schema_editor.execute(
        f"""
        ALTER TABLE payers_coveragecriterion ADD CONSTRAINT {CONSTRAINT}
        EXCLUDE USING gist (
            code_id WITH =,
            payer_id WITH =,
            daterange(effective_start, effective_end, '[]') WITH &&
        ) WHERE (revision_of_id IS NULL AND state <> 'retired')
        """
    )


def drop(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute(f"ALTER TABLE payers_coveragecriterion DROP CONSTRAINT IF EXISTS {CONSTRAINT}")


class Migration(migrations.Migration):
    dependencies = [("payers", "0001_initial")]
    operations = [migrations.RunPython(create, drop)]
