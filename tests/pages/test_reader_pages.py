"""What issue 16 changed on the reader pages: /codes/ lists codes with something to read by default,
blank descriptors say why, payer diagnoses come with their descriptions, gaps come in working order and
link to their own page, and dates read "open-ended"."""

import datetime
import re

import pytest
from django.core.cache import cache
from django.utils import timezone
from rest_framework.test import APIClient

from codes.choices import CodeSystem
from payers.choices import GapPriority, GapStatus
from payers.models import CoverageCriterion
from policyhub.choices import WorkflowState
from policyhub.models import ApiToken
from tests.factories import (
    BillingCodeFactory,
    CodeBriefFactory,
    CoverageCriterionFactory,
    DiagnosisCodeFactory,
    FollowUpGapFactory,
    PayerFactory,
)
from tests.pages.pagetext import page_text, table_rows

pytestmark = pytest.mark.django_db


def listed(client, query=""):
    response = client.get(f"/codes/?{query}")
    assert response.status_code == 200
    return [row[0].split()[0] for row in table_rows(response.content, "code-list")[1:]]


@pytest.fixture
def catalogue(db):
    """A brief-only code, a coverage-only code, a draft-only code and bare CPT and HCPCS codes."""
    CodeBriefFactory(code=BillingCodeFactory(code="93590"), state=WorkflowState.PUBLISHED)
    CoverageCriterionFactory(code=BillingCodeFactory(code="93591"), state=WorkflowState.PUBLISHED)
    CodeBriefFactory(code=BillingCodeFactory(code="93592"), state=WorkflowState.DRAFT)
    BillingCodeFactory(code="99213", short_descriptor="")
    BillingCodeFactory(system=CodeSystem.HCPCS, code="A0021", short_descriptor="")


def test_codes_default_to_those_with_a_published_brief_or_coverage(reader_client, catalogue):
    """A reader opening /codes/ sees codes with something published, not the whole imported catalogue."""
    assert listed(reader_client) == ["93590", "93591"]
    assert listed(reader_client, "scope=with_content") == ["93590", "93591"]
    html = reader_client.get("/codes/").content.decode()
    assert '<a href="?scope=with_content" aria-current="true">Codes with a published brief or coverage</a>' in html


def test_switch_to_all_codes_in_the_catalogue(reader_client, catalogue):
    """The visible switch lists every code, and the filter form keeps that choice when applied."""
    html = reader_client.get("/codes/").content.decode()
    assert '<a href="?scope=all">All codes in the catalogue</a>' in html
    assert listed(reader_client, "scope=all") == ["93590", "93591", "93592", "99213", "A0021"]
    page = reader_client.get("/codes/?scope=all").content.decode()
    assert '<input type="hidden" name="scope" value="all">' in page
    assert listed(reader_client, "scope=all&system=HCPCS") == ["A0021"]


def test_an_empty_default_list_offers_the_catalogue(reader_client, catalogue):
    """Searching a code that has nothing published yet points to the catalogue instead of a dead end."""
    text = page_text(reader_client.get("/codes/?q=99213").content)
    assert "No code with a published brief or coverage matches these filters." in text
    assert "Show the 1 matching code in the whole catalogue" in text


def test_blank_descriptors_say_why(reader_client, catalogue):
    """CPT text is AMA-licensed and not stored; a blank HCPCS descriptor says the release had none."""
    rows = {
        row[0].split()[0]: row[1] for row in table_rows(reader_client.get("/codes/?scope=all").content, "code-list")[1:]
    }
    assert rows["99213"] == "Descriptor licensed by the AMA: not stored"
    assert rows["A0021"] == "No descriptor in the loaded HCPCS release"


def test_default_list_filter_is_shared_with_the_api(catalogue, reader):
    """The API's code list takes the same `scope` filter; without it the API still lists every code."""
    cache.clear()  # throttle counts live in the cache
    _, key = ApiToken.objects.issue(user=reader, name="tests")
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {key}")

    def codes(query=""):
        response = client.get(f"/api/v1/codes/?{query}")
        assert response.status_code == 200, response.content
        return sorted(row["code"] for row in response.json()["results"])

    assert codes() == ["93590", "93591", "93592", "99213", "A0021"]
    assert codes("scope=with_content") == ["93590", "93591"]
    assert codes("scope=all") == codes()
    assert client.get("/api/v1/codes/?scope=everything").status_code == 400


def test_payer_diagnoses_show_dotted_code_and_description(reader_client, db):
    """'Medicare: I35.0 Nonrheumatic aortic (valve) stenosis', never a bare code."""
    criterion = CoverageCriterionFactory(code=BillingCodeFactory(code="93590"), payer=PayerFactory(name="Medicare"))
    criterion.diagnosis_codes.add(
        DiagnosisCodeFactory(code="I350", description="Nonrheumatic aortic (valve) stenosis"),
        DiagnosisCodeFactory(
            code="T82857A", description="Stenosis of other cardiac prosthetic devices, initial encounter"
        ),
    )
    html = reader_client.get("/codes/93590/").content.decode()
    section = page_text(html[html.index('<section id="diagnosis"') : html.index('<section id="benchmarks"')])
    assert "Medicare: I35.0 Nonrheumatic aortic (valve) stenosis" in section
    assert "T82.857A Stenosis of other cardiac prosthetic devices, initial encounter" in section
    markdown = reader_client.get("/codes/93590/brief.md").content.decode()
    assert "Medicare supports: I35.0 Nonrheumatic aortic (valve) stenosis; T82.857A Stenosis" in markdown


