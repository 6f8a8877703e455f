"""The Content-Security-Policy in a real browser: every page, the admin (autocomplete, import preview,
workflow buttons) and Swagger UI work with no CSP violation in the console; a script URL stored
through the ORM is shown as text, and clicking around never runs it."""

import pytest

from codes.models import BillingCode, CodeBrief
from payers.demo import load_demo
from payers.models import Payer, PolicyDocument
from policyhub.roles import VIEWER, assign_role, sync_roles

pytestmark = pytest.mark.browser

PASSWORD = "pw-browser-123"
PAGES = ["/", "/codes/", "/codes/93590/", "/payers/", "/payers/medicare/", "/coverage/", "/gaps/", "/codes/00000/"]
CSV = "system,code,short_descriptor,status\nHCPCS,A0021,Outside state ambulance serv,active\n"


@pytest.fixture
def violations(page):
    """Console messages that report a CSP violation, and uncaught page errors, as they happen."""
    seen = []
    page.on(
        "console",
        lambda message: (
            "Content Security Policy" in message.text
            and seen.append(f"{page.url}: {message.text[:160]} at {message.location}")
        ),
    )
    page.on("pageerror", lambda error: seen.append(f"page error: {error}"))
    return seen


@pytest.fixture
def site(live_server, django_user_model):
    load_demo()
    sync_roles()  # the transactional database lost the groups the migration made
    assign_role(user=django_user_model.objects.create_user("reader", password=PASSWORD), role=VIEWER)
    django_user_model.objects.create_superuser("curator", password=PASSWORD)
    return live_server.url


def log_in(page, url, username):
    page.goto(url)
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_load_state()


def test_reader_pages_and_swagger_ui_raise_no_csp_violation(page, site, violations):
    log_in(page, f"{site}/accounts/login/", "reader")
    for url in PAGES:
        response = page.goto(site + url)
        assert "script-src 'self'" in response.headers["content-security-policy"], url
        page.wait_for_load_state("networkidle")
    page.goto(f"{site}/api/docs/")
    page.locator(".opblock-tag").first.wait_for()  # Swagger UI rendered the operations from the schema
    page.locator(".opblock-summary").first.click()
    page.locator(".opblock-body").first.wait_for()
    assert not violations, "\n".join(violations)


def test_admin_autocomplete_import_and_workflow_raise_no_csp_violation(page, site, violations):
    log_in(page, f"{site}/admin/login/", "curator")
    page.goto(f"{site}/admin/")
    page.goto(f"{site}/admin/codes/codebrief/add/")
    page.locator("#id_code + .select2 .select2-selection").click()
    page.locator(".select2-search__field").fill("9359")
    page.locator(".select2-results__option", has_text="93592").wait_for()

    brief = CodeBrief.objects.order_by("pk").first()
    page.goto(f"{site}/admin/codes/codebrief/{brief.pk}/change/")
    assert page.locator("#workflow-form button").count() > 0
    code = BillingCode.objects.get(code="93590")
    page.goto(f"{site}/admin/codes/billingcode/{code.pk}/change/")
    page.goto(f"{site}/admin/codes/billingcode/")
    page.get_by_role("link", name="Import").click()
    page.get_by_label("File to import").set_input_files(
        {"name": "c.csv", "mimeType": "text/csv", "buffer": CSV.encode()}
    )
    page.get_by_label("Format").select_option(label="csv")
    with page.expect_navigation():
        page.get_by_role("button", name="Submit").click()
    page.locator("table.import-preview").wait_for()
    page.goto(f"{site}/admin/codes/billingcode/export/")
    page.locator("input.select-toggle").uncheck()  # its inline handler is allowed by hash, and works
    assert not page.locator("input[type=checkbox][name$=code]").first.is_checked()
    page.goto(f"{site}/admin/payers/coveragecriterion/")
    page.locator("#searchbar").fill("93590")
    page.locator("#searchbar").press("Enter")
    page.wait_for_load_state("networkidle")
    assert not violations, "\n".join(violations)


def test_stored_script_url_is_text_and_never_runs(page, site, violations):
    medicare = Payer.objects.get(slug="medicare")
    Payer.objects.filter(pk=medicare.pk).update(website="javascript:window.ran=1")
    PolicyDocument.objects.create(
        payer=medicare, number="L-EVIL", title="Evil policy", url="javascript:window.ran=1", state="published"
    )
    log_in(page, f"{site}/accounts/login/", "reader")
    page.goto(f"{site}/payers/medicare/")
    assert page.locator("a[href^='javascript']").count() == 0
    assert page.get_by_text("javascript:window.ran=1").first.is_visible()
    page.get_by_text("Evil policy").click()
    assert page.evaluate("window.ran") is None
    assert not violations, "\n".join(violations)
