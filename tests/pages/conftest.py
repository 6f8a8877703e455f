"""Fixtures of the page tests: a reader who may not edit, logged in."""

import pytest
from django.test import Client


@pytest.fixture
def reader(django_user_model):
    return django_user_model.objects.create_user(username="reader", password="pw-reader-123")


@pytest.fixture
def reader_client(reader):
    # Its own client, so a test can hold a reader's and an editor's session side by side.
    client = Client()
    client.force_login(reader)
    return client
