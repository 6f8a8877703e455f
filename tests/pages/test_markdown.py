"""Download as Markdown: the same brief as a .md file, published content only, curated text kept inert."""

import pytest

from codes.models import CodeBrief
from policyhub.choices import WorkflowState
from tests.factories import BillingCodeFactory, CodeBriefFactory
from tests.pages.pagetext import seed_briefs

pytestmark = pytest.mark.django_db


def markdown(client, code):
    response = client.get(f"/codes/{code}/brief.md")
    assert response.status_code == 200
    assert response["Content-Type"] == "text/markdown; charset=utf-8"
    assert response["Content-Disposition"] == f'attachment; filename="policyhub-brief-{code}.md"'
    return response.content.decode()


@pytest.mark.parametrize("code", ["93590", "93592"])
def test_markdown_has_every_seed_sentence_and_modifier_row(reader_client, demo, seeds_dir, code):
    """The file carries every seed sentence, the eight section headings in order and the modifier table."""
    seed = seed_briefs(seeds_dir)[code]
    text = markdown(reader_client, code)
    read = text.replace("**", "")  # as read, without the bold around labels
    assert [sentence for sentence in seed.sentences if sentence not in read] == []
    headings = [line for line in text.splitlines() if line.startswith("## ")]
    assert headings == [
        "## Summary & Overview",
        "## Billing Code Overview",
        "## Clinical & Coding Specifications",
        "## Payer Coverage",
        "## Diagnosis Coding",
        "## Benchmarks",
        "## Related Codes",
        "## Follow-up Gaps",
    ]
    assert "| Modifier | Description | When to Use |" in text
    for row in seed.modifier_rows:
        assert any(
            line.startswith(f"| {row[0]} | ") and all(cell in line for cell in row) for line in text.splitlines()
        )


def test_markdown_flags_missing_data_with_its_gap(reader_client, demo):
    """Missing sections say "Data not available" and name the open gap, as on the page."""
    text = markdown(reader_client, "93590")
    diagnosis = text.split("## Diagnosis Coding")[1].split("## Benchmarks")[0]
    assert "_Data not available in the input._ Follow-up gap #" in diagnosis
    assert "(Diagnosis coding)" in diagnosis
    assert "- Add-on code: [93592](http://testserver/codes/93592/)" in text


def test_markdown_is_the_published_brief_even_for_editors(staff_client, demo):
    """A pending revision stays out of the downloaded file."""
    published = CodeBrief.objects.published().get(code__code="93590")
    CodeBrief.objects.create(
        code=published.code, revision_of=published, state=WorkflowState.DRAFT, lead="Unapproved lead."
    )
    assert "Unapproved lead." not in markdown(staff_client, "93590")


def test_markdown_keeps_markup_as_text(reader_client, db):
    """HTML, links and table pipes typed into curated text cannot become markup in the file."""
    code = BillingCodeFactory(long_descriptor="<script>alert(1)</script> [click](http://evil) a|b")
    CodeBriefFactory(code=code)
    text = markdown(reader_client, code.code)
    assert "<script>" not in text
    assert r"\<script\>alert(1)\</script\> \[click\](http://evil) a\|b" in text
