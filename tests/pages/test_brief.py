"""The code brief page reproduces the seed publication section by section, flags what is missing,
and shows editors (only them) the pending draft."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from briefs.sections import SECTIONS
from codes.choices import RelationshipKind
from codes.models import BillingCode, CodeBrief
from payers.choices import CoverageStatus, GapCategory, PriorAuth
from payers.models import CoverageCriterion, FollowUpGap
from policyhub.choices import WorkflowState
from tests.factories import (
    BenchmarkFactory,
    BillingCodeFactory,
    CodeBriefFactory,
    CodeDiagnosisFactory,
    CodeRelationshipFactory,
    CoverageCriterionFactory,
    DiagnosisCodeFactory,
    DocumentationRequirementFactory,
    FollowUpGapFactory,
    ModifierFactory,
    ModifierGuidanceFactory,
    PayerFactory,
    PolicyDocumentFactory,
)
from tests.pages.pagetext import page_text, seed_briefs, table_rows

pytestmark = pytest.mark.django_db


def brief_html(client, code):
    response = client.get(f"/codes/{code}/")
    assert response.status_code == 200
    return response.content.decode()


def section_text(html, anchor):
    """The visible text of one section of the brief (from its <section id> to the next section)."""
    start = html.index(f'<section id="{anchor}"')
    end = html.find("<section id=", start + 1)
    return html[start : end if end != -1 else len(html)]


@pytest.mark.parametrize("code", ["93590", "93592"])
def test_brief_shows_every_seed_sentence_and_modifier_row(reader_client, demo, seeds_dir, code):
    """Every sentence of the seed brief and every modifier row appear on the brief page, headings in seed order."""
    seed = seed_briefs(seeds_dir)[code]
    html = brief_html(reader_client, code)
    text = page_text(html)

    missing = [sentence for sentence in seed.sentences if sentence not in text]
    assert missing == []

    positions = [text.index(heading) for heading in seed.HEADINGS]
    assert positions == sorted(positions)

    rows = table_rows(html, "modifiers")
    assert rows[0] == ["Modifier", "Description", "When to Use"]
    assert seed.modifier_rows, "the seed has a modifier table"
    for seed_row in seed.modifier_rows:
        page_row = next(row for row in rows if row[0] == seed_row[0])
        for seed_cell, page_cell in zip(seed_row, page_row, strict=False):
            assert seed_cell in page_cell


def test_brief_sections_come_in_the_publication_order(reader_client, demo):
    """The eight sections appear once each, in the order of the publication."""
    text = page_text(brief_html(reader_client, "93590"))
    positions = [text.index(heading) for _, heading in SECTIONS]
    assert positions == sorted(positions)


def test_missing_sections_say_data_not_available_and_link_their_gap(reader_client, demo):
    """Diagnosis coding, benchmarks, documentation, payer criteria and modifier 62's use are missing for 93590:
    each says "Data not available" and links the open gap that chases it, listed under Follow-up Gaps."""
    html = brief_html(reader_client, "93590")
    gaps = {
        (gap.category, gap.payer.slug if gap.payer_id else None): gap.pk
        for gap in FollowUpGap.objects.filter(code__code="93590")
    }

    for anchor, category in [
        ("diagnosis", GapCategory.DIAGNOSIS_CODING),
        ("benchmarks", GapCategory.BENCHMARK),
        ("coverage", GapCategory.DOCUMENTATION),
        ("overview", GapCategory.SITE_OF_SERVICE),
        ("specifications", GapCategory.MODIFIERS),
    ]:
        section = section_text(html, anchor)
        assert "Data not available" in section, anchor
        assert f'href="#gap-{gaps[(category, None)]}"' in section, anchor

    coverage = section_text(html, "coverage")
    for slug in ["aetna", "blue-cross-blue-shield", "cigna-health", "unitedhealthcare", "medicare"]:
        assert f'href="#gap-{gaps[(GapCategory.COVERAGE_CRITERIA, slug)]}"' in coverage

    modifier_62 = next(row for row in table_rows(html, "modifiers") if row[0] == "62")
    assert "Data not available" in modifier_62[2]

    listed = section_text(html, "gaps")
    for gap_id in gaps.values():
        assert f'id="gap-{gap_id}"' in listed


def test_related_codes_link_both_ways(reader_client, demo):
    """93592 links its primary codes 93590 and 93591; 93590 links back to its add-on 93592."""
    add_on = table_rows(brief_html(reader_client, "93592"), "related-codes")
    assert ["Primary code", "93590", "Percutaneous Mitral Valve Occlusion, First Device"] in add_on
    assert ["Primary code", "93591", "Percutaneous Aortic Valve Occlusion, First Device"] in add_on
    assert 'href="/codes/93590/"' in brief_html(reader_client, "93592")

    primary = brief_html(reader_client, "93590")
    assert ["Add-on code", "93592", "Additional Occlusion Device for Percutaneous Valve Leak"] in table_rows(
        primary, "related-codes"
    )
    assert 'href="/codes/93592/"' in primary


def test_code_without_a_brief_flags_every_section(reader_client, demo):
    """93591 has no published brief: its page still opens and says which parts are not available."""
    html = brief_html(reader_client, "93591")
    assert "CPT 93591: Percutaneous Aortic Valve Occlusion, First Device" in page_text(html)
    for anchor in ["summary", "overview", "specifications", "diagnosis", "benchmarks"]:
        assert "Data not available" in section_text(html, anchor), anchor


def test_published_coverage_shows_status_prior_auth_criteria_and_policy(reader_client, demo):
    """A payer's published criterion shows its status, prior authorization, criteria and source policy dates;
    its row then no longer says data is missing."""
    criterion = CoverageCriterion.objects.get(code__code="93590", payer__slug="aetna")
    criterion.coverage_status = CoverageStatus.COVERED_WITH_CRITERIA
    criterion.prior_auth = PriorAuth.REQUIRED
    criterion.criteria = "Symptomatic paravalvular leak with heart-team agreement."
    criterion.policy = PolicyDocumentFactory(
        payer=criterion.payer, number="CPB 0826", title="Transcatheter valve repair", next_review="2026-01-31"
    )
    criterion.save()
    FollowUpGap.objects.filter(code__code="93590", payer__slug="aetna").update(
        status="resolved", resolved_at="2025-01-01T00:00Z"
    )

    row = next(row for row in table_rows(brief_html(reader_client, "93590"), "payer-coverage") if row[0] == "Aetna")
    assert "Covered with criteria" in row[1]
    assert "PA: Required" in row[1]
    assert row[2] == "Symptomatic paravalvular leak with heart-team agreement."
    assert "CPB 0826 Transcatheter valve repair" in row[4]
    assert "Next review 2026-01-31" in row[4]


def test_only_published_content_reaches_readers(reader_client, demo):
    """A draft coverage criterion and an unpublished documentation requirement stay off the page."""
    code = BillingCode.objects.get(code="93592")
    payer = PayerFactory(name="Draft Payer Plan", slug="draft-payer", is_tracked=False)
    CoverageCriterionFactory(code=code, payer=payer, state=WorkflowState.DRAFT, criteria="Unreviewed criteria")
    DocumentationRequirementFactory(code=code, state=WorkflowState.IN_REVIEW, text="Unreviewed requirement")
    text = page_text(brief_html(reader_client, "93592"))
    assert "Draft Payer Plan" not in text
    assert "Unreviewed criteria" not in text
    assert "Unreviewed requirement" not in text


def _draft_revision(code="93590"):
    published = CodeBrief.objects.published().get(code__code=code)
    return CodeBrief.objects.create(
        code=published.code,
        revision_of=published,
        state=WorkflowState.IN_REVIEW,
        title=published.title,
        lead="A revised lead waiting for review.",
    )


def test_editor_previews_the_pending_draft_under_a_banner(staff_client, demo):
    """Someone who may change briefs sees the in-review revision's text and a "Draft" banner."""
    _draft_revision()
    html = brief_html(staff_client, "93590")
    assert "A revised lead waiting for review." in page_text(html)
    banner = _banner(html)
    assert "Draft" in page_text(banner)
    assert "previewing the in review version" in page_text(banner)


