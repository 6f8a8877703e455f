"""Stored URLs with a script or data scheme are never links: pages and the Markdown download show them as text."""

import pytest

from payers.models import CoverageCriterion, Payer, PolicyDocument
from policyhub.links import safe_url

pytestmark = pytest.mark.django_db

EVIL = "javascript:alert(document.cookie)"


@pytest.mark.parametrize(
    ("value", "linked"),
    [
        ("https://www.cms.gov/lcd", True),
        ("http://example.org", True),
        ("mailto:policy@example.org", True),
        ("/codes/93590/", True),
        (EVIL, False),
        (" JaVa\tScript:alert(1)", False),
        ("data:text/html,<script>alert(1)</script>", False),
        ("vbscript:msgbox", False),
        ("//evil.example/x", False),
        ("/\\evil.example/x", False),
    ],
)
def test_only_http_mailto_and_site_paths_are_linkable(value, linked):
    """The one rule every page and download uses."""
    assert bool(safe_url(value)) is linked


@pytest.fixture
def evil_urls(demo):
    """Script URLs written through the ORM, as an import or a shell could, bypassing the admin form."""
    Payer.objects.filter(slug="medicare").update(website=EVIL)
    payer = Payer.objects.get(slug="medicare")
    policy = PolicyDocument.objects.create(
        payer=payer, number="L-EVIL", title="Evil policy", url=EVIL, state="published"
    )
    CoverageCriterion.objects.filter(payer=payer, code__code="93590").update(policy=policy)
    return policy


def test_pages_show_script_urls_as_text(reader_client, evil_urls):
    """The payer page and the brief write the URL as text and link nothing with a script scheme."""
    for url in ("/payers/medicare/", "/codes/93590/"):
        html = reader_client.get(url).content.decode()
        assert 'href="javascript:' not in html.lower()
        assert EVIL in html  # shown, as text
        assert "<a" in html  # the page still has its ordinary links


def test_markdown_shows_script_urls_as_text(reader_client, evil_urls):
    """The Markdown download names the policy with its URL in plain text, not as a [link](...)."""
    markdown = reader_client.get("/codes/93590/brief.md").content.decode()
    assert "L-EVIL" in markdown
    assert "](javascript:" not in markdown
    assert "javascript:alert" in markdown
