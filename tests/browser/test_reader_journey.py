"""A reader's journey through the pages in a real browser, and a curator's visit to the admin."""

import csv
import io

import pytest

from codes.models import BillingCode
from payers.choices import CoverageStatus, PriorAuth
from payers.demo import load_demo
from payers.models import CoverageCriterion
from policyhub.roles import VIEWER, assign_role, sync_roles

pytestmark = pytest.mark.browser

PASSWORD = "pw-browser-123"


def fits_the_screen(page) -> bool:
    """No horizontal scrolling: the page is no wider than the window.

    Every click that loads a page waits for it (``expect_navigation``): reading the old page, or
    a document between two pages, made this test fail now and then.
    """
    return page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")


def log_in(page, url, username):
    page.goto(url)
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(PASSWORD)


@pytest.fixture
def demo_data(live_server):
    # live_server runs on a transactional database, so the demo is loaded inside each test.
    load_demo()
    criterion = CoverageCriterion.objects.get(code__code="93590", payer__slug="medicare")
    criterion.coverage_status = CoverageStatus.COVERED_WITH_CRITERIA
    criterion.prior_auth = PriorAuth.NOT_REQUIRED
    criterion.criteria = "Symptomatic paravalvular leak after surgical valve replacement."
    criterion.save()


def test_reader_finds_a_code_reads_briefs_and_downloads_coverage(
    page, screenshot, live_server, demo_data, django_user_model
):
    """Log in, search 93592, open its brief, follow it to 93590, filter the coverage matrix and download the CSV."""
    sync_roles()  # the transactional database lost the groups the migration made
    assign_role(user=django_user_model.objects.create_user(username="reader", password=PASSWORD), role=VIEWER)

    page.goto(f"{live_server.url}/")
    assert "/accounts/login/" in page.url
    page.get_by_label("Username").fill("reader")
    page.get_by_label("Password").fill(PASSWORD)
    screenshot("01-login")
    with page.expect_navigation():
        page.get_by_role("button", name="Log in").click()
    page.get_by_role("heading", name="Billing code coverage and payment policy").wait_for()
    assert fits_the_screen(page)
    screenshot("02-overview")

    page.get_by_label("Search codes").fill("93592")
    with page.expect_navigation():
        page.get_by_label("Search codes").press("Enter")
    results = page.locator("#code-list tbody tr")
    assert results.count() == 1
    assert fits_the_screen(page)
    screenshot("03-code-search")

    with page.expect_navigation():
        results.get_by_role("link", name="93592").click()
    assert page.get_by_role("heading", level=1).inner_text() == (
        "CPT 93592: Additional Occlusion Device for Percutaneous Valve Leak"
    )
    assert fits_the_screen(page)
    screenshot("04-brief-93592")

    with page.expect_download() as download_info:
        page.get_by_role("link", name="Download as Markdown").click()
    download = download_info.value
    assert download.suggested_filename == "policyhub-brief-93592.md"
    assert "## Clinical & Coding Specifications" in download.path().read_text(encoding="utf-8")

    with page.expect_navigation():
        page.locator("#related-codes").get_by_role("link", name="93590").click()
    assert page.get_by_role("heading", level=1).inner_text() == (
        "CPT 93590: Percutaneous Mitral Valve Occlusion, First Device"
    )
    diagnosis = page.locator("#diagnosis")
    assert "Data not available in the input." in diagnosis.inner_text()
    diagnosis.get_by_role("link").first.click()
    assert "#gap-" in page.url
    assert page.locator(page.url[page.url.index("#") :]).is_visible()
    medicare = page.locator("#payer-coverage tr", has_text="Medicare")
    assert "Covered with criteria" in medicare.inner_text()
    assert fits_the_screen(page)
    screenshot("05-brief-93590")
    page.emulate_media(media="print")
    screenshot("06-brief-93590-print")
    page.emulate_media(media="screen")

    with page.expect_navigation():
        page.get_by_role("navigation", name="Main").get_by_role("link", name="Coverage").click()
    page.get_by_role("group", name="Payer kind").get_by_label("Medicare", exact=True).check()
    with page.expect_navigation():
        page.get_by_role("button", name="Apply filters").click()
    headers = page.locator("#coverage-matrix thead th").all_inner_texts()
    assert headers == ["Code", "Medicare"]
    assert fits_the_screen(page)
    screenshot("07-coverage-filtered")

    with page.expect_download() as download_info:
        page.get_by_role("link", name="Download CSV").click()
    rows = list(csv.reader(io.StringIO(download_info.value.path().read_text(encoding="utf-8"))))
    assert [(row[0], row[4], row[6]) for row in rows[1:]] == [
        ("93590", "Medicare", "Covered with criteria"),
        ("93592", "Medicare", "Unknown"),
    ]

    with page.expect_navigation():
        page.get_by_role("navigation", name="Main").get_by_role("link", name="Gaps").click()
    page.get_by_role("group", name="Category").get_by_label("Payer coverage criteria").check()
    with page.expect_navigation():
        page.get_by_role("button", name="Apply filters").click()
    assert page.locator("#gap-worklist tbody tr").count() == 10
    assert fits_the_screen(page)
    screenshot("08-gaps")

    with page.expect_navigation():
        page.get_by_role("navigation", name="Main").get_by_role("link", name="Payers").click()
    assert fits_the_screen(page)
    screenshot("09-payers")
    with page.expect_navigation():
        page.locator("#payer-list").get_by_role("link", name="Medicare").click()
    assert page.get_by_role("heading", level=1).inner_text() == "Medicare"
    assert fits_the_screen(page)
    screenshot("10-payer-medicare")


def test_curator_opens_a_code_in_the_admin(page, screenshot, live_server, demo_data, django_user_model):
    """A curator logs into the admin and opens the change page of 93590."""
    django_user_model.objects.create_superuser(username="curator", password=PASSWORD)
    code = BillingCode.objects.get(code="93590")

    page.goto(f"{live_server.url}/admin/")
    page.get_by_label("Username").fill("curator")
    page.get_by_label("Password").fill(PASSWORD)
    with page.expect_navigation():
        page.get_by_role("button", name="Log in").click()
    page.goto(f"{live_server.url}/admin/codes/billingcode/{code.pk}/change/")
    assert "93590" in page.title()
    assert page.locator("#id_short_descriptor").input_value() == "Percutaneous Mitral Valve Occlusion, First Device"
    screenshot("11-admin-93590")

    page.goto(f"{live_server.url}{code.get_absolute_url()}")
    with page.expect_navigation():
        page.get_by_role("link", name="Edit in admin").click()
    assert f"/admin/codes/billingcode/{code.pk}/change/" in page.url
