"""SQLite triggers for the rule PostgreSQL enforces by an exclusion constraint (0002): no two current
criteria for one code and payer overlap in time.

With them, every write path on SQLite (save(), bulk_create(), update(), raw SQL) is refused the same
way as on PostgreSQL, not only saves that call `full_clean()`. The abort message names the constraint,
like PostgreSQL's error does. Dates are stored as ISO text, so comparing them as text is comparing days;
an empty date is open-ended, and both ends are inclusive (PostgreSQL's daterange '[]').
"""

from django.db import migrations

CONSTRAINT = "coveragecriterion_no_overlap"
MESSAGE = (
    f"{CONSTRAINT}: effective periods of current coverage criteria for the same code and payer cannot overlap"
)
CLASH = """
    SELECT RAISE(ABORT, '{message}')
    WHERE EXISTS (
        SELECT 1 FROM payers_coveragecriterion other
        WHERE other.code_id = NEW.code_id
          AND other.payer_id = NEW.payer_id
          AND other.revision_of_id IS NULL
          AND other.state <> 'retired'
          AND (NEW.id IS NULL OR other.id <> NEW.id)
          AND (other.effective_end IS NULL OR NEW.effective_start IS NULL OR NEW.effective_start <= other.effective_end)
          AND (NEW.effective_end IS NULL OR other.effective_start IS NULL OR other.effective_start <= NEW.effective_end)
    );
""".format(message=MESSAGE)
CURRENT = "NEW.revision_of_id IS NULL AND NEW.state <> 'retired'"
WATCHED = "code_id, payer_id, effective_start, effective_end, state, revision_of_id"


def create(apps, schema_editor):
    if schema_editor.connection.vendor != "sqlite":
        return
    schema_editor.execute(
        f"CREATE TRIGGER {CONSTRAINT}_insert BEFORE INSERT ON payers_coveragecriterion "
        f"WHEN {CURRENT} BEGIN {CLASH} END"
    )
    schema_editor.execute(
        f"CREATE TRIGGER {CONSTRAINT}_update BEFORE UPDATE OF {WATCHED} ON payers_coveragecriterion "
        f"WHEN {CURRENT} BEGIN {CLASH} END"
    )


def drop(apps, schema_editor):
    if schema_editor.connection.vendor != "sqlite":
        return
    schema_editor.execute(f"DROP TRIGGER IF EXISTS {CONSTRAINT}_insert")
    schema_editor.execute(f"DROP TRIGGER IF EXISTS {CONSTRAINT}_update")


class Migration(migrations.Migration):
    dependencies = [("payers", "0008_i16_roles_code_category")]
    operations = [migrations.RunPython(create, drop)]
