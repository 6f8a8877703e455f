"""Inline bases of the admin: rows edited on their parent's page, with the parent's constraints checked."""

from django.contrib import admin
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Exists, OuterRef, UniqueConstraint
from django.forms.models import BaseInlineFormSet, InlineForeignKeyField
from django.forms.utils import ErrorDict
from django.urls import reverse
from django.utils.html import format_html

from policyhub.choices import WorkflowState
from policyhub.forms import EDIT_FIELDS, VersionedModelForm
from policyhub.models import ReviewedModel
from policyhub.versioning import obj_label
from policyhub.widgets import HeldAutocompleteSelect, HeldAutocompleteSelectMultiple, HeldSelectionMixin, held_rows
from policyhub.workflow import PENDING_STATES, publish_permission

# Curators paste policy links without a scheme; they are https (Django 6 will assume so too).
URL_FIELDS = {models.URLField: {"assume_scheme": "https"}}


class CuratedInlineForm(VersionedModelForm):
    """An inline row that also checks the constraints involving its parent (and its version).

    Django leaves the inline foreign key out of model validation, so a constraint on it (one
    'no modifier' row per code, a code not related to itself) would otherwise only fail in the
    database, as a server error.
    """

    def full_clean(self):
        if self.is_bound and self.instance.pk is not None and not self.has_changed():
            # A saved row sent back as it was is not saved again (`save_existing_objects` skips it),
            # so it is not validated again either, as Django already skips an untouched blank row:
            # its fields' look-ups, check constraints and clean() ran about 20 statements a row, 1,059
            # to save a code's page with 50 criteria inline (0.72 s at 1M criteria; now 51, 0.18 s).
            self._errors = ErrorDict(renderer=self.renderer)
            self.cleaned_data = {}
            return
        super().full_clean()

    def _post_clean(self):
        super()._post_clean()
        if self._errors or not any(isinstance(f, InlineForeignKeyField) for f in self.fields.values()):
            return
        try:
            self.instance.validate_constraints(exclude=self._get_validation_exclusions())
        except ValidationError as e:
            self._update_errors(e)


class CuratedInlineFormSet(BaseInlineFormSet):
    """Refuses rows of one save that clash with each other under a partial unique constraint (two
    'no modifier' rows entered together): each row alone passes, and the database would fail."""

    def _construct_form(self, i, **kwargs):
        form = super()._construct_form(i, **kwargs)
        if self.instance.pk is not None:
            # Django sets only the parent's id; rows whose __str__ names the parent would query it each.
            setattr(form.instance, self.fk.name, self.instance)
        for name, field in form.fields.items():
            # The pickers label their selection from the rows the inline's queryset loaded with the row.
            widget = getattr(field.widget, "widget", field.widget)  # inside the admin's wrapper
            if isinstance(widget, HeldSelectionMixin):
                widget.held = held_rows(form.instance, name)
        return form

    # Set by `CuratedInline.get_formset`: how many rows a page lists at most, and the inline, whose
    # heading says when there are more.
    rows_at_most: int | None = None
    inline = None

    def get_queryset(self):
        if hasattr(self, "_queryset") or self.rows_at_most is None or self.instance.pk is None:
            return super().get_queryset()
        rows = super().get_queryset()
        if self.is_bound:
            # The rows the page showed when the curator opened it, whatever has come first since.
            name = self.model._meta.pk.name
            posted = [self.data.get(f"{self.add_prefix(i)}-{name}", "") for i in range(self.initial_form_count())]
            shown = rows.filter(pk__in=[key for key in posted if key.isdigit()])
            more = len(posted) >= self.rows_at_most and rows.exclude(pk__in=shown.values("pk")).exists()
        else:
            # One row past the page says whether there are more, in the statement that reads the rows.
            shown = rows[: self.rows_at_most + 1]
            more = len(shown) > self.rows_at_most
            if more:
                shown = rows[: self.rows_at_most]
        if more:
            self.inline.say_more(self.instance, self.fk.name)
        self._queryset = shown
        return shown

    def kept_rows(self):
        """The valid rows this save keeps: existing ones and filled-in new ones, minus deletions."""
        return [
            form.instance
            for form in self.forms
            if form.is_valid() and form not in self.deleted_forms and (form.has_changed() or form.instance.pk)
        ]

    # The curator saving; set by CuratedInline.get_formset.
    user = None

    def clean(self):
        super().clean()
        self._check_deletions()
        rows = self.kept_rows()
        for constraint in self.model._meta.constraints:
            if not (isinstance(constraint, UniqueConstraint) and constraint.fields and constraint.condition):
                continue
            seen = set()
            for row in rows:
                key = tuple(
                    # Every row of the formset has the same parent, which may not be saved yet.
                    "parent" if name == self.fk.name else getattr(row, row._meta.get_field(name).attname)
                    for name in constraint.fields
                )
                if None in key or not constraint.condition.check(row._get_field_expression_map(meta=row._meta)):
                    continue
                if key in seen:
                    raise ValidationError(f"Only one of these rows is allowed: {constraint.violation_error_message}")
                seen.add(key)

    def _check_deletions(self):
        """Published or in-review content leaves by retirement, which only reviewers may do."""
        for form in self.deleted_forms:
            row = form.instance
            if (
                isinstance(row, ReviewedModel)
                and row.pk
                and row.state != WorkflowState.DRAFT
                and self.user is not None
                and not self.user.has_perm(publish_permission(type(row)))
            ):
                raise ValidationError(
                    f"{obj_label(row)} is {row.get_state_display().lower()}: only a reviewer can remove it "
                    "(retire it instead)."
                )


