"""The user admin: roles decide admin access, and users are deactivated, never deleted.

Staff status is not a separate checkbox to forget: it follows the user's role groups
(`policyhub.roles.set_roles`). Deleting a user would drop their admin log and leave the history they
wrote pointing at nobody, so people who leave are deactivated instead.
"""

from django.contrib import admin, messages
from django.contrib.auth import get_user_model
from django.contrib.auth.admin import UserAdmin
from django.http import HttpResponseRedirect
from django.urls import reverse

from policyhub.roles import ROLES, set_roles

User = get_user_model()

admin.site.unregister(User)


@admin.register(User)
class PolicyHubUserAdmin(UserAdmin):
    actions = ["deactivate"]

    def get_readonly_fields(self, request, obj=None):
        return (*super().get_readonly_fields(request, obj), "is_staff")

    def save_related(self, request, form, formsets, change):
        super().save_related(request, form, formsets, change)
        user = form.instance
        set_roles(user=user, roles=user.groups.filter(name__in=ROLES).values_list("name", flat=True))

    def has_delete_permission(self, request, obj=None):
        return False

    def delete_view(self, request, object_id, extra_context=None):
        self.message_user(
            request,
            "Users are not deleted: their name stays on the history they wrote. Untick “Active” to deactivate "
            "the account instead.",
            messages.ERROR,
        )
        return HttpResponseRedirect(reverse("admin:auth_user_change", args=[object_id]))

    @admin.action(description="Deactivate selected users (they can no longer log in)", permissions=["change"])
    def deactivate(self, request, queryset):
        count = queryset.exclude(pk=request.user.pk).update(is_active=False)
        self.message_user(request, f"{count} user(s) deactivated; their history stays.", messages.SUCCESS)
