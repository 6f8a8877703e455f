"""Curating one code in a real browser: an editor writes CPT 33361's brief, two payers' criteria with
diagnosis codes, and documentation on the code's page and submits it once; a reviewer opens it from
the queue, reads the diff and approves it once; readers and the API see it. A second editor's stale
save after a conflict cannot overwrite the first editor's change."""

import json

import pytest

from codes.models import BillingCode, CodeBrief
from payers.demo import load_demo
from payers.models import CoverageCriterion
from policyhub.choices import WorkflowState
from policyhub.roles import EDITOR, REVIEWER, assign_role, sync_roles
from tests.browser.conftest import SCREENSHOTS
from tests.factories import BillingCodeFactory, DiagnosisCodeFactory

pytestmark = pytest.mark.browser

PASSWORD = "pw-browser-123"
# Budget for the editor's whole task, log-in included (the goal).
EDITOR_PAGE_LOADS = 6


@pytest.fixture
def people(django_user_model, db):
    # The live server's tests flush the database between tests, role groups included.
    sync_roles()
    load_demo()
    people = {}
    for name, role in (("erin", EDITOR), ("eddie", EDITOR), ("rita", REVIEWER)):
        people[name] = django_user_model.objects.create_user(username=name, password=PASSWORD)
        assign_role(user=people[name], role=role)
    if not BillingCode.objects.filter(code="33361").exists():
        BillingCodeFactory(code="33361", short_descriptor="Transcatheter aortic valve replacement, femoral approach")
    DiagnosisCodeFactory(code="I350", description="Nonrheumatic aortic (valve) stenosis")
    DiagnosisCodeFactory(code="I352", description="Nonrheumatic aortic (valve) stenosis with insufficiency")
    return people


def log_in(page, live_server, username: str, next_url: str) -> None:
    page.goto(f"{live_server.url}/admin/login/?next={next_url}")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(PASSWORD)
    with page.expect_navigation():
        page.get_by_role("button", name="Log in").click()


def pick(page, select_id: str, typed: str, option: str) -> None:
    """Choose in an autocomplete (select2) field: open it, type, click the matching option."""
    page.locator(f"#{select_id} + .select2").click()
    page.locator(".select2-container--open .select2-search__field").first.fill(typed)
    page.locator(".select2-results__option", has_text=option).first.click()


