"""The admin of reviewed content: workflow buttons on the change page and actions on the list.

Every transition runs `policyhub.workflow`, which checks role, state and maker-checker itself.
"""

from django.contrib import messages
from django.contrib.admin import helpers
from django.contrib.admin.options import IS_POPUP_VAR
from django.contrib.admin.utils import unquote
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.http import HttpResponseBadRequest, HttpResponseNotAllowed, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import path, reverse

from policyhub.admin import SELECTED_VERSION, CuratedAdmin, admin_change_url, error_messages
from policyhub.choices import WorkflowState
from policyhub.versioning import StaleVersion, obj_label
from policyhub.workflow import (
    TRANSITIONS,
    WORKFLOW_FIELDS,
    Transition,
    apply_to_each,
    apply_transition,
    pending_revision,
    publish_permission,
    refusal,
    required_permission,
)

# The workflow section of a reviewed model's change page (ReviewedAdmin makes its fields read-only).
WORKFLOW_FIELDSET = ("Workflow", {"fields": WORKFLOW_FIELDS})
# The change form's "Save and submit for review" button.
SUBMIT_BUTTON = "_submit_for_review"


class ReviewedAdmin(CuratedAdmin):
    """Admin of reviewed content (a code's brief text and catalogue parts, coverage criteria, documentation).

    Workflow transitions are buttons on the change page and actions on the list, both running
    `policyhub.workflow` (which checks role, state and maker-checker on the server). Drafts are
    edited in place; saving a published item creates a draft revision; items in review or retired
    are read-only.
    """

    def get_readonly_fields(self, request, obj=None):
        readonly = tuple(super().get_readonly_fields(request, obj))
        return readonly + tuple(name for name in WORKFLOW_FIELDS if name not in readonly)

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
            # Saving published content started a draft revision (revisions.save_edit); that is what is submitted.
            return self._submit_saved(request, getattr(request, "_policyhub_revision", None) or obj)
        return super().response_change(request, obj)

    def _submit_saved(self, request, obj):
        """ "Save and submit for review": the form is saved; then its row (or the revision the save
        started) is submitted. A refused submission leaves the save in place and says why."""
        item = type(obj)._base_manager.get(pk=obj.pk)
        try:
            with transaction.atomic():
                apply_transition(transition=Transition.SUBMIT, item=item, by=request.user)
        except (PermissionDenied, ValidationError, StaleVersion) as error:
            self.message_user(
                request, "Your changes were saved but not submitted. " + " ".join(error_messages(error)), messages.ERROR
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
                notes.append(" ".join(error_messages(problem)))
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
                    transition=transition,
                    item=obj,
                    by=request.user,
                    comment=request.POST.get("comment", ""),
                    expected_version=int(version) if version.isdigit() else None,
                )
            except (PermissionDenied, ValidationError, StaleVersion) as error:
                self.message_user(request, " ".join(error_messages(error)), messages.ERROR)
                return HttpResponseRedirect(admin_change_url(obj))
        self.message_user(request, f"{obj_label(result)} was {transition.outcome}.", messages.SUCCESS)
        return HttpResponseRedirect(admin_change_url(result))

    def run_transition(self, request, queryset, transition: Transition):
        """Apply `transition` to every selected item, or to none when any of them is refused."""
        if transition == Transition.SEND_BACK and not request.POST.get("comment", "").strip():
            return self._ask_for_comment(request, queryset, transition)
        items = list(queryset.order_by("pk"))
        try:
            apply_to_each(transition=transition, items=items, by=request.user, comment=request.POST.get("comment", ""))
        except ValidationError as error:
            self.message_user(request, "Nothing was changed. " + " ".join(error_messages(error)), messages.ERROR)
        else:
            name, verb = (self.opts.verbose_name, "was") if len(items) == 1 else (self.opts.verbose_name_plural, "were")
            self.message_user(request, f"{len(items)} {name} {verb} {transition.outcome}.", messages.SUCCESS)
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
