"""Every reader page on phones (360, 390 px), a tablet (768 px) and a laptop (1366 px): nothing wider
than the window, the navigation and the filters reachable, a screenshot of each saved for people to
look at."""

import pytest

from payers.demo import load_demo
from payers.models import FollowUpGap

pytestmark = pytest.mark.browser

SMALL_PHONE = {"width": 360, "height": 740}
PHONE = {"width": 390, "height": 844}
TABLET = {"width": 768, "height": 1024}
LAPTOP = {"width": 1366, "height": 800}
NAV_LINKS = ["Overview", "Codes", "Payers", "Coverage", "Gaps"]
# page name -> (path, has a filter panel)
PAGES = {
    "overview": ("/", False),
    "codes": ("/codes/", True),
    "codes-all": ("/codes/?scope=all", True),
    "brief-93590": ("/codes/93590/", False),
    "brief-93592": ("/codes/93592/", False),
    "payers": ("/payers/", True),
    "payer-medicare": ("/payers/medicare/", False),
    "coverage": ("/coverage/", True),
    "gaps": ("/gaps/", True),
    "gap-detail": (None, False),
}


def fits_the_screen(page) -> bool:
    return page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")


@pytest.fixture
def demo(live_server):
    # live_server runs on a transactional database, so the demo is loaded inside each test.
    load_demo()


def paths():
    gap = FollowUpGap.objects.filter(code__code="93590").order_by("priority", "pk").first()
    return {name: path or f"/gaps/{gap.pk}/" for name, (path, _) in PAGES.items()}


@pytest.mark.parametrize("viewport", [SMALL_PHONE, PHONE, TABLET, LAPTOP], ids=["360px", "390px", "768px", "1366px"])
def test_every_page_fits_and_its_navigation_and_filters_are_reachable(
    reader_page, demo, live_server, viewport, screenshot_dir
):
    """No page scrolls sideways; the menu opens to every section; the filters can be opened and used."""
    page = reader_page(viewport)
    phone = viewport["width"] < 760
    for name, path in paths().items():
        page.goto(live_server.url + path)
        assert fits_the_screen(page), f"{name} at {viewport['width']} px is wider than the window"
        nav = page.get_by_role("navigation", name="Main")
        toggle = page.get_by_role("button", name="Menu")
        if phone:
            assert not nav.is_visible(), f"{name}: the menu should start folded on a phone"
            toggle.click()
            assert toggle.get_attribute("aria-expanded") == "true"
        else:
            assert not toggle.is_visible()
        for label in NAV_LINKS:
            link = nav.get_by_role("link", name=label, exact=True)
            assert link.is_visible(), f"{name}: {label} link not visible"
            box = link.bounding_box()
            assert box["x"] >= 0 and box["x"] + box["width"] <= viewport["width"], f"{name}: {label} off-screen"
        assert fits_the_screen(page)
        if PAGES[name][1]:
            summary = page.locator("details.filter-panel > summary")
            apply = page.get_by_role("button", name="Apply filters")
            if viewport["width"] <= 900:  # one column: the filters fold away above the results
                if phone:
                    toggle.click()  # fold the menu again
                assert not apply.is_visible(), f"{name}: filters should start folded on a narrow screen"
                results = page.locator("main table, main .empty").first
                assert results.bounding_box()["y"] < 900, f"{name}: results pushed below the first screen"
                summary.click()
            assert apply.is_visible()
        page.screenshot(path=screenshot_dir / f"{viewport['width']}-{name}.png", full_page=True)


def test_the_menu_leads_to_the_gap_worklist_on_a_phone(reader_page, demo, live_server):
    """On a phone the Gaps link is readable (light text on the dark header) and opens the worklist."""
    page = reader_page(PHONE)
    page.goto(live_server.url + "/codes/")
    page.get_by_role("button", name="Menu").click()
    gaps = page.get_by_role("navigation", name="Main").get_by_role("link", name="Gaps")
    colour, background = gaps.evaluate(
        "a => [getComputedStyle(a).color, getComputedStyle(a.closest('.site-header')).backgroundColor]"
    )
    assert colour == "rgb(255, 255, 255)" and background == "rgb(15, 42, 68)"
    gaps.click()
    page.get_by_role("heading", name="Follow-up gap worklist").wait_for()
    assert fits_the_screen(page)


@pytest.mark.parametrize("viewport", [PHONE, LAPTOP], ids=["390px", "1366px"])
def test_coverage_badges_stay_inside_their_cell(reader_page, demo, live_server, viewport):
    """ "Covered with criteria" wraps inside its column instead of running over the criteria text."""
    from payers.choices import CoverageStatus
    from payers.models import CoverageCriterion

    CoverageCriterion.objects.filter(code__code="93590", payer__slug="medicare").update(
        coverage_status=CoverageStatus.COVERED_WITH_CRITERIA, criteria="Symptomatic paravalvular leak."
    )
    page = reader_page(viewport)
    page.goto(f"{live_server.url}/codes/93590/")
    overlaps = page.evaluate(
        """() => [...document.querySelectorAll('#payer-coverage .cell-badges .badge')].filter(badge => {
            const cell = badge.closest('td').getBoundingClientRect(), box = badge.getBoundingClientRect();
            return box.right > cell.right || box.left < cell.left;
        }).map(badge => badge.textContent)"""
    )
    assert overlaps == []
    assert page.locator("#payer-coverage .badge", has_text="Covered with criteria").count() == 1


@pytest.mark.parametrize("viewport", [PHONE, LAPTOP], ids=["390px", "1366px"])
def test_gap_worklist_never_breaks_a_word(reader_page, demo, live_server, viewport):
    """No "Reimbursemen/t" or "UnitedHealt/hcare": each word of a worklist cell lies on one line.

    A line may still end after a hyphen, as in "ICD-/10-CM", which is how hyphenated words wrap.
    """
    page = reader_page(viewport)
    page.goto(f"{live_server.url}/gaps/")
    broken = page.evaluate(
        """() => {
            const broken = [];
            for (const cell of document.querySelectorAll('#gap-worklist td, #gap-worklist th')) {
                const walker = document.createTreeWalker(cell, NodeFilter.SHOW_TEXT);
                for (let node = walker.nextNode(); node; node = walker.nextNode()) {
                    for (const match of node.textContent.matchAll(/[^\\s-]+/g)) {
                        const range = document.createRange();
                        range.setStart(node, match.index);
                        range.setEnd(node, match.index + match[0].length);
                        const tops = new Set([...range.getClientRects()].map(rect => Math.round(rect.top)));
                        if (tops.size > 1) broken.push(match[0]);
                    }
                }
            }
            return broken;
        }"""
    )
    assert broken == []
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
