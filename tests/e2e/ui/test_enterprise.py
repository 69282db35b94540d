"""The enterprise page (全景画像) in a real browser: one USCC's notices and grid check with their states,
deadlines met and missed, its directory facts, Chinese names in a CJK font, and a department-scoped
operator who sees only their department's cases."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from playwright.sync_api import expect

from tests.e2e.flows.dual_notification.conftest import HOTEL, PHARMACY
from tests.e2e.flows.grid_check.conftest import DIRECTORY, load_directory
from tests.e2e.ui.conftest import Ui

NAME = "青岛崂山仁心大药房有限公司"
#: a drug-retail notice for SCJG_YP, a public-place hygiene notice for WJJ, and a grid information check
SCOPE = "药品零售；理发服务"


def licensed(ui: Ui, tmp_path: Path) -> dict[str, int]:
    """The pharmacy licensed; WJJ claims its notice at once, SCJG_YP never does; 49 hours pass."""
    e2e = ui.e2e
    load_directory(e2e, tmp_path, DIRECTORY)
    e2e.license(PHARMACY, NAME, SCOPE)
    e2e.license(HOTEL, "崂山海韵宾馆", "药品零售")  # an SCJG_YP notice only
    e2e.stack.settle()
    wjj = e2e.notice(PHARMACY, "PUBLIC_PLACE_HYGIENE", "WJJ")["id"]
    drug = e2e.notice(PHARMACY, "DRUG_RETAIL", "SCJG_YP")["id"]
    e2e.claim(wjj, "WJJ-007")
    e2e.stack.settle()
    e2e.tick(49)
    [grid] = e2e.instances(flow="grid_check", subject=PHARMACY)
    return {"wjj": wjj, "drug": drug, "grid": grid["id"]}


def missed_and_met(ui: Ui, detail: dict[str, Any]) -> tuple[set[str], int]:
    """By the JSON API: the deadlines (not warnings) that fired, and how many were left in time."""
    warnings = ui.e2e.stack.runtime.registry.warning_timers
    timers = [t for t in detail["timers"] if (detail["flow"], t["name"]) not in warnings]
    fired = {t["name"] for t in timers if t["status"] == "fired"}
    return fired, sum(t["status"] == "cancelled" for t in timers)


def test_the_enterprise_page_shows_every_flow_with_states_and_a_missed_deadline(
    ui: Ui, tmp_path: Path
) -> None:
    ids = licensed(ui, tmp_path)
    page = ui.login()
    page.get_by_role("link", name="Enterprises").click()
    search = page.get_by_label("USCC or name")
    search.fill("仁心")
    search.press("Enter")
    expect(page.locator("#matches tbody tr")).to_have_count(1)
    page.get_by_role("link", name=PHARMACY).click()
    expect(page).to_have_url(re.compile(f"/ui/enterprises/{PHARMACY}$"))

    expect(page.locator("#enterprise-name")).to_have_text(NAME)
    assert page.evaluate("""document.fonts.check('16px "Noto Sans CJK SC"', '仁心大药房')""") is True
    facts = {"street": "ZHONGHAN", "grid": "ZH-001", "name": NAME}
    for key, value in facts.items():
        expect(page.locator(f'[data-fact="{key}"] dd')).to_have_text(value)

    every = ui.e2e.instances(subject=PHARMACY)
    assert {i["flow"] for i in every} == {"license_registration", "dual_notification", "grid_check"}
    expect(page.locator("table.cases tbody tr")).to_have_count(len(every))
    all_missed: list[tuple[int, str]] = []
    all_met = 0
    for item in every:
        row = page.locator(f'table.cases[data-flow="{item["flow"]}"] tr[data-instance="{item["id"]}"]')
        expect(row.locator("td.state")).to_have_text(item["state"])
        fired, met = missed_and_met(ui, ui.e2e.instance(item["id"]))
        all_missed += [(item["id"], name) for name in sorted(fired)]
        all_met += met
    states = {i["id"]: i["state"] for i in every}
    assert (states[ids["wjj"]], states[ids["drug"]]) == ("claimed", "awaiting_claim")

    # the SCJG_YP notice missed its 48-hour claim; the WJJ claim was in time
    assert (ids["drug"], "claim_deadline") in all_missed
    assert not any(i == ids["wjj"] for i, _ in all_missed)
    expect(page.locator("#deadlines-missed")).to_have_text(str(len(all_missed)))
    expect(page.locator("#deadlines-met")).to_have_text(str(all_met))
    assert all_met >= 1
    shown = page.locator("#missed-deadlines tbody tr")
    expect(shown).to_have_count(len(all_missed))
    missed_row = page.locator(
        f'#missed-deadlines tr[data-instance="{ids["drug"]}"][data-timer="claim_deadline"]'
    )
    expect(missed_row).to_have_count(1)
    badge = page.locator(f'tr[data-instance="{ids["drug"]}"] [data-deadline="claim_deadline"]')
    expect(badge).to_have_text("claim_deadline: missed")
    expect(page.locator(f'tr[data-instance="{ids["wjj"]}"] [data-deadline="claim_deadline"]')).to_have_text(
        "claim_deadline: met"
    )
    # a case links to its instance; the link is keyboard reachable
    link = page.locator(f'tr[data-instance="{ids["drug"]}"] a').first
    link.focus()
    assert page.evaluate("document.activeElement.textContent") == f"#{ids['drug']}"


def test_a_scoped_operator_sees_only_their_departments_cases(ui: Ui, tmp_path: Path) -> None:
    ids = licensed(ui, tmp_path)
    page = ui.login(ui.scoped)
    page.goto(f"{ui.url}/ui/enterprises/{PHARMACY}")
    rows = page.locator("table.cases tbody tr")
    expect(rows).to_have_count(1)
    expect(rows.first).to_have_attribute("data-instance", str(ids["wjj"]))
    expect(page.locator(f'tr[data-instance="{ids["drug"]}"]')).to_have_count(0)
    expect(page.locator(f'tr[data-instance="{ids["grid"]}"]')).to_have_count(0)
    expect(page.locator("#deadlines-missed")).to_have_text("0")
    expect(page.get_by_text("SCJG_YP")).to_have_count(0)

    # the hotel has only another department's notice: nothing of it shows, nor in a search
    page.goto(f"{ui.url}/ui/enterprises/{HOTEL}")
    expect(page.locator("#no-cases")).to_contain_text("department WJJ")
    expect(page.locator("table.cases")).to_have_count(0)
    page.goto(f"{ui.url}/ui/enterprises?q=崂山")
    expect(page.locator("#matches tbody tr[data-uscc]")).to_have_count(1)
    expect(page.locator(f'#matches tr[data-uscc="{PHARMACY}"]')).to_have_count(1)

    # the district operator sees the hotel's notice
    district = ui.login(ui.operator, page.context.new_page())
    district.goto(f"{ui.url}/ui/enterprises/{HOTEL}")
    expect(district.locator('table.cases[data-flow="dual_notification"] tbody tr')).to_have_count(1)
