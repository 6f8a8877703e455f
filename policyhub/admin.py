"""Shared admin bases: who-changed-it bookkeeping, history, conflict-safe saves, the editorial
workflow of reviewed content, and cheap change lists."""

from django import forms
from django.conf import settings
from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.contrib.admin.utils import unquote
from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.http import Http404, HttpResponseRedirect
from django.urls import reverse
from django.utils.functional import cached_property
from django.utils.html import format_html
from simple_history.admin import SimpleHistoryAdmin

from policyhub import (
    admin_tokens,  # noqa: F401  (registers the API token admin)
    admin_users,  # noqa: F401  (registers the user admin)
    admin_webhooks,  # noqa: F401  (registers the webhook admin)
)
from policyhub.admin_inlines import URL_FIELDS, HeldAutocompleteFields
from policyhub.choices import WorkflowState
from policyhub.forms import (
    EDIT_FIELDS,
    ChangelistVersionedForm,
    CuratedModelForm,
    is_key,
    model_field_names,
    versioned_form_class,
)
from policyhub.models import ReviewedModel
from policyhub.paginators import CappedCountPaginator, count_up_to
from policyhub.revisions import revert, save_edit
from policyhub.versioning import StaleVersion, field_changes
from policyhub.workflow import published_references

# Hidden input next to each change-list checkbox: "<pk>:<version>" as the curator saw the row.
SELECTED_VERSION = "_selected_version"

admin.site.site_header = "PolicyHub curation"
admin.site.site_title = "PolicyHub admin"
admin.site.index_title = "Curate codes, payers and coverage"


class EstimatedCountPaginator(CappedCountPaginator):
    """Avoids an exact COUNT(*) over big tables on PostgreSQL.

    The planner's estimate is good enough for "page 1 of ~2,000": unfiltered lists read the
    table's statistics, filtered and searched ones count exactly up to 1,000 rows and estimate
    above (`CappedCountPaginator`): a curator pages through a few hundred rows at most.
    """

    EXACT_BELOW = 10_000
    EXACT_UP_TO = 1_000

    @cached_property
    def counted(self) -> tuple[int, bool]:
        query = self.object_list.query
        if connection.vendor == "postgresql" and not query.where:
            with connection.cursor() as cursor:
                cursor.execute(
                    "SELECT reltuples::bigint FROM pg_class WHERE oid = %s::regclass",
                    [self.object_list.model._meta.db_table],
                )
                row = cursor.fetchone()
            if row and row[0] >= self.EXACT_BELOW:
                return int(row[0]), False
        return super().counted


