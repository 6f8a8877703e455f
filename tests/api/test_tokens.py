"""API tokens: created by command or admin with the key shown once, stored hashed, revocable,
recording their last use (their request budget: test_throttling.py)."""

import hashlib
import re
from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.urls import reverse
from django.utils import timezone
from rest_framework.test import APIClient

from policyhub.models import ApiToken
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

CODES = "/api/v1/codes/"


def _client(key: str) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    return client


def test_command_prints_a_working_key_once(reader):
    """create_api_token prints the new key alone on stdout, and that key reads the API."""
    out, err = StringIO(), StringIO()
    call_command("create_api_token", "reader", "--name", "claim scrubber", stdout=out, stderr=err)
    key = out.getvalue().strip()
    assert re.fullmatch(r"ph_[0-9a-f]{48}", key)
    assert "cannot" in err.getvalue() or "not kept" in err.getvalue()
    token = ApiToken.objects.get()
    assert (token.user, token.name) == (reader, "claim scrubber")
    assert _client(key).get(CODES).status_code == 200


def test_only_a_hash_of_the_key_is_stored(reader):
    """The database keeps the SHA-256 digest and a short prefix, never the key."""
    token, key = ApiToken.objects.issue(user=reader)
    stored = ApiToken.objects.filter(pk=token.pk).values().get()
    assert key not in {str(value) for value in stored.values()}
    assert stored["digest"] == hashlib.sha256(key.encode()).hexdigest()
    assert key.startswith(stored["prefix"]) and len(stored["prefix"]) < len(key) // 4


@pytest.mark.parametrize(("username", "message"), [("nobody", "No user"), ("sleeper", "inactive")])
def test_command_refuses_unknown_and_inactive_users(db, username, message):
    """A token is only created for an existing, active user."""
    UserFactory(username="sleeper", is_active=False)
    with pytest.raises(CommandError, match=message):
        call_command("create_api_token", username, stdout=StringIO(), stderr=StringIO())
    assert not ApiToken.objects.exists()


def test_revoked_token_answers_401(reader):
    """Once revoked (by command), the token is refused; other tokens keep working."""
    token, key = ApiToken.objects.issue(user=reader)
    _, other_key = ApiToken.objects.issue(user=reader)
    assert _client(key).get(CODES).status_code == 200
    call_command("revoke_api_token", token.prefix, stdout=StringIO())
    response = _client(key).get(CODES)
    assert response.status_code == 401
    assert response.json() == {"detail": "Invalid or revoked token.", "code": "authentication_failed"}
    assert _client(other_key).get(CODES).status_code == 200


def test_revoke_command_needs_a_known_prefix(db):
    """Revoking an unknown prefix says so."""
    with pytest.raises(CommandError, match="No active API token"):
        call_command("revoke_api_token", "ph_0000000", stdout=StringIO())


@pytest.mark.parametrize(
    "header", ["Token ph_wrong", "Token", "Token two parts", "Bearer whatever", "Basic dXNlcjpwYXNz"]
)
def test_bad_credentials_answer_401(reader, header):
    """A wrong key, a malformed header or another scheme answers 401."""
    assert APIClient().get(CODES, HTTP_AUTHORIZATION=header).status_code == 401


def test_token_of_an_inactive_user_answers_401(reader):
    """Deactivating a user disables their tokens."""
    _, key = ApiToken.objects.issue(user=reader)
    reader.is_active = False
    reader.save()
    assert _client(key).get(CODES).json()["detail"] == "The token's user is inactive."


def test_last_use_is_recorded(reader):
    """The token records when it was last used, which the admin lists."""
    token, key = ApiToken.objects.issue(user=reader)
    assert token.last_used_at is None
    _client(key).get(CODES)
    token.refresh_from_db()
    assert token.last_used_at is not None


def test_admin_creates_a_token_and_shows_its_key_once(admin_client, reader):
    """Adding a token in the admin shows its key on the next page only; the key then works."""
    response = admin_client.post(reverse("admin:policyhub_apitoken_add"), {"user": reader.pk, "name": "EHR orders"})
    assert response.status_code == 200
    assert "no-store" in response["Cache-Control"]
    key = re.search(r'<code id="api-token-key"[^>]*>(ph_[0-9a-f]+)</code>', response.content.decode())[1]
    token = ApiToken.objects.get(name="EHR orders")
    assert token.digest == ApiToken.hash_key(key)
    assert _client(key).get(CODES).status_code == 200
    for page in (
        reverse("admin:policyhub_apitoken_changelist"),
        reverse("admin:policyhub_apitoken_change", args=[token.pk]),
    ):
        content = admin_client.get(page).content.decode()
        assert token.prefix in content
        assert key not in content


def test_admin_revokes_tokens(admin_client, reader):
    """The admin's revoke action makes the selected tokens answer 401."""
    token, key = ApiToken.objects.issue(user=reader)
    response = admin_client.post(
        reverse("admin:policyhub_apitoken_changelist"),
        {"action": "revoke", "_selected_action": [token.pk]},
        follow=True,
    )
    assert "Revoked 1 API token" in response.content.decode()
    token.refresh_from_db()
    assert token.revoked_at is not None
    assert _client(key).get(CODES).status_code == 401


def test_admin_deletes_tokens(admin_client, reader):
    """Deleting a token in the admin disables it too."""
    token, key = ApiToken.objects.issue(user=reader)
    admin_client.post(reverse("admin:policyhub_apitoken_delete", args=[token.pk]), {"post": "yes"})
    assert _client(key).get(CODES).status_code == 401


def test_expiring_token_works_until_it_expires(reader):
    """`create_api_token --expires-in 90d` makes a token that reads until then and is refused (401) after."""
    out, err = StringIO(), StringIO()
    call_command("create_api_token", "reader", "--expires-in", "90d", stdout=out, stderr=err)
    key = out.getvalue().strip()
    token = ApiToken.objects.get(digest=ApiToken.hash_key(key))
    assert timedelta(days=89) < token.expires_at - timezone.now() <= timedelta(days=90)
    assert "valid until" in err.getvalue()
    assert _client(key).get(CODES).status_code == 200
    ApiToken.objects.filter(pk=token.pk).update(expires_at=timezone.now() - timedelta(seconds=1))
    response = _client(key).get(CODES)
    assert response.status_code == 401
    assert response.json()["detail"] == "The token has expired; ask for a new one."


def test_expires_in_refuses_a_bad_lifetime(reader):
    with pytest.raises(CommandError, match="expires-in"):
        call_command("create_api_token", "reader", "--expires-in", "soon")
