"""Shared fixtures: demo data, users by role, and the location of the real CMS files."""

import os
from pathlib import Path

import pytest
from django.test import Client

from payers.demo import load_demo
from tests.factories import UserFactory

SHARED_DATA = Path(__file__).resolve().parent.parent.parent / "shared" / "data"
SEEDS = Path(__file__).resolve().parent.parent.parent / "shared" / "seeds"
FIXTURES = Path(__file__).resolve().parent / "fixtures"
IN_CI = os.environ.get("CI", "").lower() == "true"


def require_path(path: Path):
    """Skip where ../shared is absent (a user's machine); under CI=true its absence is a failure."""
    if path.exists():
        return path
    if IN_CI:
        pytest.fail(f"{path} is missing; CI must run the tests that read it.")
    pytest.skip(f"{path} is not on this machine")


@pytest.fixture(autouse=True)
def fast_password_hashing(settings):
    """Tests create many logins; the production hasher is deliberately slow."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def shared_data():
    return require_path(SHARED_DATA)


@pytest.fixture
def seeds_dir():
    return require_path(SEEDS)


@pytest.fixture
def demo(db):
    load_demo()


@pytest.fixture
def reader(db):
    """A reader who may not edit: the one reader of every test area (pages, API, snapshots)."""
    return UserFactory(username="reader", password="pw-reader-123")


@pytest.fixture
def reader_client(reader):
    # Its own client, so a test can hold a reader's and an editor's session side by side.
    client = Client()
    client.force_login(reader)
    return client


@pytest.fixture
def staff_user(django_user_model):
    return django_user_model.objects.create_superuser(username="curator", password="pw-curator-123")


@pytest.fixture
def staff_client(client, staff_user):
    client.force_login(staff_user)
    return client