class HeldAutocompleteFields:
    """Admin (or inline) whose autocomplete pickers are `HeldAutocompleteSelect`(`Multiple`): labelled
    from rows already held, and a posted value that is not a key re-shows the form, not a 500."""

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if "widget" not in kwargs and db_field.name in self.get_autocomplete_fields(request):
            kwargs["widget"] = HeldAutocompleteSelect(db_field, self.admin_site, using=kwargs.get("using"))
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def formfield_for_manytomany(self, db_field, request, **kwargs):
        if "widget" not in kwargs and db_field.name in self.get_autocomplete_fields(request):
            kwargs["widget"] = HeldAutocompleteSelectMultiple(db_field, self.admin_site, using=kwargs.get("using"))
        return super().formfield_for_manytomany(db_field, request, **kwargs)


class CuratedInline(HeldAutocompleteFields, admin.TabularInline):
    form = CuratedInlineForm
    formset = CuratedInlineFormSet
    formfield_overrides = URL_FIELDS
    extra = 0
    show_change_link = True
    # A page lists at most this many of its rows here, each a form, and links to the list of all of
    # them: a code with 600 criteria took 5.6 s and 5.4 MB of HTML to show (docs/bench.md).
    rows_at_most = 50

    def get_fieldsets(self, request, obj=None):
        fieldsets = [
            (name, {**options, "fields": [f for f in options["fields"] if f not in EDIT_FIELDS]})
            for name, options in super().get_fieldsets(request, obj)
        ]
        if fieldsets and self.has_change_permission(request, obj):
            name, options = fieldsets[-1]
            fieldsets[-1] = (name, {**options, "fields": [*options["fields"], "base_version"]})
        return fieldsets

    def get_formset(self, request, obj=None, **kwargs):
        formset = super().get_formset(request, obj, **kwargs)
        formset.user = request.user
        formset.rows_at_most = self.rows_at_most
        formset.inline = self
        return formset

    def say_more(self, parent, fk_name: str) -> None:
        """Head the inline "the first N", with a link to the list of all of the parent's rows."""
        # Inline instances are made per request (`ModelAdmin.get_inline_instances`).
        opts = self.model._meta
        self.verbose_name_plural = format_html(
            '{}: the first {}, <a href="{}?{}__id__exact={}">all of them</a>',
            self.verbose_name_plural,
            self.rows_at_most,
            reverse(f"admin:{opts.app_label}_{opts.model_name}_changelist"),
            fk_name,
            parent.pk,
        )


class ReviewedPartInline(CuratedInline):
    """A reviewed part of a code's brief on the code's page, listed with its state: new rows are drafts
    of the code's change set, and saving a published row starts its draft revision. A published row
    with an open revision is represented by that revision (as the brief is); retired rows are history."""

    readonly_fields = ("state",)

    def get_queryset(self, request):
        pending = self.model._base_manager.filter(revision_of=OuterRef("pk"), state__in=PENDING_STATES)
        return super().get_queryset(request).exclude(state=WorkflowState.RETIRED).exclude(Exists(pending))
