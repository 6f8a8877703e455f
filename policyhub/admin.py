"""Shared admin bases: who-changed-it bookkeeping, history, conflict-safe saves, the editorial
workflow of reviewed content, and cheap change lists."""

from django import forms
from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.contrib.admin.options import IS_POPUP_VAR
from django.contrib.admin.utils import unquote
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.db import connection, models, transaction
from django.db.models import UniqueConstraint
from django.forms.models import BaseInlineFormSet, InlineForeignKeyField
from django.http import HttpResponseBadRequest, HttpResponseNotAllowed, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.functional import cached_property
from django.utils.html import format_html
from simple_history.admin import SimpleHistoryAdmin

from policyhub import admin_tokens  # noqa: F401  (registers the API token admin)
from policyhub.choices import WorkflowState
from policyhub.forms import (
    EDIT_FIELDS,
    ChangelistVersionedForm,
    CuratedModelForm,
    VersionedModelForm,
    model_field_names,
    versioned_form_class,
)
from policyhub.models import ReviewedModel
from policyhub.versioning import StaleVersion, field_changes, obj_label, save_versioned
from policyhub.workflow import (
    TRANSITIONS,
    Transition,
    apply_transition,
    pending_revision,
    publish_permission,
    published_references,
    reason_text,
    refusal,
    required_permission,
    start_revision,
)

# The change form's "Save and submit for review" button.
SUBMIT_BUTTON = "_submit_for_review"
# Hidden input next to each change-list checkbox: "<pk>:<version>" as the curator saw the row.
SELECTED_VERSION = "_selected_version"
# Curators paste policy links without a scheme; they are https (Django 6 will assume so too).
URL_FIELDS = {models.URLField: {"assume_scheme": "https"}}
WORKFLOW_DISPLAY = (
    "state",
    "revision_of",
    "submitted_by",
    "submitted_at",
    "reviewed_by",
    "reviewed_at",
    "review_comment",
)

admin.site.site_header = "PolicyHub curation"
admin.site.site_title = "PolicyHub admin"
admin.site.index_title = "Curate codes, payers and coverage"


class EstimatedCountPaginator(Paginator):
    """Avoids an exact COUNT(*) over big unfiltered tables on PostgreSQL.

    The planner's estimate is good enough for "page 1 of ~2,000"; filtered lists are small and
    counted exactly.
    """

    EXACT_BELOW = 10_000

    @cached_property
    def count(self):
        query = self.object_list.query
        if connection.vendor == "postgresql" and not query.where:
            with connection.cursor() as cursor:
                cursor.execute(
                    "SELECT reltuples::bigint FROM pg_class WHERE oid = %s::regclass",
                    [self.object_list.model._meta.db_table],
                )
                row = cursor.fetchone()
            if row and row[0] >= self.EXACT_BELOW:
                return int(row[0])
        return super().count


