"""Fixtures of the workflow tests: one user per role, each with their own logged-in client."""

import pytest
from django.test import Client

from policyhub.models import ApiToken
from policyhub.roles import EDITOR, REVIEWER, VIEWER, assign_role, sync_roles


@pytest.fixture
def roles(db):
    # The migration creates the groups, but transactional tests elsewhere flush the database.
    sync_roles()


@pytest.fixture
def make_user(django_user_model, roles):
    def make(username: str, role: str):
        user = django_user_model.objects.create_user(username=username, password=f"pw-{username}-123")
        assign_role(user=user, role=role)
        return user

    return make


@pytest.fixture
def editor(make_user):
    return make_user("erin-editor", EDITOR)


@pytest.fixture
def other_editor(make_user):
    return make_user("eddie-editor", EDITOR)


@pytest.fixture
def reviewer(make_user):
    return make_user("rita-reviewer", REVIEWER)


@pytest.fixture
def other_reviewer(make_user):
    return make_user("ravi-reviewer", REVIEWER)


@pytest.fixture
def viewer(make_user):
    return make_user("vic-viewer", VIEWER)


@pytest.fixture
def login():
    """A separate logged-in client per user, so two curators can work side by side."""

    def client_for(user) -> Client:
        client = Client()
        client.force_login(user)
        return client

    return client_for


@pytest.fixture
def api(viewer):
    """A downstream system's API client, reading with the viewer's token."""
    _token, key = ApiToken.objects.issue(user=viewer, name="scrubber")
    return Client(HTTP_AUTHORIZATION=f"Token {key}")
