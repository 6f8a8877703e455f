"""Roles decide admin access: a role makes a user staff, losing every role takes it away, through the
user admin page or `manage.py assign_role`; users are deactivated, never deleted."""

import pytest
from django.contrib.auth.models import Group
from django.core.management import CommandError, call_command
from django.test import Client

from policyhub.roles import EDITOR, REVIEWER, VIEWER
from tests.workflow.adminpages import form_data, messages_of, page_errors

pytestmark = pytest.mark.django_db


@pytest.fixture
def newcomer(django_user_model, roles):
    return django_user_model.objects.create_user(username="nina", password="pw-nina-123")


def change_user(client, user, **changes):
    url = f"/admin/auth/user/{user.pk}/change/"
    data = form_data(client.get(url), **changes)
    joined = data.pop("date_joined")  # a split date/time widget posts two fields
    data.update(date_joined_0=f"{joined:%Y-%m-%d}", date_joined_1=f"{joined:%H:%M:%S}")
    response = client.post(url, data)
    assert response.status_code == 302, page_errors(response)
    user.refresh_from_db()
    return user


def can_log_in(user) -> bool:
    client = Client()
    response = client.post("/admin/login/?next=/admin/", {"username": user.username, "password": "pw-nina-123"})
    return response.status_code == 302


class TestUserAdmin:
    def test_giving_a_role_on_the_user_page_grants_admin_access(self, newcomer, staff_client):
        assert not can_log_in(newcomer)
        user = change_user(staff_client, newcomer, groups=[str(Group.objects.get(name=EDITOR).pk)])
        assert user.is_staff
        assert can_log_in(user)

    def test_removing_every_role_removes_admin_access(self, newcomer, staff_client):
        change_user(staff_client, newcomer, groups=[str(Group.objects.get(name=REVIEWER).pk)])
        user = change_user(staff_client, newcomer, groups=[])
        assert not user.is_staff
        assert not can_log_in(user)

    def test_a_viewer_is_not_staff(self, newcomer, staff_client):
        user = change_user(staff_client, newcomer, groups=[str(Group.objects.get(name=VIEWER).pk)])
        assert not user.is_staff

    def test_users_are_deactivated_not_deleted(self, newcomer, staff_client):
        response = staff_client.post(f"/admin/auth/user/{newcomer.pk}/delete/", {"post": "yes"}, follow=True)
        assert "Untick “Active” to deactivate" in messages_of(response)
        newcomer.refresh_from_db()
        response = staff_client.post(
            "/admin/auth/user/", {"action": "deactivate", "_selected_action": [newcomer.pk]}, follow=True
        )
        assert "1 user(s) deactivated" in messages_of(response)
        newcomer.refresh_from_db()
        assert not newcomer.is_active


class TestAssignRoleCommand:
    def test_assign_role_makes_staff_and_none_removes_it(self, newcomer, capsys):
        call_command("assign_role", "nina", "editor")
        newcomer.refresh_from_db()
        assert newcomer.is_staff and list(newcomer.groups.values_list("name", flat=True)) == [EDITOR]
        assert "nina: Policy editor; staff: yes." in capsys.readouterr().out

        call_command("assign_role", "nina", "--none")
        newcomer.refresh_from_db()
        assert not newcomer.is_staff and not newcomer.groups.exists()

    def test_unknown_role_or_user_is_a_clear_error(self, newcomer):
        with pytest.raises(CommandError, match="Unknown role 'Boss'"):
            call_command("assign_role", "nina", "Boss")
        with pytest.raises(CommandError, match="No user named 'nobody'"):
            call_command("assign_role", "nobody", "editor")
        with pytest.raises(CommandError, match="Name at least one role"):
            call_command("assign_role", "nina")