def _banner(html: str) -> str:
    return html[html.index('class="banner banner-draft"') : html.index("</div>", html.index("banner-draft"))]


@pytest.mark.parametrize("code", ["93591", "93590"])
def test_editor_previews_pending_criteria_under_a_banner_that_fits(staff_client, demo, code):
    """Pending criteria alone, of a code with no brief (93591; that page answered 500, its banner
    linking to a brief text that does not exist) or beside a published brief (93590, whose banner
    offered to "edit the draft" of the published text): the banner speaks of the pending changes and
    links to the code's change set."""
    CoverageCriterionFactory(
        code=BillingCode.objects.get(code=code), state=WorkflowState.DRAFT, criteria="A criterion not yet approved."
    )
    html = brief_html(staff_client, code)
    assert "A criterion not yet approved." in page_text(html)
    banner = _banner(html)
    assert "previewing this code's pending changes" in page_text(banner)
    assert f'href="/admin/review/{code}/"' in banner
    assert "Edit the draft" not in banner


def test_reader_never_sees_a_draft(reader_client, demo):
    """A reader keeps seeing the published brief while a revision waits for review."""
    _draft_revision()
    html = brief_html(reader_client, "93590")
    assert "A revised lead waiting for review." not in html
    assert "banner-draft" not in html
    assert "CPT code 93590 designates the percutaneous insertion" in page_text(html)


