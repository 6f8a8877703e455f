"""Indexes for reading at scale (issue 15): published criteria per payer, the gap worklist's order,
and on PostgreSQL trigram indexes for the free-text searches (`q`, the admin's search box)."""

from django.conf import settings
from django.contrib.postgres.operations import TrigramExtension
from django.db import migrations, models

from policyhub.migration_operations import trigram_index


class Migration(migrations.Migration):
    dependencies = [
        ("codes", "0004_release_changes"),
        ("payers", "0005_history_and_timestamp_indexes"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.AddIndex(
            model_name="coveragecriterion",
            index=models.Index(
                condition=models.Q(("revision_of__isnull", True), ("state", "published")),
                fields=["payer", "code"],
                name="coverage_published_payer_idx",
            ),
        ),
        migrations.AddIndex(
            model_name="followupgap",
            index=models.Index(fields=["status", "priority", "due_date", "id"], name="gap_worklist_order_idx"),
        ),
        # A no-op on SQLite, like the trigram indexes.
        TrigramExtension(),
        trigram_index("payers_coveragecriterion", "criteria"),
        trigram_index("payers_coveragecriterion", "limitations"),
        trigram_index("payers_documentationrequirement", "text"),
        trigram_index("payers_followupgap", "description"),
        trigram_index("payers_payer", "name"),
        trigram_index("payers_policydocument", "number"),
    ]
