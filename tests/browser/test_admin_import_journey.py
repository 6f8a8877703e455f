"""Imports in the admin in a real browser: a curator's spreadsheet (upload, preview, confirm; bad rows
refused with their rows and fields named), and an analyst reading what a CMS release changed."""

from io import StringIO
from pathlib import Path

import pytest
from django.core.management import call_command

from codes.models import BillingCode, CodeCategory
from payers.demo import load_demo

pytestmark = pytest.mark.browser

PASSWORD = "pw-browser-123"
GOOD = (
    "system,code,short_descriptor,long_descriptor,category,is_add_on,status\n"
    "HCPCS,A0021,Outside state ambulance serv,Ambulance service outside state per mile,Transport,0,active\n"
    'CPT,93591,"Percutaneous Aortic Valve Occlusion, First Device",Long descriptor from the spreadsheet,'
    "Cardiovascular / structural heart,0,active\n"
)
BAD = (
    "system,code,short_descriptor,status\n"
    "HCPCS,A0022,Fine row,active\n"
    "CPT,93599,Unlisted,sometimes\n"
    "HCPCS,A0022,Same code again,active\n"
)


@pytest.fixture
def curator_page(page, live_server, django_user_model):
    load_demo()
    CodeCategory.objects.create(name="Transport")  # the spreadsheet files A0021 under it
    django_user_model.objects.create_superuser(username="curator", password=PASSWORD)
    page.goto(f"{live_server.url}/admin/")
    page.get_by_label("Username").fill("curator")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    return page


def upload(page, live_server, name: str, content: str) -> None:
    page.goto(f"{live_server.url}/admin/codes/billingcode/")
    page.get_by_role("link", name="Import").click()
    page.get_by_label("File to import").set_input_files(
        {"name": name, "mimeType": "text/csv", "buffer": content.encode()}
    )
    page.get_by_label("Format").select_option(label="csv")
    with page.expect_navigation():
        page.get_by_role("button", name="Submit").click()


def test_curator_previews_then_confirms_a_spreadsheet(curator_page, live_server, screenshot):
    page = curator_page
    before = BillingCode.objects.get(code="93591").long_descriptor
    upload(page, live_server, "codes.csv", GOOD)

    preview = page.locator("table.import-preview")
    assert "New" in preview.inner_text() and "Update" in preview.inner_text()
    assert "Long descriptor from the spreadsheet" in preview.inner_text()
    screenshot("20-admin-import-preview")
    assert not BillingCode.objects.filter(code="A0021").exists(), "a preview writes nothing"
    assert BillingCode.objects.get(code="93591").long_descriptor == before

    with page.expect_navigation():
        page.get_by_role("button", name="Confirm import").click()
    assert "1 new" in page.locator(".messagelist").inner_text()
    assert BillingCode.objects.get(code="A0021").changed_by.username == "curator"
    changed = BillingCode.objects.get(code="93591")
    assert changed.long_descriptor == "Long descriptor from the spreadsheet"
    assert changed.history.first().history_change_reason == "Imported from codes.csv"


def test_bad_rows_are_named_and_nothing_is_written(curator_page, live_server, screenshot):
    page = curator_page
    upload(page, live_server, "bad.csv", BAD)

    rows = page.locator("table.import-preview tbody tr")
    assert rows.count() == 2, "only the two bad rows are listed"
    status_row, duplicate_row = rows.nth(0), rows.nth(1)
    assert status_row.locator("td").first.inner_text() == "2"
    status_row.locator(".validation-error-count").hover()
    shown = status_row.inner_text()  # the field label is shown in capitals
    assert "STATUS\nValue 'sometimes' is not a valid choice." in shown
    screenshot("21-admin-import-refused")
    assert duplicate_row.locator("td").first.inner_text() == "3"
    duplicate_row.locator(".validation-error-count").hover()
    assert "CODE\nHCPCS A0022 is also on row 1; each billing code may appear once." in duplicate_row.inner_text()
    assert page.get_by_role("button", name="Confirm import").count() == 0
    assert not BillingCode.objects.filter(code__in=["A0022", "93599"]).exists()


def test_analyst_sees_what_a_release_changed(curator_page, live_server, screenshot):
    """After loading FY2030 then FY2031, the FY2031 release page names the added, reworded and
    terminated codes and leads to them in the diagnosis code list."""
    page = curator_page
    fixtures = Path(__file__).resolve().parents[1] / "fixtures"
    call_command("import_icd10cm", fixtures / "icd10cm_order_2030.txt", stdout=StringIO())
    call_command("import_icd10cm", fixtures / "icd10cm_order_2031.txt", stdout=StringIO())

    page.goto(f"{live_server.url}/admin/codes/codesetrelease/")
    # Waits for the release page to load: the field is found while the page still streams in, and
    # on a busy machine its text was read half-written ("What the import changed: diagnosis codes").
    with page.expect_navigation():
        page.get_by_role("link", name="ICD-10-CM FY2031").click()
    changed = page.locator(".field-what_changed")
    assert "1 created, 1 updated, 1 with new descriptors, 8 unchanged, 1 terminated" in changed.inner_text()
    terminated = changed.locator("dt", has_text="terminated").locator("xpath=following-sibling::dd[1]")
    assert terminated.inner_text() == "Z9989"
    screenshot("22-admin-release-changes")

    with page.expect_navigation():
        changed.get_by_role("link", name="The diagnosis codes this release created or last changed").click()
    listed = page.locator("#result_list tbody tr")
    assert listed.count() == 3
    assert {"QA0.0", "I34.0", "Z99.89"} <= set(page.locator("#result_list tbody th").all_inner_texts())