class CuratedAdmin(SimpleHistoryAdmin):
    """Base for every curated model: records who changed what and why, keeps history, and refuses
    saves based on an outdated version (change form, editable change list, inlines and actions)."""

    list_per_page = 50
    show_full_result_count = False
    paginator = EstimatedCountPaginator
    readonly_fields = ("created_at", "updated_at", "changed_by", "version")
    form = CuratedModelForm
    formfield_overrides = URL_FIELDS

    # --- Forms: the version each edit is based on, and the curator's reason ---

    def get_form(self, request, obj=None, change=False, **kwargs):
        form = versioned_form_class(kwargs.get("form", self.form), CuratedModelForm)
        if _reverting(request):
            form = type(f"Revert{form.__name__}", (form,), {"reverting": True, "__module__": form.__module__})
        kwargs["form"] = form
        return super().get_form(request, obj, change, **kwargs)

    def get_fieldsets(self, request, obj=None):
        """The declared fieldsets, then "Your change" (the reason and the hidden base version)."""
        fieldsets = [
            (name, {**options, "fields": [f for f in options["fields"] if f not in EDIT_FIELDS]})
            for name, options in super().get_fieldsets(request, obj)
        ]
        if obj is None or self.has_change_permission(request, obj):
            fieldsets.append(("Your change", {"fields": ["change_reason", "base_version"]}))
        return fieldsets

    def get_changelist_form(self, request, **kwargs):
        kwargs["form"] = versioned_form_class(kwargs.get("form", forms.ModelForm), ChangelistVersionedForm)
        return super().get_changelist_form(request, **kwargs)

    def action_checkbox(self, obj):
        # The version the curator saw goes along, so an action on a row changed since is refused.
        return format_html(
            '{}<input type="hidden" name="{}" value="{}:{}">',
            super().action_checkbox(obj),
            SELECTED_VERSION,
            obj.pk,
            obj.version,
        )

    # --- Views: a lost race becomes a message, never a server error ---

    def get_object(self, request, object_id, from_field=None):
        obj = super().get_object(request, object_id, from_field)
        if obj is not None and request.method == "POST" and transaction.get_connection().in_atomic_block:
            # Lock the row for the rest of the save; reload if it changed before the lock.
            # order_by("pk"): Meta.ordering may join nullable relations, which FOR UPDATE refuses on PostgreSQL.
            locked = (
                type(obj)
                ._base_manager.select_for_update()
                .filter(pk=obj.pk)
                .order_by("pk")
                .values_list("version", flat=True)
            )
            if locked.first() != obj.version:
                obj = super().get_object(request, object_id, from_field)
        return obj

    def changeform_view(self, request, object_id=None, form_url="", extra_context=None):
        try:
            return super().changeform_view(request, object_id, form_url, extra_context)
        except (StaleVersion, ValidationError) as error:
            return self._refused(request, error)

    def changelist_view(self, request, extra_context=None):
        try:
            return super().changelist_view(request, extra_context)
        except (StaleVersion, ValidationError) as error:
            return self._refused(request, error)

    def history_form_view(self, request, object_id, version_id, extra_context=None):
        try:
            with transaction.atomic():
                return super().history_form_view(request, object_id, version_id, extra_context)
        except (StaleVersion, ValidationError) as error:
            return self._refused(request, error)

    def response_action(self, request, queryset):
        stale = self._stale_selection(request)
        if stale:
            self.message_user(request, "Nothing was done. " + " ".join(stale), messages.ERROR)
            return HttpResponseRedirect(request.get_full_path())
        return super().response_action(request, queryset)

    def response_change(self, request, obj):
        revision = getattr(request, "_policyhub_revision", None)
        if revision is None:
            return super().response_change(request, obj)
        return HttpResponseRedirect(admin_change_url(revision))

    def _refused(self, request, error):
        self.message_user(request, " ".join(_messages_of(error)), messages.ERROR)
        return HttpResponseRedirect(request.get_full_path())

    def _stale_selection(self, request) -> list[str]:
        """What changed among the selected rows since the change list was shown (one sentence per row)."""
        seen = {}
        for value in request.POST.getlist(SELECTED_VERSION):
            pk, _, version = value.rpartition(":")
            if version.isdigit():
                seen[pk] = int(version)
        selected = [pk for pk in request.POST.getlist(helpers.ACTION_CHECKBOX_NAME) if pk in seen]
        if not selected:
            return []
        rows = self.model._base_manager.filter(pk__in=selected)
        return [StaleVersion(row, seen[str(row.pk)]).message for row in rows if row.version != seen[str(row.pk)]]

    def get_deleted_objects(self, objs, request):
        # Rows that published content refers to are listed as protected, which makes the admin
        # refuse the deletion (single or bulk) and say which published rows use them.
        to_delete, model_count, perms_needed, protected = super().get_deleted_objects(objs, request)
        for obj in objs:
            protected = [*protected, *published_references(obj)]
        return to_delete, model_count, perms_needed, protected

    # --- Saving ---

    def save_model(self, request, obj, form, change):
        reason = _change_reason(form)
        if not change:
            _stamp(obj, request.user, reason)
            obj.save()
            return
        if getattr(form, "reverting", False):
            self._save_revert(request, obj, form, reason)
        elif form is None or form.has_changed():
            self._save_edit(request, obj, form, reason)

    def save_formset(self, request, form, formset, change):
        reason = _change_reason(form)
        form_of = {id(row_form.instance): row_form for row_form in formset.forms}
        for inline_obj in formset.save(commit=False):
            row_form = form_of.get(id(inline_obj))
            if inline_obj._state.adding:
                _stamp(inline_obj, request.user, reason)
                inline_obj.save()
            else:
                self._save_edit(request, inline_obj, row_form, reason)
        for deleted in formset.deleted_objects:
            _stamp(deleted, request.user, reason)
            deleted.delete()
        formset.save_m2m()

    def _save_edit(self, request, obj, form, reason: str, changes: dict | None = None):
        """Save an edited row, or for a published reviewed row start a draft revision of it."""
        expected = form.cleaned_data.get("base_version") if form is not None else None
        if isinstance(obj, ReviewedModel) and obj.state == WorkflowState.PUBLISHED:
            if changes is None:
                names = model_field_names(form) if form is not None else set()
                changes = {
                    name: form.cleaned_data[name]
                    for name in form.changed_data
                    if name in names and not obj._meta.get_field(name).many_to_many
                }
            published = type(obj)._base_manager.get(pk=obj.pk)
            revision = start_revision(
                item=published, by=request.user, changes=changes, reason=reason, expected_version=expected
            )
            if form is not None:
                # Many-to-many values of the form go to the revision, not the published row.
                form.instance = revision
            request._policyhub_revision = revision
            self.message_user(
                request,
                format_html(
                    "Your change was saved as a draft revision, <a href='{}'>{}</a>; the published version stays "
                    "in force until a reviewer approves the revision.",
                    admin_change_url(revision),
                    revision,
                ),
                messages.SUCCESS,
            )
            return revision
        save_versioned(obj, expected_version=expected, by=request.user, reason=reason)
        return obj

    def _save_revert(self, request, obj, form, reason: str):
        """Revert = a new change that gives the current row the old version's values; history stays."""
        old = obj.history.model.objects.get(history_id=request.resolver_match.args[-1])
        current = type(obj)._base_manager.get(pk=obj.pk)
        changes = {}
        for name in model_field_names(form):
            field = obj._meta.get_field(name)
            if not field.many_to_many and form.cleaned_data.get(name) != getattr(current, name):
                changes[name] = form.cleaned_data.get(name)
        form.instance = current
        if not changes:
            self.message_user(request, "The current version already has these values; nothing was changed.")
            return
        reason = reason or reason_text(f"Reverted to the version of {old.history_date:%Y-%m-%d %H:%M} UTC")
        if isinstance(current, ReviewedModel) and current.state == WorkflowState.PUBLISHED:
            self._save_edit(request, current, form, reason, changes=changes)
            return
        for name, value in changes.items():
            setattr(current, name, value)
        current.full_clean()
        save_versioned(current, expected_version=form.cleaned_data.get("base_version"), by=request.user, reason=reason)

    # --- History: field-level before/after, workflow fields included ---

    def set_history_delta_changes(self, request, historical_records, foreign_keys_are_objs=True):
        newer = None
        for record in historical_records:
            if newer is not None:
                newer.history_delta_changes = [
                    {"field": change.field, "old": change.old, "new": change.new}
                    for change in field_changes(self.model, record, newer)
                ]
            newer = record


