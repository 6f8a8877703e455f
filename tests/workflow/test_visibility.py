"""Nothing unreviewed is readable outside the admin: drafts stay out of the API and the readers' pages."""

import pytest
from django.urls import reverse

from codes.models import BillingCode, CodeBrief
from policyhub.choices import WorkflowState
from policyhub.revisions import start_revision
from policyhub.workflow import submit_for_review
from tests.factories import CoverageCriterionFactory, DocumentationRequirementFactory, PayerFactory

pytestmark = pytest.mark.django_db

DRAFT_CRITERIA = "DRAFT-ONLY criteria: echocardiographic evidence of a paravalvular leak"
DRAFT_DOCUMENTATION = "DRAFT-ONLY documentation: operative report naming each device"
DRAFT_HEADLINE = "DRAFT-ONLY headline awaiting review"


@pytest.fixture
def unreviewed(demo, editor):
    """Unreviewed content around CPT 93590: a draft criterion, an in-review requirement, a draft brief revision."""
    code = BillingCode.objects.get(code="93590")
    payer = PayerFactory(name="Draft Health Plan", slug="draft-health")
    CoverageCriterionFactory(code=code, payer=payer, state=WorkflowState.DRAFT, criteria=DRAFT_CRITERIA)
    requirement = DocumentationRequirementFactory(code=code, state=WorkflowState.DRAFT, text=DRAFT_DOCUMENTATION)
    submit_for_review(item=requirement, by=editor)
    brief = CodeBrief.objects.published().current().get(code=code)
    published_headline = brief.headline
    start_revision(item=brief, by=editor, changes={"headline": DRAFT_HEADLINE})
    return {"code": code, "payer": payer, "published_headline": published_headline}


API_URLS = [
    "/api/v1/codes/93590/",
    "/api/v1/codes/",
    "/api/v1/coverage-criteria/",
    "/api/v1/coverage-criteria/?payer=draft-health",
    "/api/v1/documentation-requirements/",
    "/api/v1/documentation-requirements/?code=93590",
    "/api/v1/changes/",
]


@pytest.mark.parametrize("url", API_URLS)
def test_api_never_shows_drafts_even_to_editors(unreviewed, editor, login, url):
    body = login(editor).get(url).content.decode()
    assert DRAFT_CRITERIA not in body
    assert DRAFT_DOCUMENTATION not in body
    assert DRAFT_HEADLINE not in body


def test_code_brief_api_shows_the_published_headline(unreviewed, viewer, login):
    brief = login(viewer).get("/api/v1/codes/93590/").json()
    assert unreviewed["published_headline"] in str(brief)
    payers = str(brief)
    assert "Draft Health Plan" not in payers


@pytest.mark.parametrize(
    "url",
    [
        reverse("codes:detail", args=["93590"]),
        reverse("codes:markdown", args=["93590"]),
        reverse("payers:detail", args=["draft-health"]),
        reverse("coverage"),
        reverse("overview"),
    ],
)
def test_viewer_pages_never_show_drafts(unreviewed, viewer, login, url):
    response = login(viewer).get(url)
    assert response.status_code == 200
    body = response.content.decode()
    assert DRAFT_CRITERIA not in body
    assert DRAFT_DOCUMENTATION not in body
    assert DRAFT_HEADLINE not in body
    assert "banner-draft" not in body


def test_viewer_reads_the_published_brief(unreviewed, viewer, login):
    body = login(viewer).get(reverse("codes:detail", args=["93590"])).content.decode()
    assert unreviewed["published_headline"] in body


def test_editor_previews_the_draft_brief_under_a_banner(unreviewed, editor, login):
    body = login(editor).get(reverse("codes:detail", args=["93590"])).content.decode()
    assert DRAFT_HEADLINE in body
    assert "banner-draft" in body and ">Draft<" in body
    # The download is the publication, never the preview.
    markdown = login(editor).get(reverse("codes:markdown", args=["93590"])).content.decode()
    assert DRAFT_HEADLINE not in markdown and unreviewed["published_headline"] in markdown


def test_viewer_cannot_open_the_admin(viewer, login):
    response = login(viewer).get(reverse("admin:codes_codebrief_changelist"))
    assert response.status_code == 302 and reverse("admin:login") in response["Location"]


def test_viewer_may_read_the_api(demo, viewer, login):
    assert login(viewer).get("/api/v1/codes/93590/").status_code == 200
