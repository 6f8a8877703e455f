"""The review pages of the admin: the queue of change sets, and one code's change set as a diff with
its submit, approve and send-back buttons. Thin: every rule is in `briefs.change_sets`."""

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.views.decorators.http import require_POST

from briefs.change_sets import (
    approval_refusal,
    approve_change_set,
    change_set,
    drafts_of,
    review_queue,
    reviewed_alone,
    send_back_change_set,
    submit_change_set,
)
from codes.models import BillingCode
from policyhub.versioning import StaleVersion


def queue_view(request):
    context = {
        **admin.site.each_context(request),
        "title": "Review queue",
        "queue": review_queue(),
        "alone": reviewed_alone(),
        "my_drafts": drafts_of(request.user),
    }
    return TemplateResponse(request, "admin/review/queue.html", context)


def change_set_view(request, code):
    billing_code = get_object_or_404(BillingCode, code=code)
    pending = change_set(billing_code, compared=True)
    context = {
        **admin.site.each_context(request),
        "title": f"Change set of {billing_code.code}",
        "code": billing_code,
        "change_set": pending,
        "approval_refusal": _text(approval_refusal(pending, request.user)) if pending.in_review else "",
    }
    return TemplateResponse(request, "admin/review/change_set.html", context)


@require_POST
def transition_view(request, code):
    billing_code = get_object_or_404(BillingCode, code=code)
    action = request.POST.get("action", "")
    comment = request.POST.get("comment", "")
    services = {
        "submit": lambda: submit_change_set(code=billing_code, by=request.user),
        "approve": lambda: approve_change_set(code=billing_code, by=request.user, reason=comment),
        "send_back": lambda: send_back_change_set(code=billing_code, by=request.user, comment=comment),
    }
    if action not in services:
        messages.error(request, "Unknown review action.")
        return HttpResponseRedirect(reverse("admin_review:change_set", args=[code]))
    try:
        services[action]()
    except (PermissionDenied, ValidationError, StaleVersion) as error:
        messages.error(request, f"Nothing was changed. {_text(error)}")
        return HttpResponseRedirect(reverse("admin_review:change_set", args=[code]))
    done = {"submit": "submitted for review", "approve": "approved and published", "send_back": "sent back"}
    messages.success(request, f"The change set of {billing_code.code} was {done[action]}.")
    if action == "approve":
        return HttpResponseRedirect(reverse("admin_review:queue"))
    return HttpResponseRedirect(reverse("admin_review:change_set", args=[code]))


def _text(error: Exception | None) -> str:
    if error is None:
        return ""
    return " ".join(error.messages) if isinstance(error, ValidationError) else str(error)


app_name = "admin_review"
urlpatterns = [
    path("", admin.site.admin_view(queue_view), name="queue"),
    path("<str:code>/", admin.site.admin_view(change_set_view), name="change_set"),
    path("<str:code>/transition/", admin.site.admin_view(transition_view), name="transition"),
]
