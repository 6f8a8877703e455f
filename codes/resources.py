"""django-import-export resources of the code catalogue: the columns of admin imports and exports.

`CuratedResource` is the base of every resource (payers' too): it refuses a row edited since the
file was exported (its `version` column no longer matches), records who imported what (history
user, `changed_by`, change reason naming the file), bumps the row version, and validates each row
with the model's `full_clean()`, so a row error names its field. Foreign keys are written and read
by their natural key (the code, the payer's slug), never by database id; an unknown one, single or
in a list, is a row error naming it. Exported cells that a spreadsheet would run as formulas are
neutralised (`policyhub.spreadsheets`), and restored when the file comes back. Values the import
stores differently from the file are listed in the preview (`result.coercions`).
"""

from django.contrib.auth import get_user_model
from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.db import models
from import_export import fields, resources, widgets

from codes.models import BillingCode, CodeSetRelease, DiagnosisCode
from policyhub import changelog
from policyhub.spreadsheets import formula_restored, formula_safe

AUDIT_FIELDS = ("version", "created_at", "updated_at", "changed_by")


class DateWidget(widgets.DateWidget):
    """A date column whose error names the value and the expected form."""

    def clean(self, value, row=None, **kwargs):
        try:
            return super().clean(value, row, **kwargs)
        except ValueError:
            raise ValueError(f"'{value}' is not a date like 2026-01-31.") from None


class NaturalKeyWidget(widgets.ForeignKeyWidget):
    """A foreign key written as its natural key; an unknown key is a field error naming the value."""

    def clean(self, value, row=None, **kwargs):
        try:
            return super().clean(value, row, **kwargs)
        except self.model.DoesNotExist:
            raise ValueError(f"No {self.model._meta.verbose_name} with {self.field} '{value}'.") from None


class NaturalKeysWidget(widgets.ManyToManyWidget):
    """Several related rows named by natural key; any unknown one is an error naming it, never dropped."""

    def clean(self, value, row=None, **kwargs):
        queryset = super().clean(value, row, **kwargs)
        if not value:
            return queryset
        wanted = [part.strip() for part in str(value).split(self.separator) if part.strip()]
        found = {str(key) for key in queryset.values_list(self.field, flat=True)}
        unknown = [key for key in wanted if key not in found]
        if unknown:
            raise ValueError(f"No {self.model._meta.verbose_name} {', '.join(unknown)}.")
        return queryset


