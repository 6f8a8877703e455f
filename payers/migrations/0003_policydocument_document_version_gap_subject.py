"""PolicyDocument's own version number moves to `document_version` (its old name `version` hid the
CuratedModel optimistic-lock counter); the one-open-gap-per-rule constraint now also holds for gaps
without a payer or policy (NULLs never clash in a plain unique index); help texts for curators."""

import django.db.models.functions.comparison
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('codes', '0001_initial'),
        ('payers', '0002_coverage_no_overlap'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.AlterModelOptions(
            name='policydocument',
            options={'ordering': ['payer__name', 'number', '-document_version'], 'verbose_name': 'payer policy document'},
        ),
        migrations.RemoveConstraint(
            model_name='followupgap',
            name='gap_one_open_per_rule',
        ),
        migrations.RemoveConstraint(
            model_name='policydocument',
            name='policydocument_unique_version',
        ),
        migrations.RemoveConstraint(
            model_name='policydocument',
            name='policydocument_unique_unversioned',
        ),
        migrations.RenameField(
            model_name='historicalpolicydocument',
            old_name='version',
            new_name='document_version',
        ),
        migrations.AlterField(
            model_name='historicalpolicydocument',
            name='document_version',
            field=models.PositiveIntegerField(blank=True, help_text="The payer's own version number, where it numbers them (Medicare Coverage Database).", null=True, verbose_name='document version'),
        ),
        migrations.AddField(
            model_name='historicalpolicydocument',
            name='version',
            field=models.PositiveIntegerField(default=1, editable=False, help_text='Increases on every save; a save based on an older version is refused.'),
        ),
        migrations.RenameField(
            model_name='policydocument',
            old_name='version',
            new_name='document_version',
        ),
        migrations.AlterField(
            model_name='policydocument',
            name='document_version',
            field=models.PositiveIntegerField(blank=True, help_text="The payer's own version number, where it numbers them (Medicare Coverage Database).", null=True, verbose_name='document version'),
        ),
        migrations.AddField(
            model_name='policydocument',
            name='version',
            field=models.PositiveIntegerField(default=1, editable=False, help_text='Increases on every save; a save based on an older version is refused.'),
        ),
        migrations.AlterField(
            model_name='coveragecriterion',
            name='coverage_status',
            field=models.CharField(choices=[('covered', 'Covered'), ('covered_with_criteria', 'Covered with criteria'), ('not_covered', 'Not covered / investigational'), ('no_policy', 'No published policy'), ('unknown', 'Unknown')], db_index=True, default='unknown', help_text="'No published policy': the payer has none for this code. 'Unknown': not researched yet.", max_length=24),
        ),
        migrations.AlterField(
            model_name='coveragecriterion',
            name='limitations',
            field=models.TextField(blank=True, help_text='What the policy excludes or limits: settings, frequency, device types.'),
        ),
        migrations.AlterField(
            model_name='followupgap',
            name='description',
            field=models.TextField(help_text='What is missing and, where known, where to find it.'),
        ),
        migrations.AlterField(
            model_name='historicalcoveragecriterion',
            name='coverage_status',
            field=models.CharField(choices=[('covered', 'Covered'), ('covered_with_criteria', 'Covered with criteria'), ('not_covered', 'Not covered / investigational'), ('no_policy', 'No published policy'), ('unknown', 'Unknown')], db_index=True, default='unknown', help_text="'No published policy': the payer has none for this code. 'Unknown': not researched yet.", max_length=24),
        ),
        migrations.AlterField(
            model_name='historicalcoveragecriterion',
            name='limitations',
            field=models.TextField(blank=True, help_text='What the policy excludes or limits: settings, frequency, device types.'),
        ),
        migrations.AlterField(
            model_name='historicalfollowupgap',
            name='description',
            field=models.TextField(help_text='What is missing and, where known, where to find it.'),
        ),
        migrations.AlterField(
            model_name='historicalpayer',
            name='is_national',
            field=models.BooleanField(default=False, help_text='Covers members nationwide rather than in one state or region.', verbose_name='national'),
        ),
        migrations.AlterField(
            model_name='payer',
            name='is_national',
            field=models.BooleanField(default=False, help_text='Covers members nationwide rather than in one state or region.', verbose_name='national'),
        ),
        migrations.AddConstraint(
            model_name='followupgap',
            constraint=models.UniqueConstraint(models.F('rule'), django.db.models.functions.comparison.Coalesce('code', 0, output_field=models.BigIntegerField()), django.db.models.functions.comparison.Coalesce('payer', 0, output_field=models.BigIntegerField()), django.db.models.functions.comparison.Coalesce('policy', 0, output_field=models.BigIntegerField()), condition=models.Q(models.Q(('rule', ''), _negated=True), ('status__in', ('open', 'in_progress'))), name='gap_one_open_per_rule_and_subject', violation_error_message='An open gap already exists for this rule.'),
        ),
        migrations.AddConstraint(
            model_name='policydocument',
            constraint=models.UniqueConstraint(fields=('payer', 'number', 'document_version'), name='policydocument_unique_version', violation_error_message='This payer already has that policy number and version.'),
        ),
        migrations.AddConstraint(
            model_name='policydocument',
            constraint=models.UniqueConstraint(condition=models.Q(('document_version__isnull', True)), fields=('payer', 'number'), name='policydocument_unique_unversioned', violation_error_message='This payer already has that policy number.'),
        ),
    ]
