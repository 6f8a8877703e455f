"""A billing code's category is one of the code categories, enforced by the database on both engines.

`BillingCode.category` stores the category's name (the API, filters and exports speak names), so
the rule is a trigger rather than a foreign key: a code's non-empty category must name a listed
category, and a listed category that codes use cannot be renamed or deleted. Every write path is
refused the same way (save(), bulk_create(), update(), raw SQL), not only saves that call
`full_clean()`; the error names the rule like a constraint does.

On PostgreSQL the code's trigger takes a key-share lock on the category row, so a concurrent delete
of that category waits for the code's transaction and then sees the code. SQLite has no trigger on
deleting a category: `manage.py flush` (and every transactional test) deletes the tables in no set
order, so such a trigger would refuse to empty the database. Deletes through Django are refused on
both engines by the `pre_delete` guard of `codes.models.billing_codes`.
"""

from django.db import migrations

LISTED = "billingcode_category_listed"
IN_USE = "codecategory_in_use"
LISTED_MESSAGE = f"{LISTED}: the category of a billing code must be one of the code categories"
IN_USE_MESSAGE = f"{IN_USE}: billing codes are filed under this category; it cannot be renamed or deleted"

SQLITE_CREATE = [
    f"""CREATE TRIGGER {LISTED}_insert BEFORE INSERT ON codes_billingcode WHEN NEW.category <> ''
    BEGIN SELECT RAISE(ABORT, '{LISTED_MESSAGE}')
    WHERE NOT EXISTS (SELECT 1 FROM codes_codecategory WHERE name = NEW.category); END""",
    f"""CREATE TRIGGER {LISTED}_update BEFORE UPDATE OF category ON codes_billingcode WHEN NEW.category <> ''
    BEGIN SELECT RAISE(ABORT, '{LISTED_MESSAGE}')
    WHERE NOT EXISTS (SELECT 1 FROM codes_codecategory WHERE name = NEW.category); END""",
    f"""CREATE TRIGGER {IN_USE}_update BEFORE UPDATE OF name ON codes_codecategory WHEN NEW.name <> OLD.name
    BEGIN SELECT RAISE(ABORT, '{IN_USE_MESSAGE}')
    WHERE EXISTS (SELECT 1 FROM codes_billingcode WHERE category = OLD.name); END""",
]
SQLITE_DROP = [
    f"DROP TRIGGER IF EXISTS {name}"
    for name in (f"{LISTED}_insert", f"{LISTED}_update", f"{IN_USE}_update", f"{IN_USE}_delete")
]

POSTGRESQL_CREATE = [
    f"""CREATE FUNCTION {LISTED}() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        IF NEW.category <> '' THEN
            PERFORM 1 FROM codes_codecategory WHERE name = NEW.category FOR KEY SHARE;
            IF NOT FOUND THEN
                RAISE EXCEPTION '{LISTED_MESSAGE}' USING ERRCODE = 'foreign_key_violation';
            END IF;
        END IF;
        RETURN NEW;
    END $$""",
    f"""CREATE TRIGGER {LISTED} BEFORE INSERT OR UPDATE OF category ON codes_billingcode
    FOR EACH ROW EXECUTE FUNCTION {LISTED}()""",
    f"""CREATE FUNCTION {IN_USE}() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        IF (TG_OP = 'DELETE' OR NEW.name <> OLD.name)
                AND EXISTS (SELECT 1 FROM codes_billingcode WHERE category = OLD.name) THEN
            RAISE EXCEPTION '{IN_USE_MESSAGE}' USING ERRCODE = 'foreign_key_violation';
        END IF;
        IF TG_OP = 'DELETE' THEN
            RETURN OLD;
        END IF;
        RETURN NEW;
    END $$""",
    f"""CREATE TRIGGER {IN_USE} BEFORE UPDATE OF name OR DELETE ON codes_codecategory
    FOR EACH ROW EXECUTE FUNCTION {IN_USE}()""",
]
POSTGRESQL_DROP = [
    f"DROP TRIGGER IF EXISTS {LISTED} ON codes_billingcode",
    f"DROP FUNCTION IF EXISTS {LISTED}()",
    f"DROP TRIGGER IF EXISTS {IN_USE} ON codes_codecategory",
    f"DROP FUNCTION IF EXISTS {IN_USE}()",
]


def list_every_category_in_use(apps, schema_editor):
    """A category a code already has (loaded before the list existed) becomes a list entry first."""
    BillingCode = apps.get_model("codes", "BillingCode")
    CodeCategory = apps.get_model("codes", "CodeCategory")
    names = BillingCode.objects.exclude(category="").values_list("category", flat=True).distinct()
    CodeCategory.objects.bulk_create([CodeCategory(name=name) for name in names], ignore_conflicts=True)


def create(apps, schema_editor):
    list_every_category_in_use(apps, schema_editor)
    for statement in POSTGRESQL_CREATE if schema_editor.connection.vendor == "postgresql" else SQLITE_CREATE:
        schema_editor.execute(statement)


def drop(apps, schema_editor):
    for statement in POSTGRESQL_DROP if schema_editor.connection.vendor == "postgresql" else SQLITE_DROP:
        schema_editor.execute(statement)


class Migration(migrations.Migration):
    dependencies = [("codes", "0009_i13_diagnosis_code_prefix_index")]
    operations = [migrations.RunPython(create, drop)]
