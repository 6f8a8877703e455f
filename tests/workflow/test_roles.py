"""The three roles exist as groups with exactly the permissions their work needs."""

import pytest
from django.contrib.auth.models import Group

from policyhub.roles import EDITOR, REVIEWER, VIEWER, assign_role, sync_roles

pytestmark = pytest.mark.django_db


def perms(role):
    group = Group.objects.get(name=role)
    return {f"{p.content_type.app_label}.{p.codename}" for p in group.permissions.select_related("content_type")}


def test_groups_hold_the_role_permissions(roles):
    editor, reviewer, viewer = perms(EDITOR), perms(REVIEWER), perms(VIEWER)
    assert {"codes.change_codebrief", "payers.add_coveragecriterion", "payers.change_followupgap"} <= editor
    assert not {p for p in editor if ".publish_" in p}, "editors must not approve"
    assert {
        "codes.publish_codebrief",
        "payers.publish_coveragecriterion",
        "payers.publish_documentationrequirement",
    } <= (reviewer)
    assert editor < reviewer
    assert viewer and all(p.split(".")[1].startswith("view_") for p in viewer)
    assert "policyhub.view_apitoken" not in viewer


def test_sync_is_idempotent(roles):
    before = {role: perms(role) for role in (EDITOR, REVIEWER, VIEWER)}
    sync_roles()
    assert {role: perms(role) for role in (EDITOR, REVIEWER, VIEWER)} == before
    assert Group.objects.filter(name__in=[EDITOR, REVIEWER, VIEWER]).count() == 3


def test_assign_role_switches_role_and_staff_flag(make_user):
    user = make_user("casey", REVIEWER)
    assert user.is_staff and user.has_perm("codes.publish_codebrief")
    assign_role(user=user, role=VIEWER)
    user = type(user).objects.get(pk=user.pk)
    assert not user.is_staff
    assert list(user.groups.values_list("name", flat=True)) == [VIEWER]
    assert not user.has_perm("codes.change_codebrief") and user.has_perm("codes.view_codebrief")
    with pytest.raises(ValueError, match="Unknown role 'Boss'"):
        assign_role(user=user, role="Boss")


@pytest.mark.django_db(transaction=True)
def test_roles_come_back_after_the_database_is_emptied():
    """`manage.py flush` empties auth_group too; every migrate and flush recreates the role groups,
    so a flushed database still lets users be given roles."""
    from django.core.management import call_command

    call_command("flush", interactive=False, verbosity=0)
    assert set(Group.objects.values_list("name", flat=True)) >= {EDITOR, REVIEWER, VIEWER}
    assert "payers.publish_coveragecriterion" in perms(REVIEWER)