def test_editor_submits_a_whole_brief_once_and_a_reviewer_approves_it_once(browser, live_server, people):
    code = BillingCode.objects.get(code="33361")
    editor = browser.new_context(viewport={"width": 1600, "height": 900})
    page = editor.new_page()
    loads = []
    page.on("load", lambda: loads.append(page.url))

    log_in(page, live_server, "erin", f"/admin/codes/billingcode/{code.pk}/change/")
    page.locator("#briefs-group .add-row a").click()
    page.locator("#id_briefs-0-title").fill("Transcatheter Aortic Valve Replacement")
    page.locator("#id_briefs-0-headline").fill("TAVR via the femoral artery")
    page.locator("#id_briefs-0-lead").fill("How payers cover TAVR for severe aortic stenosis.")
    for row, (payer, typed) in enumerate((("Aetna", "Aetna"), ("Cigna Health", "Cigna"))):
        page.locator("#coverage_criteria-group .add-row a").click()
        pick(page, f"id_coverage_criteria-{row}-payer", typed, payer)
        page.locator(f"#id_coverage_criteria-{row}-coverage_status").select_option("covered")
        page.locator(f"#id_coverage_criteria-{row}-criteria").fill(f"{payer}: severe symptomatic aortic stenosis.")
        pick(page, f"id_coverage_criteria-{row}-diagnosis_codes", "I35.0", "I35.0")
        pick(page, f"id_coverage_criteria-{row}-diagnosis_codes", "I352", "I35.2")
    page.locator("#documentation_requirements-group .add-row a").click()
    page.locator("#id_documentation_requirements-0-kind").select_option(index=1)
    page.locator("#id_documentation_requirements-0-text").fill("Heart team evaluation by two surgeons")
    screenshot_of(page, "30-code-workspace")
    with page.expect_navigation():
        page.get_by_role("button", name="Save and continue editing").click()
    errors = page.locator(".errornote, .errorlist")
    assert errors.count() == 0, errors.all_inner_texts()

    with page.expect_navigation():
        page.get_by_role("link", name="Review and submit this code's whole change set").click()
    with page.expect_navigation():
        page.get_by_role("button", name="Submit the whole change set for review").click()
    assert "was submitted for review" in page.locator(".messagelist").inner_text()
    assert len(loads) <= EDITOR_PAGE_LOADS, loads
    print(f"editor's page loads: {len(loads)}")
    assert set(CoverageCriterion.objects.filter(code=code).values_list("state", flat=True)) == {"in_review"}
    editor.close()

    reviewer = browser.new_context(viewport={"width": 1600, "height": 900})
    page = reviewer.new_page()
    log_in(page, live_server, "rita", "/admin/")
    queue = page.locator("#review-queue")
    assert "1 code brief, 2 coverage criteria, 1 documentation requirement" in queue.inner_text()
    screenshot_of(page, "31-review-queue")
    with page.expect_navigation():
        queue.get_by_role("link", name="33361").click()
    diff = page.locator("#content").inner_text()
    assert "TAVR via the femoral artery" in diff and "Cigna Health: severe symptomatic aortic stenosis." in diff
    screenshot_of(page, "32-change-set-diff")
    with page.expect_navigation():
        page.get_by_role("button", name="Approve and publish all").click()
    assert "was approved and published" in page.locator(".messagelist").inner_text()

    page.goto(f"{live_server.url}/codes/33361/")
    brief_page = page.locator("main").inner_text()
    assert "TAVR via the femoral artery" in brief_page
    assert "Heart team evaluation by two surgeons" in brief_page
    page.goto(f"{live_server.url}/api/v1/codes/33361/?format=json")
    api = json.loads(page.locator("body").inner_text())
    assert "TAVR via the femoral artery" in json.dumps(api)
    assert "Cigna Health: severe symptomatic aortic stenosis." in json.dumps(api)
    assert CodeBrief.objects.get(code=code).state == WorkflowState.PUBLISHED
    reviewer.close()


def screenshot_of(page, name: str) -> None:
    """The `screenshot` fixture shoots the default page; these journeys run one page per person."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=SCREENSHOTS / f"{name}.png", full_page=True)


def test_a_stale_save_after_a_conflict_cannot_overwrite(browser, live_server, people):
    brief = CodeBrief.objects.create(
        code=BillingCode.objects.get(code="33361"), headline="First headline", lead="First lead"
    )
    url = f"/admin/codes/codebrief/{brief.pk}/change/"
    first, second = (browser.new_context().new_page() for _ in range(2))
    log_in(first, live_server, "erin", url)
    log_in(second, live_server, "eddie", url)

    first.locator("#id_headline").fill("Erin's headline")
    with first.expect_navigation():
        first.get_by_role("button", name="Save and continue editing").click()

    second.locator("#id_lead").fill("Eddie's lead")
    with second.expect_navigation():
        second.get_by_role("button", name="Save and continue editing").click()
    assert "was changed by erin" in second.locator(".errornote, .errorlist").first.inner_text() or (
        "was changed by erin" in second.locator("#content").inner_text()
    )
    assert second.locator("#id_headline").input_value() == "Erin's headline"
    # Eddie presses Save again on the refused page: only his change is applied.
    with second.expect_navigation():
        second.get_by_role("button", name="Save and continue editing").click()
    brief.refresh_from_db()
    assert (brief.headline, brief.lead) == ("Erin's headline", "Eddie's lead")