def test_editor_previews_a_brief_never_published(staff_client, reader_client, demo):
    """A first draft of a brief is visible to editors only; readers see "Data not available"."""
    CodeBrief.objects.create(code=BillingCode.objects.get(code="93591"), lead="First draft of the aortic brief.")
    assert "First draft of the aortic brief." in brief_html(staff_client, "93591")
    assert "First draft of the aortic brief." not in brief_html(reader_client, "93591")


def test_user_text_is_escaped(reader_client, db):
    """Markup typed into a descriptor or brief is shown as text, never run."""
    code = BillingCodeFactory(short_descriptor="<script>alert('x')</script> device", long_descriptor="<b>bold</b>")
    CodeBriefFactory(code=code, lead="<img src=x onerror=alert(1)>")
    html = brief_html(reader_client, code.code)
    assert "<script>alert" not in html
    assert "&lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt; device" in html
    assert "<img src=x" not in html
    assert "&lt;b&gt;bold&lt;/b&gt;" in html


def _grow(code, payers, n):
    """Add n rows to every section of a code's brief."""
    for i in range(len(payers), len(payers) + n):
        payer = PayerFactory()
        payers.append(payer)
        criterion = CoverageCriterionFactory(
            code=code, payer=payer, policy=PolicyDocumentFactory(payer=payer), criteria=f"Criteria {i}"
        )
        criterion.diagnosis_codes.add(DiagnosisCodeFactory())
        DocumentationRequirementFactory(code=code, payer=payer)
        BenchmarkFactory(code=code, payer=payer)
        FollowUpGapFactory(code=code, payer=payer, category=GapCategory.COVERAGE_CRITERIA)
        CodeDiagnosisFactory(code=code)
        ModifierGuidanceFactory(code=code, modifier=ModifierFactory(code=f"Z{i}"), when_to_use="Use it")
        CodeRelationshipFactory(to_code=code, kind=RelationshipKind.ADD_ON_TO)


def test_brief_queries_stay_constant_as_rows_grow(reader_client, db, django_assert_max_num_queries):
    """The brief answers in the same small number of queries with 1 or 8 rows in every section."""
    code = CodeBriefFactory().code
    payers = []
    _grow(code, payers, 1)
    with CaptureQueriesContext(connection) as small:
        reader_client.get(f"/codes/{code.code}/")
    _grow(code, payers, 7)
    with django_assert_max_num_queries(20), CaptureQueriesContext(connection) as large:
        response = reader_client.get(f"/codes/{code.code}/")
    assert len(table_rows(response.content, "payer-coverage")) == 1 + 8
    assert len(large) == len(small)


def test_brief_offers_print_and_markdown(reader_client, db):
    """The brief links its print stylesheet and a "Download as Markdown" link to the same brief."""
    code = CodeBriefFactory().code
    html = brief_html(reader_client, code.code)
    assert 'href="/static/css/print.css" media="print"' in html
    assert f'href="/codes/{code.code}/brief.md" download>Download as Markdown</a>' in html
