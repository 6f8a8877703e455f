"""Reviewers maintain the controlled list of code categories; everyone with a role may read it.
Runs `sync_roles()` again, as payers/migrations/0004_roles.py explains."""

from django.db import migrations

from policyhub.roles import sync_roles


def sync(apps, schema_editor):
    sync_roles(apps=apps, using=schema_editor.connection.alias)


class Migration(migrations.Migration):
    dependencies = [
        ("codes", "0005_i16_code_category"),
        ("payers", "0007_i15_published_code_index"),
    ]

    operations = [migrations.RunPython(sync, migrations.RunPython.noop)]
