"""Who may read PolicyHub: the one rule behind every page, download and API call.

Reading needs the Viewer role or a higher one. Every role holds the permission named by
`settings.READ_PERMISSION` (view the billing-code catalogue), and so does a user given it
explicitly; superusers hold every permission. An API token acts as its user, so a token stops
working for reading as soon as its user loses the permission.

Pages use `ReadAccessMixin` (anonymous visitors go to the login form, logged-in users without the
permission get the 403 page), the API uses `CanRead` (the default permission class in
`REST_FRAMEWORK`).
"""

from axes.helpers import get_client_username, get_cool_off
from django.conf import settings
from django.contrib.auth.mixins import LoginRequiredMixin
from django.contrib.auth.models import Permission
from django.core.exceptions import PermissionDenied
from django.db.models import Q
from django.shortcuts import render
from rest_framework.permissions import BasePermission


def can_read(user) -> bool:
    """True for an active user holding the read permission (through a role, directly, or as superuser).

    One query, remembered on the user object for the rest of the request (`has_perm` would load
    all of the user's and their groups' permissions in two).
    """
    if not (user and user.is_active):
        return False
    if user.is_superuser:
        return True
    if not hasattr(user, "_can_read"):
        app_label, codename = settings.READ_PERMISSION.split(".")
        user._can_read = (
            Permission.objects.filter(Q(user=user) | Q(group__user=user), content_type__app_label=app_label)
            .filter(codename=codename)
            .exists()
        )
    return user._can_read


def no_access_message() -> str:
    """What a logged-in user without a role is told: what they lack and whom to ask."""
    return (
        f"Your account has no PolicyHub role. Ask {settings.ACCESS_CONTACT} to give you the Viewer role "
        "(or a curator role) to read codes, payers and coverage."
    )


class ReadAccessMixin(LoginRequiredMixin):
    """Pages and downloads: a login and the read permission."""

    def dispatch(self, request, *args, **kwargs):
        if request.user.is_authenticated and not can_read(request.user):
            raise PermissionDenied(no_access_message())
        return super().dispatch(request, *args, **kwargs)


class CanRead(BasePermission):
    """API: the token's or session's user must hold the read permission (anonymous requests answer 401)."""

    @property
    def message(self):
        return no_access_message()

    def has_permission(self, request, view):
        return can_read(request.user)


def lockout_response(request, original_response=None, credentials=None):
    """django-axes' lockout page (AXES_LOCKOUT_CALLABLE): 429 in the site's layout, saying for how long."""
    cool_off = get_cool_off(request)
    context = {
        "failure_limit": settings.AXES_FAILURE_LIMIT,
        "username": get_client_username(request, credentials) or "",
        "cooloff_minutes": round(cool_off.total_seconds() / 60) if cool_off else None,
    }
    return render(request, "registration/locked_out.html", context, status=429)