class ReviewedAdmin(CuratedAdmin):
    """Admin of reviewed content (briefs, coverage criteria, documentation requirements).

    Workflow transitions are buttons on the change page and actions on the list, both running
    `policyhub.workflow` (which checks role, state and maker-checker on the server). Drafts are
    edited in place; saving a published item creates a draft revision; items in review or retired
    are read-only.
    """

    def get_readonly_fields(self, request, obj=None):
        readonly = tuple(super().get_readonly_fields(request, obj))
        return readonly + tuple(name for name in WORKFLOW_DISPLAY if name not in readonly)

    def has_change_permission(self, request, obj=None):
        if obj is not None and obj.state in (WorkflowState.IN_REVIEW, WorkflowState.RETIRED):
            return False
        return super().has_change_permission(request, obj)

    def has_delete_permission(self, request, obj=None):
        # Published content leaves by retirement (recorded, reviewed), not by deletion.
        if obj is not None and obj.state != WorkflowState.DRAFT and not self.has_publish_permission(request):
            return False
        return super().has_delete_permission(request, obj)

    def has_publish_permission(self, request) -> bool:
        return request.user.has_perm(publish_permission(self.model))

    def history_form_view(self, request, object_id, version_id, extra_context=None):
        if request.method == "POST" and not self.has_change_permission(request, self.get_object(request, object_id)):
            raise PermissionDenied
        return super().history_form_view(request, object_id, version_id, extra_context)

    def get_urls(self):
        info = self.opts.app_label, self.opts.model_name
        return [
            path(
                "<path:object_id>/workflow/",
                self.admin_site.admin_view(self.workflow_view),
                name="{}_{}_workflow".format(*info),
            ),
            *super().get_urls(),
        ]

    def get_actions(self, request):
        actions = super().get_actions(request)
        if self.actions is None or IS_POPUP_VAR in request.GET:
            return actions
        for transition in Transition:
            if request.user.has_perm(required_permission(transition, self.model)):
                name = f"workflow_{transition.value}"
                actions[name] = (
                    _transition_action(transition),
                    name,
                    f"{transition.label}: selected %(verbose_name_plural)s",
                )
        return actions

    def render_change_form(self, request, context, add=False, change=False, form_url="", obj=None):
        if obj is not None and obj.pk is not None:
            context["workflow"] = self.workflow_context(request, obj)
        # Submitting is a button of the change form itself, so the edits on the page are saved first.
        context["submit_for_review"] = self.has_change_permission(request, obj) and (
            obj is None or obj.pk is None or obj.state in (WorkflowState.DRAFT, WorkflowState.PUBLISHED)
        )
        return super().render_change_form(request, context, add, change, form_url, obj)

    def response_add(self, request, obj, post_url_continue=None):
        if SUBMIT_BUTTON in request.POST:
            return self._submit_saved(request, obj)
        return super().response_add(request, obj, post_url_continue)

    def response_change(self, request, obj):
        if SUBMIT_BUTTON in request.POST:
            return self._submit_saved(request, getattr(request, "_policyhub_revision", None) or obj)
        return super().response_change(request, obj)

    def _submit_saved(self, request, obj):
        """ "Save and submit for review": the form is saved; then its row (or the revision the save
        started) is submitted. A refused submission leaves the save in place and says why."""
        item = type(obj)._base_manager.get(pk=obj.pk)
        try:
            with transaction.atomic():
                apply_transition(Transition.SUBMIT, item=item, by=request.user)
        except (PermissionDenied, ValidationError, StaleVersion) as error:
            self.message_user(
                request, "Your changes were saved but not submitted. " + " ".join(_messages_of(error)), messages.ERROR
            )
        else:
            self.message_user(request, f"{obj_label(item)} was saved and submitted for review.", messages.SUCCESS)
        return HttpResponseRedirect(admin_change_url(item))

    def workflow_context(self, request, obj) -> dict:
        """The workflow panel of the change page: state, who/when, and the buttons this user may press."""
        buttons, notes = [], []
        for transition in Transition:
            source, _target = TRANSITIONS[transition]
            if obj.state != source or transition == Transition.SUBMIT and self.has_change_permission(request, obj):
                # A draft the user can edit is submitted with the change form's "Save and submit".
                continue
            problem = refusal(transition, item=obj, user=request.user)
            if problem is None:
                buttons.append((transition.value, transition.label))
            else:
                notes.append(" ".join(_messages_of(problem)))
        pending = pending_revision(obj) if obj.state == WorkflowState.PUBLISHED else None
        return {
            "url": reverse(f"admin:{self.opts.app_label}_{self.opts.model_name}_workflow", args=[obj.pk]),
            "item": obj,
            "version": obj.version,
            "buttons": buttons,
            "notes": notes,
            "pending": pending,
            "pending_url": admin_change_url(pending) if pending else "",
            "revision_of_url": admin_change_url(obj.revision_of) if obj.revision_of_id else "",
        }

    def workflow_view(self, request, object_id):
        """POST of a workflow button: run the transition, say what happened, show the resulting row."""
        if request.method != "POST":
            return HttpResponseNotAllowed(["POST"])
        with transaction.atomic():
            obj = self.get_object(request, unquote(object_id))
            if obj is None:
                return self._get_obj_does_not_exist_redirect(request, self.opts, object_id)
            if not self.has_view_permission(request, obj):
                raise PermissionDenied
            try:
                transition = Transition(request.POST.get("transition", ""))
            except ValueError:
                return HttpResponseBadRequest("Unknown workflow transition.")
            version = request.POST.get("base_version", "")
            try:
                result = apply_transition(
                    transition,
                    item=obj,
                    by=request.user,
                    comment=request.POST.get("comment", ""),
                    expected_version=int(version) if version.isdigit() else None,
                )
            except (PermissionDenied, ValidationError, StaleVersion) as error:
                self.message_user(request, " ".join(_messages_of(error)), messages.ERROR)
                return HttpResponseRedirect(admin_change_url(obj))
        self.message_user(request, f"{obj_label(result)}: {transition.label.lower()} done.", messages.SUCCESS)
        return HttpResponseRedirect(admin_change_url(result))

    def run_transition(self, request, queryset, transition: Transition):
        """Apply `transition` to every selected item, or to none when any of them is refused."""
        if transition == Transition.SEND_BACK and not request.POST.get("comment", "").strip():
            return self._ask_for_comment(request, queryset, transition)
        items = list(queryset.order_by("pk"))
        refused = []
        with transaction.atomic():
            for item in items:
                try:
                    apply_transition(transition, item=item, by=request.user, comment=request.POST.get("comment", ""))
                except (PermissionDenied, ValidationError, StaleVersion) as error:
                    refused.extend(_messages_of(error))
            if refused:
                transaction.set_rollback(True)
        if refused:
            self.message_user(request, "Nothing was changed. " + " ".join(refused), messages.ERROR)
        else:
            name = self.opts.verbose_name if len(items) == 1 else self.opts.verbose_name_plural
            self.message_user(request, f"{transition.label}: {len(items)} {name} done.", messages.SUCCESS)
        return None

    def _ask_for_comment(self, request, queryset, transition: Transition):
        context = {
            **self.admin_site.each_context(request),
            "title": f"{transition.label}: say what must change",
            "opts": self.opts,
            "items": list(queryset),
            "action": request.POST.get("action", ""),
            "selected": request.POST.getlist(helpers.ACTION_CHECKBOX_NAME),
            "selected_versions": request.POST.getlist(SELECTED_VERSION),
            "select_across": request.POST.get("select_across", "0"),
            "action_checkbox_name": helpers.ACTION_CHECKBOX_NAME,
            "selected_version_name": SELECTED_VERSION,
            "missing_comment": "post" in request.POST,
        }
        return TemplateResponse(request, "admin/workflow/comment.html", context)


