"""Every page needs a login; the login form lets a reader in."""

import pytest
from django.urls import reverse

PAGES = [
    "/",
    "/codes/",
    "/codes/93590/",
    "/codes/93590/brief.md",
    "/payers/",
    "/payers/aetna/",
    "/coverage/",
    "/coverage/coverage.csv",
    "/gaps/",
]

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("url", PAGES)
def test_anonymous_reader_is_sent_to_login(client, url):
    """An anonymous visitor asking for any page is redirected to the login form, which remembers the page."""
    response = client.get(url)
    assert response.status_code == 302
    assert response["Location"] == f"{reverse('login')}?next={url}"


def test_logged_in_reader_opens_every_page(reader_client, demo):
    """A logged-in reader gets every page."""
    statuses = {url: reader_client.get(url).status_code for url in PAGES}
    assert statuses == dict.fromkeys(PAGES, 200)


def test_login_form_logs_in_and_returns_to_the_page(client, reader):
    """Posting the login form with the right password opens the page the reader asked for."""
    page = client.get(reverse("login") + "?next=/gaps/")
    assert b'<label for="id_username">Username</label>' in page.content
    response = client.post(reverse("login"), {"username": "reader", "password": "pw-reader-123", "next": "/gaps/"})
    assert response.status_code == 302
    assert response["Location"] == "/gaps/"


def test_login_form_says_when_the_password_is_wrong(client, reader):
    """A wrong password keeps the reader on the form with an error."""
    response = client.post(reverse("login"), {"username": "reader", "password": "wrong"})
    assert response.status_code == 200
    assert b"Please enter a correct username and password" in response.content


def test_unknown_code_is_not_found(reader_client, demo):
    """A code that is not catalogued answers 404, not an error page."""
    response = reader_client.get("/codes/99999/")
    assert response.status_code == 404
    assert b"This page does not exist" in response.content
    assert reader_client.get("/codes/99999/brief.md").status_code == 404
