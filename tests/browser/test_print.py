"""Printing the 93590 brief from Chromium: at most three A4 or Letter pages holding every seed sentence,
with the brief's header and a footer giving its URL, publication date and print date."""

import shutil
import subprocess

import pytest
from django.utils import timezone

from payers.choices import CoverageStatus, PriorAuth
from payers.demo import load_demo
from payers.models import CoverageCriterion
from tests.conftest import IN_CI
from tests.pages.pagetext import normalise, seed_briefs

pytestmark = pytest.mark.browser


@pytest.fixture
def poppler():
    if not shutil.which("pdftotext") or not shutil.which("pdfinfo"):
        if IN_CI:
            pytest.fail("pdftotext is missing; CI must install poppler-utils.")
        pytest.skip("poppler-utils (pdftotext) is not installed")


def run(*command) -> str:
    # Fixed poppler programs on a PDF the test wrote itself: no untrusted input reaches the command line.
    program = shutil.which(command[0])
    return subprocess.run([program, *command[1:]], capture_output=True, text=True, check=True).stdout  # noqa: S603


def pdf_pages_and_text(path) -> tuple[int, str]:
    info = run("pdfinfo", str(path))
    pages = int(next(line.split()[-1] for line in info.splitlines() if line.startswith("Pages:")))
    return pages, run("pdftotext", str(path), "-")


@pytest.mark.parametrize("paper", ["A4", "Letter"])
def test_93590_prints_on_three_pages_with_every_seed_sentence(
    reader_page, live_server, seeds_dir, poppler, tmp_path, screenshot_dir, paper
):
    load_demo()
    CoverageCriterion.objects.filter(code__code="93590", payer__slug="medicare").update(
        coverage_status=CoverageStatus.COVERED_WITH_CRITERIA,
        prior_auth=PriorAuth.NOT_REQUIRED,
        criteria="Symptomatic paravalvular leak after surgical valve replacement, confirmed by TEE.",
    )
    page = reader_page()
    page.goto(f"{live_server.url}/codes/93590/")
    pdf = tmp_path / f"93590-{paper}.pdf"
    page.pdf(path=pdf, format=paper)
    shutil.copy(pdf, screenshot_dir / f"print-93590-{paper}.pdf")

    pages, raw = pdf_pages_and_text(pdf)
    assert pages <= 3, f"93590 prints on {pages} {paper} pages"
    text = normalise(raw)
    seed = seed_briefs(seeds_dir)["93590"]
    missing = [sentence for sentence in seed.sentences if normalise(sentence) not in text]
    assert not missing, f"{len(missing)} seed sentences not in the PDF text, e.g. {missing[:2]}"
    for heading in ["Payer Coverage", "Documentation", "Follow-up Gaps"]:
        assert heading in text  # whole words: no "Documentati/on"
    assert "Symptomatic paravalvular leak after surgical valve replacement, confirmed by TEE." in text
    header = "PolicyHub code brief · CPT 93590: Percutaneous Mitral Valve Occlusion, First Device"
    footer = f"{live_server.url}/codes/93590/ · Published "
    printed_on = f"Printed on {timezone.localdate().isoformat()}"
    for number in range(1, pages + 1):  # the header and footer are on every page, not once per document
        on_page = normalise(run("pdftotext", "-f", str(number), "-l", str(number), str(pdf), "-"))
        assert header in on_page and footer in on_page and printed_on in on_page, f"page {number}: {on_page[:300]}"
        assert f"Page {number} of {pages}" in on_page
    assert text.count(header) == pages, "the header is printed once per page, not also in the text"
    assert "Log out" not in text and "Apply filters" not in text and "Download as Markdown" not in text


def test_printed_tables_keep_inside_the_page(reader_page, live_server):
    """In print, no table is wider than the page and no cell scrolls or sticks: borders are never clipped."""
    load_demo()
    page = reader_page()
    page.goto(f"{live_server.url}/codes/93590/")
    page.emulate_media(media="print")
    overflow = page.evaluate(
        """() => [...document.querySelectorAll('table')].filter(
            t => t.getBoundingClientRect().right > document.querySelector('main').getBoundingClientRect().right + 1
        ).map(t => t.id || t.className)"""
    )
    assert overflow == []
    positions = page.evaluate("() => [...document.querySelectorAll('th, td')].map(c => getComputedStyle(c).position)")
    assert set(positions) == {"static"}
