"""The database cache's table (`CACHES` without `CACHE_URL`): made with the schema, so tests and
`make run` have it without a separate `createcachetable`."""

from django.core.management import call_command
from django.db import migrations


def create_cache_table(apps, schema_editor):
    call_command("createcachetable", database=schema_editor.connection.alias, verbosity=0)


class Migration(migrations.Migration):
    dependencies = [("policyhub", "0003_i11_change_log")]

    operations = [migrations.RunPython(create_cache_table, migrations.RunPython.noop)]