class CuratedAdmin(HeldAutocompleteFields, SimpleHistoryAdmin):
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

    def history_view(self, request, object_id, extra_context=None):
        if not is_key(self.model._meta.pk, unquote(object_id)):
            # As the change page: "… with ID “abc” doesn't exist", not a 500 from simple-history's query.
            return self._get_obj_does_not_exist_redirect(request, self.opts, object_id)
        return super().history_view(request, object_id, extra_context)

    def history_form_view(self, request, object_id, version_id, extra_context=None):
        if not is_key(self.model._meta.pk, unquote(object_id)):
            return self._get_obj_does_not_exist_redirect(request, self.opts, object_id)
        if not is_key(self.model.history.model._meta.pk, version_id):
            raise Http404(f"No version “{version_id}” of this {self.opts.verbose_name}.")
        try:
            with transaction.atomic():
                return super().history_form_view(request, object_id, version_id, extra_context)
        except (StaleVersion, ValidationError) as error:
            return self._refused(request, error)

    def response_action(self, request, queryset):
        refusal = self._unknown_selection(request) or self._too_many_selected(request, queryset)
        stale = [] if refusal else self._stale_selection(request)
        if refusal or stale:
            self.message_user(
                request, " ".join(["Nothing was done.", *([refusal] if refusal else stale)]), messages.ERROR
            )
            return HttpResponseRedirect(request.get_full_path())
        return super().response_action(request, queryset)

    def _unknown_selection(self, request) -> str | None:
        """Why the ticked rows cannot be rows of this list (a hand-made or damaged post), or None.

        Django filters the list by the ticked keys as they come: "abc" for a numeric key was a 500.
        """
        if forms.BooleanField(required=False).clean(request.POST.get("select_across")):
            return None  # "Select all" acts on the filtered list, whatever is ticked
        for value in request.POST.getlist(helpers.ACTION_CHECKBOX_NAME):
            if not is_key(self.model._meta.pk, value):
                return (
                    f"The selection holds “{value[:40]}”, which is not a {self.model._meta.verbose_name} of this "
                    "list: reload the list and select again."
                )
        return None

    def _too_many_selected(self, request, queryset) -> str | None:
        """Why the selection is too large for one action (`ADMIN_ACTION_MAX_ROWS`), or None.

        "Select all" acts on the change list's whole filtered queryset: counted only up to the limit.
        """
        limit = settings.ADMIN_ACTION_MAX_ROWS
        if forms.BooleanField(required=False).clean(request.POST.get("select_across")):
            if count_up_to(queryset, limit) <= limit:
                return None
            selected = f"more than {limit:,}"
        else:
            count = len(request.POST.getlist(helpers.ACTION_CHECKBOX_NAME))
            if count <= limit:
                return None
            selected = f"{count:,}"
        return (
            f"An action takes at most {limit:,} {self.model._meta.verbose_name_plural} at a time and {selected} "
            "were selected: narrow the list with its filters or search first."
        )

    def response_change(self, request, obj):
        revision = getattr(request, "_policyhub_revision", None)
        if revision is None:
            return super().response_change(request, obj)
        return HttpResponseRedirect(admin_change_url(revision))

    def _refused(self, request, error):
        self.message_user(request, " ".join(error_messages(error)), messages.ERROR)
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
        # refuse the deletion (single or bulk) and say which published rows use them (a few per
        # relation). Looked for first: a refused deletion need not collect every row it would have
        # taken along. A payer with 40,000 criteria took 48 s and a 6 MB page listing each of them.
        published = [reference for obj in objs for reference in published_references(obj)]
        if published:
            return [], {}, set(), published
        return super().get_deleted_objects(objs, request)

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

    def _save_edit(self, request, obj, form, reason: str):
        """Save an edited row through the workflow service (a published reviewed row gets a draft revision)."""
        expected = form.cleaned_data.get("base_version") if form is not None else None
        changes = None
        if isinstance(obj, ReviewedModel) and obj.state == WorkflowState.PUBLISHED and form is not None:
            names = model_field_names(form)
            changes = {
                name: form.cleaned_data[name]
                for name in form.changed_data
                if name in names and not obj._meta.get_field(name).many_to_many
            }
        saved = save_edit(item=obj, by=request.user, changes=changes, reason=reason, expected_version=expected)
        self._follow(request, obj, form, saved)

    def _save_revert(self, request, obj, form, reason: str):
        """Revert = a new change that gives the current row the old version's values (revisions.revert)."""
        old = obj.history.model.objects.get(history_id=request.resolver_match.args[-1])
        values = {
            name: form.cleaned_data.get(name)
            for name in model_field_names(form)
            if not obj._meta.get_field(name).many_to_many
        }
        saved = revert(
            item=obj,
            by=request.user,
            values=values,
            version_date=old.history_date,
            reason=reason,
            expected_version=form.cleaned_data.get("base_version"),
        )
        if saved is None:
            form.instance = type(obj)._base_manager.get(pk=obj.pk)
            self.message_user(request, "The current version already has these values; nothing was changed.")
            return
        self._follow(request, obj, form, saved)

    def _follow(self, request, obj, form, saved):
        """Point the form (its many-to-many values) at the row saved; announce a new draft revision."""
        if form is not None:
            form.instance = saved
        if saved.pk == obj.pk:
            return
        request._policyhub_revision = saved
        self.message_user(
            request,
            format_html(
                "Your change was saved as a draft revision, <a href='{}'>{}</a>; the published version stays "
                "in force until a reviewer approves the revision.",
                admin_change_url(saved),
                saved,
            ),
            messages.SUCCESS,
        )

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


def error_messages(error: Exception) -> list[str]:
    if isinstance(error, ValidationError):
        return error.messages
    return [str(error)]


def admin_change_url(obj) -> str:
    return reverse(f"admin:{obj._meta.app_label}_{obj._meta.model_name}_change", args=[obj.pk])
