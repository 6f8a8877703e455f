"""Login throttling (django-axes): a username is locked out from an address after five wrong
passwords, even with the right one, until the cool-off ends or an administrator unlocks it."""

import pytest
from axes.models import AccessAttempt, AccessFailureLog
from django.test import Client
from django.urls import reverse

from policyhub.roles import VIEWER, assign_role

pytestmark = pytest.mark.django_db

PASSWORD = "pw-reader-123"


@pytest.fixture
def reader(django_user_model):
    user = django_user_model.objects.create_user("reader", password=PASSWORD)
    assign_role(user=user, role=VIEWER)
    return user


def log_in(client, password, url="login"):
    return client.post(reverse(url), {"username": "reader", "password": password})


def test_five_failures_lock_the_login_even_with_the_right_password(reader):
    """Four wrong passwords answer the form again; the fifth locks out; the right password is then refused too."""
    client = Client()
    for _ in range(4):
        response = log_in(client, "wrong")
        assert response.status_code == 200
        assert b"Please enter a correct username and password" in response.content
    locked = log_in(client, "wrong")
    assert locked.status_code == 429
    text = locked.content.decode()
    assert "Too many failed logins" in text and "15 minutes" in text and "reader" in text
    assert log_in(client, PASSWORD).status_code == 429
    assert log_in(client, PASSWORD, url="admin:login").status_code == 429
    assert AccessFailureLog.objects.filter(username="reader").count() >= 5


def test_another_address_is_not_locked(reader):
    """The lockout is for the username from that address: the same user elsewhere still logs in."""
    client = Client()
    for _ in range(5):
        log_in(client, "wrong")
    elsewhere = Client(REMOTE_ADDR="10.0.0.9")
    assert log_in(elsewhere, PASSWORD).status_code == 302


def test_administrator_unlocks_in_the_admin(reader, admin_client):
    """Deleting the access attempt in the admin lifts the lockout at once."""
    client = Client()
    for _ in range(5):
        log_in(client, "wrong")
    assert log_in(client, PASSWORD).status_code == 429
    attempt = AccessAttempt.objects.get(username="reader")
    assert admin_client.get(reverse("admin:axes_accessattempt_changelist")).status_code == 200
    response = admin_client.post(reverse("admin:axes_accessattempt_delete", args=[attempt.pk]), {"post": "yes"})
    assert response.status_code == 302
    assert log_in(client, PASSWORD).status_code == 302


def test_limit_comes_from_settings(reader, settings):
    """AXES_FAILURE_LIMIT sets how many failures lock the login."""
    settings.AXES_FAILURE_LIMIT = 2
    client = Client()
    assert log_in(client, "wrong").status_code == 200
    assert log_in(client, "wrong").status_code == 429


@pytest.mark.parametrize("url", ["login", "admin:login"])
def test_a_username_longer_than_any_is_refused_as_a_wrong_login(url):
    """django-axes keeps a failed login's username in 255 characters: a longer one failed its insert,
    a 500 for anyone on PostgreSQL. It is recorded cut to that length; the form answers as usual."""
    typed = "x" * 300
    response = Client(raise_request_exception=False).post(reverse(url), {"username": typed, "password": "wrong"})
    assert response.status_code == 200
    assert b"correct username and password" in response.content  # the admin's says "for a staff account"
    assert list(AccessAttempt.objects.values_list("username", flat=True)) == [typed[:255]]
    assert list(AccessFailureLog.objects.values_list("username", flat=True)) == [typed[:255]]