def _transition_action(transition: Transition):
    def action(modeladmin, request, queryset):
        return modeladmin.run_transition(request, queryset, transition)

    action.__name__ = f"workflow_{transition.value}"
    return action


def _reverting(request) -> bool:
    match = getattr(request, "resolver_match", None)
    return bool(match and match.url_name and match.url_name.endswith("_simple_history"))


def _change_reason(form) -> str:
    cleaned = getattr(form, "cleaned_data", None) or {}
    return cleaned.get("change_reason", "") or ""


def _stamp(obj, user, reason: str) -> None:
    """Who and why, for a save that goes straight to `obj.save()` or `obj.delete()`."""
    if hasattr(obj, "changed_by_id"):
        obj.changed_by = user
    obj._history_user = user
    if reason:
        obj._change_reason = reason


def _messages_of(error: Exception) -> list[str]:
    if isinstance(error, ValidationError):
        return error.messages
    return [str(error)]


def admin_change_url(obj) -> str:
    return reverse(f"admin:{obj._meta.app_label}_{obj._meta.model_name}_change", args=[obj.pk])


class CuratedInlineForm(VersionedModelForm):
    """An inline row that also checks the constraints involving its parent (and its version).

    Django leaves the inline foreign key out of model validation, so a constraint on it (one
    'no modifier' row per code, a code not related to itself) would otherwise only fail in the
    database, as a server error.
    """

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
        return form

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


class CuratedInline(admin.TabularInline):
    form = CuratedInlineForm
    formset = CuratedInlineFormSet
    formfield_overrides = URL_FIELDS
    extra = 0
    show_change_link = True

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
        return formset
