"""Who may read PolicyHub: the one rule behind every page, download and API call.

Reading needs the Viewer role or a higher one. Every role holds the permission named by
`settings.READ_PERMISSION` (view the billing-code catalogue), and so does a user given it
explicitly; superusers hold every permission. An API token acts as its user, so a token stops
working for reading as soon as its user loses the permission.

Pages use `ReadAccessMixin` (anonymous visitors go to the login form, logged-in users without the
permission get the 403 page), the API uses `CanRead` (the default permission class in
`REST_FRAMEWORK`).
"""

import functools

from axes.helpers import get_client_username, get_cool_off
from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.mixins import LoginRequiredMixin
from django.contrib.auth.models import Group, Permission
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import PermissionDenied
from django.db import connection
from django.shortcuts import render
from rest_framework.permissions import BasePermission


def can_read(user) -> bool:
    """True for an active user holding the read permission (through a role, directly, or as superuser).

    One statement, remembered on the user object for the rest of the request (`has_perm` would load
    all of the user's and their groups' permissions in two). An API token's user arrives with it
    already known (`policyhub.authentication`, which asks in the token's own statement).
    """
    if not (user and user.is_active):
        return False
    if user.is_superuser:
        return True
    if not hasattr(user, READ_FLAG):
        with connection.cursor() as cursor:
            cursor.execute(f"SELECT {holds_read_permission_sql('%(user)s')}", read_permission_params(user=user.pk))
            remember_can_read(user, cursor.fetchone()[0])
    return getattr(user, READ_FLAG)


# Where `can_read` remembers its answer on a user object, for the rest of the request.
READ_FLAG = "_can_read"


def remember_can_read(user, holds: bool) -> None:
    setattr(user, READ_FLAG, bool(holds))


def read_permission_params(**params) -> dict:
    """`params` and the read permission's app label and codename, the parameters of
    `holds_read_permission_sql`."""
    app_label, codename = settings.READ_PERMISSION.split(".")
    return {**params, "app_label": app_label, "codename": codename}


@functools.cache
def holds_read_permission_sql(user: str) -> str:
    """A boolean SQL expression: whether the user whose id is `user` (a placeholder or a column)
    holds permission %(app_label)s.%(codename)s, directly or through a group.

    Written out, not built with the ORM: it runs on every API call and page, and the ORM's version
    (an OR of two joins) took 1.4 ms to compile and run, this 0.7 ms (docs/bench.md).
    """
    user_model = get_user_model()
    quote = connection.ops.quote_name

    def table(model) -> str:
        return quote(model._meta.db_table)

    def column(model, field: str) -> str:
        return quote(model._meta.get_field(field).column)

    direct = user_model.user_permissions.through
    member = user_model.groups.through
    granted = Group.permissions.through

    def holds(rows: str, user_column: str, permission_column: str) -> str:
        return (
            f"EXISTS (SELECT 1 FROM {rows} JOIN {table(Permission)} p ON p.id = {permission_column} "  # noqa: S608 - names from the models
            f"JOIN {table(ContentType)} ct ON ct.id = p.{column(Permission, 'content_type')} "
            f"WHERE {user_column} = {user} AND p.codename = %(codename)s AND ct.app_label = %(app_label)s)"
        )

    through_group = (
        f"{table(member)} m JOIN {table(granted)} g ON g.{column(granted, 'group')} = m.{column(member, 'group')}"
    )
    directly = holds(f"{table(direct)} d", f"d.{column(direct, 'user')}", f"d.{column(direct, 'permission')}")
    by_group = holds(through_group, f"m.{column(member, 'user')}", f"g.{column(granted, 'permission')}")
    return f"({directly} OR {by_group})"


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


# The length of the column django-axes keeps a failed login's username in (`AccessAttempt.username`).
AXES_USERNAME_LENGTH = 255


def attempted_username(request, credentials: dict | None = None) -> str | None:
    """The username django-axes records for a login (its `AXES_USERNAME_CALLABLE`): what was typed,
    as axes reads it, cut to the column it keeps it in. A longer one failed the insert: on
    PostgreSQL, anyone could make the login pages answer 500. No username is that long (Django's
    are at most 150 characters), so cutting it changes whose attempts are counted for nobody."""
    field = settings.AXES_USERNAME_FORM_FIELD
    username = credentials.get(field) if credentials else getattr(request, "data", request.POST).get(field)
    return username[:AXES_USERNAME_LENGTH] if isinstance(username, str) else username
