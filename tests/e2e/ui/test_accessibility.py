"""Accessibility of the login, overview and list pages in a real browser: by keyboard alone (Tab,
Enter) from the skip link through the navigation to the list's filter form, filled and submitted;
every form control has an accessible label; Chinese names render in a CJK font."""

from __future__ import annotations

import re
from pathlib import Path

from playwright.sync_api import Page, expect

from tests.e2e.flows.dual_notification.conftest import PHARMACY
from tests.e2e.ui.conftest import ARTIFACTS, Ui
from tests.e2e.ui.test_instances import NAMES, district, listed

#: every control of a page: the label it must have (an accessible name), by its element id
LABELS = {
    "login": {"token": "Operator token"},
    "list": {
        "f-flow": "Flow",
        "f-state": "State",
        "f-department": "Department 部门",
        "f-street": "Street 街道",
        "f-grid": "Grid 网格",
        "f-subject": "USCC or enterprise name 统一社会信用代码或名称",
        "f-overdue": "Overdue 逾期",
        "f-due": "Due before (Beijing time)",
    },
}

#: the controls of the page without an accessible name (hidden inputs are not controls)
UNLABELLED = """() => [...document.querySelectorAll('input, select, textarea, button')]
  .filter(el => el.type !== 'hidden')
  .filter(el => {
    const named = el.labels && el.labels.length > 0 && [...el.labels].some(l => l.textContent.trim());
    const aria = el.getAttribute('aria-label') || el.getAttribute('aria-labelledby');
    const button = el.tagName === 'BUTTON' && el.textContent.trim();
    return !(named || aria || button);
  })
  .map(el => el.outerHTML)"""


def active(page: Page) -> str:
    text: str = page.evaluate("document.activeElement.id || document.activeElement.textContent.trim()")
    return text


def tab_to(page: Page, wanted: str, limit: int = 40) -> None:
    """Press Tab until the focused element's id or text is ``wanted``."""
    for _ in range(limit):
        page.keyboard.press("Tab")
        if active(page) == wanted:
            return
    raise AssertionError(f"{wanted!r} was never focused by Tab; last: {active(page)!r}")


def test_by_keyboard_from_the_skip_link_through_the_nav_to_the_filter_form(ui: Ui, tmp_path: Path) -> None:
    district(ui, tmp_path)
    page = ui.login()
    page.goto(ui.url + "/ui/")
    page.keyboard.press("Tab")
    assert active(page) == "Skip to content"
    expect(page.locator("a.skip")).to_be_focused()
    page.keyboard.press("Enter")
    expect(page).to_have_url(re.compile(r"/ui/#main$"))
    page.goto(ui.url + "/ui/")
    tab_to(page, "Instances")  # the skip link, the brand, then the navigation
    page.keyboard.press("Enter")
    expect(page).to_have_url(re.compile(r"/ui/instances$"))
    expect(page.locator('nav[aria-label="Main"] a[aria-current="page"]')).to_have_text("Instances")

    tab_to(page, "f-flow")
    page.keyboard.press("ArrowDown")  # the first flow after "any"
    tab_to(page, "f-subject")
    page.keyboard.type("仁心")
    tab_to(page, "f-overdue")
    tab_to(page, "Filter")
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(r"subject=%E4%BB%81%E5%BF%83"))
    chosen = page.get_by_label("Flow").input_value()
    assert chosen != ""
    expected = [
        i["id"]
        for i in ui.e2e.instances(flow=chosen)
        if ui.e2e.instance(i["id"])["context"].get("name") == NAMES[PHARMACY]
    ]
    assert listed(page) == sorted(expected)
    expect(page.get_by_label("USCC or enterprise name")).to_have_value("仁心")

    # the column headers sort by keyboard too
    tab_to(page, "Next due 到期")
    page.keyboard.press("Enter")
    expect(page.locator('th[data-sort="due"]')).to_have_attribute("aria-sort", "ascending")


def test_the_overviews_refresh_keeps_the_keyboard_focus_where_it_was(ui: Ui, tmp_path: Path) -> None:
    district(ui, tmp_path)
    page = ui.login()
    target = "/ui/instances?flow=dual_notification&state=awaiting_claim"
    focused = "document.activeElement.getAttribute('href')"
    for _ in range(40):
        page.keyboard.press("Tab")
        if page.evaluate(focused) == target:
            break
    assert page.evaluate(focused) == target
    for _ in range(2):  # two refreshes by htmx: the content is new, the focus stays on the same link
        page.evaluate("document.activeElement.dataset.old = 'yes'")
        with page.expect_response(lambda r: r.url.endswith("/ui/overview/counts")):
            pass
        page.wait_for_timeout(300)
        assert page.evaluate("document.activeElement.dataset.old") is None  # a new element…
        assert page.evaluate(focused) == target  # …the same link
    page.keyboard.press("Enter")
    expect(page).to_have_url(re.compile(r"/ui/instances\?flow=dual_notification&state=awaiting_claim$"))


def test_every_control_of_the_login_overview_and_list_has_a_label(ui: Ui, tmp_path: Path) -> None:
    district(ui, tmp_path)
    page = ui.page
    page.goto(ui.url + "/ui/login")
    for control_id, label in LABELS["login"].items():
        expect(page.get_by_label(label, exact=True)).to_have_attribute("id", control_id)
    assert page.evaluate(UNLABELLED) == []
    ui.login()
    page.goto(ui.url + "/ui/")
    expect(page.locator("#red-total")).to_be_visible()
    assert page.evaluate(UNLABELLED) == []  # the log-out button is named by its text
    page.goto(ui.url + "/ui/instances")
    for control_id, label in LABELS["list"].items():
        expect(page.get_by_label(label, exact=True)).to_have_attribute("id", control_id)
    assert page.evaluate(UNLABELLED) == []
    controls = page.locator("#filters input:not([type=hidden]), #filters select")
    assert controls.count() == len(LABELS["list"])
    expect(page.locator("#f-due")).to_have_attribute("aria-describedby", "due-hint")
    # tables name themselves; sorted headers say so
    expect(page.get_by_role("table", name="Instances")).to_be_visible()
    expect(page.locator("th[aria-sort]")).to_have_count(1)


def test_an_enterprises_chinese_name_renders_in_the_list(ui: Ui, tmp_path: Path) -> None:
    district(ui, tmp_path)
    page = ui.login()
    page.goto(f"{ui.url}/ui/instances?subject={PHARMACY}")
    name = page.locator(f'#instances tr[data-instance] .name:text-is("{NAMES[PHARMACY]}")')
    expect(name.first).to_be_visible()
    expect(name.first).to_have_attribute("lang", "zh-CN")
    assert page.evaluate("""document.fonts.check('16px "Noto Sans CJK SC"', '仁心大药房')""") is True
    # the glyphs have width: a missing font would draw boxes of one width for every character
    widths = page.evaluate(
        """() => { const c = document.createElement('canvas').getContext('2d');
        c.font = '16px "Noto Sans CJK SC"'; return [c.measureText('仁').width, c.measureText('仁心大药房').width]; }"""
    )
    assert widths[0] > 8 and abs(widths[1] - 5 * widths[0]) < 1
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"instances_chinese_{ui.e2e.stack.name}.png"), full_page=True)
