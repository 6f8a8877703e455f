"""The roles gain the coverage check's models (payer identifiers, CDS clients, coverage assertions);
see policyhub/roles.py."""

from django.db import migrations

from policyhub.roles import sync_roles


def sync(apps, schema_editor):
    sync_roles(apps=apps, using=schema_editor.connection.alias)


class Migration(migrations.Migration):
    dependencies = [
        ("briefs", "0001_initial"),
        ("payers", "0005_history_and_timestamp_indexes"),
    ]

    operations = [migrations.RunPython(sync, migrations.RunPython.noop)]
