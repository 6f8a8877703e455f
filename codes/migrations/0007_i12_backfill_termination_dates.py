"""Terminated codes always have a termination date: date those terminated before the import gates.

An import used to terminate codes missing from a release without a date. Each such row is dated
with the effective date of the release that last wrote it (the one that terminated it), never
before the code's own start; rows without a dated release are left for a curator.
"""

from django.db import migrations


def backfill(apps, schema_editor):
    for name in ("BillingCode", "Modifier", "DiagnosisCode"):
        model = apps.get_model("codes", name)
        undated = model.objects.filter(
            status="terminated", termination_date__isnull=True, release__effective_date__isnull=False
        ).select_related("release")
        for row in undated.iterator(chunk_size=2000):
            ends = row.release.effective_date
            starts = getattr(row, "effective_date", None)
            row.termination_date = max(ends, starts) if starts else ends
            row.save(update_fields=["termination_date"])


class Migration(migrations.Migration):
    dependencies = [("codes", "0006_i12_diagnosis_termination_date")]

    operations = [migrations.RunPython(backfill, migrations.RunPython.noop)]
