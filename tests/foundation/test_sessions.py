"""Browser sessions (policyhub/sessions.py): Django's rules, each look-up one statement.

A reader's request finds its session, then its user together with the read permission; whatever
ends a session in Django (expiry, logout, deactivation, deletion, a password change) still ends it.
"""

import datetime

import pytest
from django.contrib.sessions.models import Session
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from tests.factories import UserFactory
from tests.migrations import upgraded_from

pytestmark = pytest.mark.django_db

PAGE = "/payers/"
API = "/api/v1/payers/"


def logged_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def sent_to_login(response) -> bool:
    return response.status_code == 302 and response["Location"].startswith("/accounts/login/")


def test_a_reader_is_found_in_two_statements(reader):
    """The session row, then the user with their read permission: no third look-up for the permission."""
    client = logged_in(reader)
    with CaptureQueriesContext(connection) as queries:
        assert client.get(API).status_code == 200
    sql = [query["sql"] for query in queries.captured_queries]
    assert sum("django_session" in statement for statement in sql) == 1
    # The user's own columns and the permission check in one statement.
    assert sum('"username"' in statement and "auth_permission" in statement for statement in sql) == 1
    assert sum("auth_permission" in statement for statement in sql) == 1
    assert sum('FROM "auth_user"' in statement for statement in sql) == 1  # no second read of the user


def test_a_user_without_a_role_is_refused(db):
    client = logged_in(UserFactory(username="no-role"))
    assert client.get(PAGE).status_code == 403
    assert client.get(API).status_code == 403


def test_an_expired_session_is_no_session(reader):
    client = logged_in(reader)
    assert client.get(PAGE).status_code == 200
    Session.objects.update(expire_date=timezone.now() - datetime.timedelta(seconds=1))
    assert sent_to_login(client.get(PAGE))
    assert client.get(API).status_code in (401, 403)


def test_a_session_about_to_expire_still_works(reader):
    client = logged_in(reader)
    Session.objects.update(expire_date=timezone.now() + datetime.timedelta(minutes=1))
    assert client.get(PAGE).status_code == 200


def test_logout_ends_the_session(reader):
    client = logged_in(reader)
    assert client.post("/accounts/logout/").status_code in (200, 302)
    assert sent_to_login(client.get(PAGE))


def test_a_deactivated_user_is_logged_out(reader):
    client = logged_in(reader)
    reader.is_active = False
    reader.save()
    assert sent_to_login(client.get(PAGE))


def test_a_deleted_user_is_logged_out(reader):
    client = logged_in(reader)
    reader.delete()
    assert sent_to_login(client.get(PAGE))


def test_a_password_change_ends_the_users_sessions(reader):
    first, second = logged_in(reader), logged_in(reader)
    assert first.get(PAGE).status_code == 200 and second.get(PAGE).status_code == 200
    reader.set_password("a-new-password-456")
    reader.save()
    assert sent_to_login(first.get(PAGE))
    assert sent_to_login(second.get(PAGE))


def test_someone_elses_session_key_is_not_accepted(reader):
    client = logged_in(reader)
    client.cookies["sessionid"] = "not-a-session-key-of-this-server"
    assert sent_to_login(client.get(PAGE))


@pytest.mark.django_db(transaction=True)
def test_sessions_from_before_the_upgrade_stay_logged_in(reader):
    """A session logged in by Django's own backend, before migration 0007, still reads afterwards."""
    with upgraded_from("policyhub", "0006_i11_request_counts"):
        client = Client()
        client.force_login(reader, backend="django.contrib.auth.backends.ModelBackend")
    assert client.get(PAGE).status_code == 200
    assert client.get(API).status_code == 200
