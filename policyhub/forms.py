"""Form bases of curated records: the version an edit is based on, and the curator's reason.

`VersionedModelForm` carries the record's `version` as of the moment the form was shown. When
someone else saved the record meanwhile, validation fails with what they changed and the form is
rebuilt on the current version (`policyhub.conflicts`): fields the curator did not touch take the
current values, the curator's own edits stay, and a field both people changed shows the current
value with the curator's beside it, to choose. Saving the rebuilt form therefore never puts a stale
value back: only what the curator changed, or chose, is applied on top of the other change.
"""

from django import forms
from django.core.exceptions import FieldDoesNotExist, ValidationError

from policyhub.choices import WorkflowState
from policyhub.conflicts import rebuild_on_current
from policyhub.models import ReviewedModel
from policyhub.versioning import StaleVersion
from policyhub.workflow import REASON_LENGTH, pending_revision

# Form fields that describe the edit rather than the record: they never make a form "changed".
EDIT_FIELDS = frozenset({"base_version", "change_reason"})


class VersionedModelForm(forms.ModelForm):
    """A model form that refuses to save over a change made since it was shown."""

    base_version = forms.IntegerField(widget=forms.HiddenInput, required=False, min_value=1)

    # Revert forms are built on an old history version; their base is the row's current version.
    reverting = False

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.current_version = None
        if self.instance.pk is not None:
            self.current_version = (
                type(self.instance)._base_manager.filter(pk=self.instance.pk).values_list("version", flat=True).first()
                if self.reverting
                else self.instance.version
            )
            self.fields["base_version"].initial = self.current_version

    def _get_validation_exclusions(self):
        # The workflow columns are set by the system, never by the form, so their values on the
        # instance are real: constraints that involve them (one current brief per code) are checked
        # here and refused as form errors instead of failing in the database.
        exclude = super()._get_validation_exclusions()
        if isinstance(self.instance, ReviewedModel):
            exclude -= {"state", "revision_of"}
        return exclude

    @property
    def changed_data(self):
        return [name for name in super().changed_data if name not in EDIT_FIELDS]

    def clean(self):
        cleaned_data = super().clean()
        if self.instance.pk is None or not (self.reverting or self.has_changed()):
            return cleaned_data
        expected = cleaned_data.get("base_version")
        if expected is not None and self.current_version is not None and expected != self.current_version:
            conflict = StaleVersion(self.instance, expected)
            clashes = rebuild_on_current(self, conflict)
            advice = (
                " The form now shows the current version: fields you did not change have its values, "
                "your own changes are kept."
            )
            if clashes:
                advice += (
                    " You both changed " + ", ".join(clash.label for clash in clashes) + ": each shows the "
                    "current value, with yours next to it; choose, then save again."
                )
            else:
                advice += " Check, then save again to apply your changes."
            self.add_error(self.conflict_field(), forms.ValidationError(conflict.message + advice, code="stale"))
            for clash in clashes:
                self.add_error(clash.name, forms.ValidationError(clash.message, code="stale"))
        elif isinstance(self.instance, ReviewedModel) and not self.reverting:
            self._check_editable(self.instance)
        return cleaned_data

    def conflict_field(self) -> str | None:
        """Where the conflict message is shown; None: above the form."""
        return None

    def _check_editable(self, item: ReviewedModel) -> None:
        label = item._meta.verbose_name
        if item.state == WorkflowState.IN_REVIEW:
            self.add_error(
                self.conflict_field(),
                f"This {label} is in review and cannot be edited; a reviewer can send it back to draft.",
            )
        elif item.state == WorkflowState.RETIRED:
            self.add_error(self.conflict_field(), f"This {label} is retired and cannot be edited.")
        elif item.state == WorkflowState.PUBLISHED:
            pending = pending_revision(item)
            if pending is not None:
                self.add_error(
                    self.conflict_field(),
                    f"This {label} already has a {pending.get_state_display().lower()} revision (#{pending.pk}); "
                    "edit that revision instead.",
                )


class CuratedModelForm(VersionedModelForm):
    """The admin change form of a curated record: also asks why, for the history."""

    change_reason = forms.CharField(
        label="Reason for this change",
        required=False,
        max_length=REASON_LENGTH,
        widget=forms.TextInput(attrs={"size": 80}),
        help_text="Optional; kept in the record's history with your change (e.g. 'Aetna CPB 0826 revised 2025-03').",
    )


class ChangelistVersionedForm(VersionedModelForm):
    """A row of an editable change list: the conflict shows next to the row's first editable cell."""

    def conflict_field(self) -> str | None:
        return next((name for name, field in self.fields.items() if not field.widget.is_hidden), None)


def versioned_form_class(form_class: type[forms.ModelForm], base: type[VersionedModelForm]) -> type[forms.ModelForm]:
    """`form_class` with the behaviour of `base` added, unless it already has it."""
    if issubclass(form_class, base):
        return form_class
    return type(f"{base.__name__}{form_class.__name__}", (base, form_class), {"__module__": __name__})


def model_field_names(form: forms.ModelForm) -> set[str]:
    """Names of the form's fields that are model fields (not EDIT_FIELDS), many-to-many included."""
    names = set()
    for name in form.fields:
        try:
            form._meta.model._meta.get_field(name)
        except FieldDoesNotExist:
            continue
        names.add(name)
    return names


def is_key(field, value) -> bool:
    """Whether `value` (from a URL or a form) can be a value of the key `field`: a look-up with one
    that cannot ("abc" for a number) raises instead of finding nothing, a 500 in Django's admin."""
    try:
        field.to_python(value)
    except ValidationError:
        return False
    return True
