"""The system account: the named user that approves what PolicyHub loads itself (demo data, imports, gap detection)."""

from django.contrib.auth import get_user_model

SYSTEM_USERNAME = "policyhub-system"


def system_user():
    """The named account that approves content loaded by the system (demo data, imports)."""
    user, created = get_user_model().objects.get_or_create(
        username=SYSTEM_USERNAME,
        defaults={"first_name": "PolicyHub", "last_name": "System", "is_active": False},
    )
    if created:
        user.set_unusable_password()
        user.save(update_fields=["password"])
    return user