@pytest.fixture
def mixed_gaps(db):
    """Gaps of one code created in an order unlike their working order."""
    code = CodeBriefFactory(code=BillingCodeFactory(code="93590"), state=WorkflowState.PUBLISHED).code
    today = timezone.localdate()
    day = datetime.timedelta(days=1)
    make = FollowUpGapFactory
    gaps = {
        "low": make(code=code, priority=GapPriority.LOW, due_date=today + day),
        "medium_undated": make(code=code, priority=GapPriority.MEDIUM),
        "high_late": make(code=code, priority=GapPriority.HIGH, due_date=today + 9 * day),
        "medium_soon": make(code=code, priority=GapPriority.MEDIUM, due_date=today + 2 * day),
        "high_soon": make(code=code, priority=GapPriority.HIGH, due_date=today + 3 * day),
    }
    order = ["high_soon", "high_late", "medium_soon", "medium_undated", "low"]
    return [gaps[name] for name in order]


def test_gaps_on_the_brief_come_by_priority_then_due_date(reader_client, mixed_gaps):
    html = reader_client.get("/codes/93590/").content.decode()
    assert [int(pk) for pk in re.findall(r'<li id="gap-(\d+)">', html)] == [gap.pk for gap in mixed_gaps]
    markdown = reader_client.get("/codes/93590/brief.md").content.decode()
    assert [int(pk) for pk in re.findall(r"^- \*\*\[#(\d+)\]", markdown, re.MULTILINE)] == [
        gap.pk for gap in mixed_gaps
    ]


def test_gaps_in_the_worklist_come_in_the_same_order(reader_client, mixed_gaps):
    rows = table_rows(reader_client.get("/gaps/").content, "gap-worklist")[1:]
    assert [int(row[0].split()[0][1:]) for row in rows] == [gap.pk for gap in mixed_gaps]


def test_every_gap_links_to_its_page(reader_client, mixed_gaps):
    """Worklist rows and the brief's gap list link each gap's reader page; the page says what is missing."""
    worklist = reader_client.get("/gaps/").content.decode()
    brief = reader_client.get("/codes/93590/").content.decode()
    markdown = reader_client.get("/codes/93590/brief.md").content.decode()
    for gap in mixed_gaps:
        assert f'<a class="gap-link" href="/gaps/{gap.pk}/">#{gap.pk} Other</a>' in worklist
        assert f'<a href="/gaps/{gap.pk}/">#{gap.pk} Other</a>' in brief
        assert f"[#{gap.pk}](http://testserver/gaps/{gap.pk}/)" in markdown
    gap = mixed_gaps[0]
    text = page_text(reader_client.get(f"/gaps/{gap.pk}/").content)
    assert f"#{gap.pk}" in text and "Other: 93590" in text and "Something is missing" in text
    assert "High priority" in text and f"Due {gap.due_date.isoformat()}" in text
    assert "Edit in admin" not in text


def test_gap_page_offers_the_admin_to_staff_only(reader_client, staff_client, mixed_gaps):
    gap = mixed_gaps[0]
    assert f"/admin/payers/followupgap/{gap.pk}/change/" in staff_client.get(f"/gaps/{gap.pk}/").content.decode()
    assert reader_client.get("/gaps/999999/").status_code == 404


def test_gap_page_shows_closed_gaps_too(reader_client, db):
    gap = FollowUpGapFactory(status=GapStatus.RESOLVED, resolution_note="Found in CPB 0826.")
    text = page_text(reader_client.get(f"/gaps/{gap.pk}/").content)
    assert "Resolved" in text and "Found in CPB 0826." in text


@pytest.mark.parametrize(
    ("start", "end", "expected"),
    [
        (datetime.date(2026, 1, 1), None, "From 2026-01-01, open-ended"),
        (datetime.date(2026, 1, 1), datetime.date(2026, 12, 31), "2026-01-01 to 2026-12-31"),
        (None, None, "Open-ended"),
    ],
)
def test_payer_page_periods_read_open_ended(reader_client, db, start, end, expected):
    """ "2026-01-01 to open end" reads "From 2026-01-01, open-ended"."""
    payer = PayerFactory(slug="aetna", name="Aetna")
    CoverageCriterionFactory(payer=payer, effective_start=start, effective_end=end)
    rows = table_rows(reader_client.get("/payers/aetna/").content, "payer-criteria")
    assert rows[1][4] == expected
    assert "open end" not in page_text(reader_client.get("/payers/aetna/").content)
    assert CoverageCriterion.objects.count() == 1


def test_markdown_ends_with_the_print_footer_facts(reader_client, mixed_gaps):
    """The download names the brief, its page URL, its publication date and when it was downloaded."""
    brief = mixed_gaps[0].code.briefs.get()
    markdown = reader_client.get("/codes/93590/brief.md").content.decode().rstrip()
    footer = markdown.splitlines()[-1]
    published = timezone.localdate(brief.reviewed_at).isoformat() if brief.reviewed_at else None
    assert footer.startswith(
        f"CPT 93590: {brief.title or brief.code.short_descriptor} · http://testserver/codes/93590/ · "
    )
    assert (f"Published {published}" if published else "Not published") in footer
    assert f"Downloaded on {timezone.localdate().isoformat()}" in footer


def test_brief_page_carries_the_print_header_and_footer(reader_client, mixed_gaps):
    html = reader_client.get("/codes/93590/").content.decode()
    assert '<p class="print-only print-header">PolicyHub code brief · CPT 93590: ' in html
    footer = page_text(html[html.index('<footer class="print-only print-footer">') :])
    assert "http://testserver/codes/93590/" in footer and "Printed on " + timezone.localdate().isoformat() in footer