class CuratedResource(resources.ModelResource):
    """Base resource for curated models: validated rows, history with the importing user, versions."""

    version = fields.Field(attribute="version", column_name="version", readonly=True)
    created_at = fields.Field(attribute="created_at", column_name="created_at", readonly=True)
    updated_at = fields.Field(attribute="updated_at", column_name="updated_at", readonly=True)
    changed_by = fields.Field(
        attribute="changed_by",
        column_name="changed_by",
        readonly=True,
        widget=widgets.ForeignKeyWidget(get_user_model(), "username"),
    )

    class Meta:
        skip_unchanged = True
        report_skipped = True
        clean_model_instances = True

    @classmethod
    def widget_from_django_field(cls, f, default=widgets.Widget):
        # Empty spreadsheet cells arrive as None; text columns store "" (import-export does so for CharField only).
        if isinstance(f, models.TextField):
            return widgets.CharWidget
        if type(f) is models.DateField:
            return DateWidget
        return super().widget_from_django_field(f, default)

    def import_data(self, dataset, *args, **kwargs):
        self.coercions = []
        result = super().import_data(dataset, *args, **kwargs)
        result.coercions = self.coercions
        return result

    def import_data_inner(self, dataset, dry_run, *args, **kwargs):
        # Inside the import's transaction: the change log gets one statement per model at the end,
        # not several per row; a dry run is rolled back, so it records nothing.
        with changelog.deferred(record=not dry_run):
            return super().import_data_inner(dataset, dry_run, *args, **kwargs)

    def export_field(self, field, instance, **kwargs):
        return formula_safe(super().export_field(field, instance, **kwargs))

    def before_import_row(self, row, **kwargs):
        super().before_import_row(row, **kwargs)
        for name, value in row.items():
            row[name] = formula_restored(value)

    def before_import(self, dataset, **kwargs):
        # A file of new rows has no `id` column; rows without an id are created.
        if "id" in self._meta.import_id_fields and "id" not in (dataset.headers or []):
            dataset.append_col([""] * dataset.height, header="id")
        self._rows_by_key = {}
        super().before_import(dataset, **kwargs)

    def import_instance(self, instance, row, **kwargs):
        instance._file_version = row.get("version")
        errors = {}
        try:
            super().import_instance(instance, row, **kwargs)
        except ValidationError as exc:
            errors = exc.update_error_dict(errors)
        for name, message in self.duplicate_of_earlier_row(row, kwargs.get("row_number")).items():
            errors.setdefault(name, []).append(message)
        # Many-to-many columns are written after the row is saved; check their keys with the others.
        for field in self.get_import_fields():
            if isinstance(field.widget, widgets.ManyToManyWidget) and field.column_name in row:
                try:
                    field.clean(row, **kwargs)
                except ValueError as exc:
                    errors.setdefault(field.attribute, []).append(str(exc))
        if errors:
            raise ValidationError(errors)

    def duplicate_of_earlier_row(self, row, row_number) -> dict:
        """An error when an earlier row of the same file has the same key (the import id fields).

        Without it the later row would silently overwrite the earlier one. Rows without a key
        (new rows of a file without ids) are never duplicates.
        """
        names = self._meta.import_id_fields
        key = tuple(str(row.get(self.fields[name].column_name) or "").strip() for name in names)
        if not any(key):
            return {}
        first = self.__dict__.setdefault("_rows_by_key", {}).setdefault(key, row_number)
        if first == row_number:
            return {}
        label = " ".join(part for part in key if part)
        noun = self._meta.model._meta.verbose_name
        return {names[-1]: f"{label} is also on row {first}; each {noun} may appear once."}

    def validate_instance(self, instance, import_validation_errors=None, validate_unique=True):
        """The model's validation, plus: the row must not have changed since the file was exported.

        Runs only for rows that change something: an unchanged row is skipped before.
        """
        errors = dict(import_validation_errors or {})
        file_version = str(getattr(instance, "_file_version", None) or "").strip()
        if not instance._state.adding and file_version and file_version != str(instance.version):
            errors.setdefault(NON_FIELD_ERRORS, []).append(
                f"{instance} changed since this file was exported (version {file_version} in the file, "
                f"{instance.version} now); export it again and redo the change."
            )
        for name, messages in self.refusals(instance).items():
            errors.setdefault(name, []).extend(messages)
        super().validate_instance(instance, errors, validate_unique)

    def refusals(self, instance) -> dict:
        """Errors a subclass adds for rows an import must not change."""
        return {}

    def before_save_instance(self, instance, row, **kwargs):
        user = kwargs.get("user")
        if user is not None and getattr(user, "is_authenticated", False):
            instance.changed_by = user
            instance._history_user = user
        file_name = kwargs.get("file_name")
        instance._change_reason = f"Imported from {file_name}"[:100] if file_name else "Imported in the admin"
        if not instance._state.adding:
            instance.version += 1


class BillingCodeResource(CuratedResource):
    release = fields.Field(
        attribute="release",
        column_name="release",
        readonly=True,
        widget=widgets.ForeignKeyWidget(CodeSetRelease, "name"),
    )

    class Meta(CuratedResource.Meta):
        model = BillingCode
        import_id_fields = ("system", "code")
        fields = (
            "system",
            "code",
            "short_descriptor",
            "long_descriptor",
            "category",
            "is_add_on",
            "status",
            "effective_date",
            "termination_date",
            "add_date",
            "action_code",
            "action_effective_date",
            "coverage_code",
            "type_of_service",
            "global_days",
            "mult_proc",
            "bilat_surg",
            "asst_surg",
            "co_surg",
            "team_surg",
            "release",
            *AUDIT_FIELDS,
        )

    def before_import_row(self, row, **kwargs):
        super().before_import_row(row, **kwargs)
        for name in ("system", "code"):
            if row.get(name):
                row[name] = str(row[name]).strip().upper()


class DiagnosisCodeResource(CuratedResource):
    release = fields.Field(
        attribute="release",
        column_name="release",
        readonly=True,
        widget=widgets.ForeignKeyWidget(CodeSetRelease, "name"),
    )

    class Meta(CuratedResource.Meta):
        model = DiagnosisCode
        import_id_fields = ("code",)
        fields = (
            "code",
            "short_description",
            "description",
            "is_billable",
            "order_number",
            "status",
            "release",
            *AUDIT_FIELDS,
        )

    def before_import_row(self, row, **kwargs):
        super().before_import_row(row, **kwargs)
        if row.get("code"):
            # Curators write I25.10; the catalogue stores I2510.
            row["code"] = DiagnosisCode.normalise(str(row["code"]))
