"""The role groups (Policy editor, Policy reviewer, Viewer) and the publish permission of each
reviewed model; see policyhub/roles.py. Runs `sync_roles()`, so the groups hold exactly the listed
permissions afterwards; a change of the role table comes with a new migration like this one."""

from django.db import migrations

from policyhub.roles import sync_roles


def sync(apps, schema_editor):
    sync_roles(apps=apps, using=schema_editor.connection.alias)


class Migration(migrations.Migration):
    dependencies = [
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
        ("codes", "0002_release_import_fields"),
        ("payers", "0003_policydocument_document_version_gap_subject"),
    ]

    operations = [migrations.RunPython(sync, migrations.RunPython.noop)]
