"""The instance page in a real browser: a dual-notification notice driven by events and the simulated
clock — its countdowns in the units of each rule (48 hours, ``48h + 1 working day`` across a weekend,
overdue, suspended, provisional in a year whose calendar is not published), its history with every
cause and rule version, the Mermaid diagram with the current state highlighted, and the 404 of an
unknown id and of another department's case for a scoped operator."""

from __future__ import annotations

import re
from datetime import date, datetime, time, timedelta
from typing import Any

from playwright.sync_api import Page, expect

from tests.e2e.flows.dual_notification.conftest import HOTEL, PHARMACY, at
from tests.e2e.ui.conftest import Ui
from workflows.time.calendar import SHANGHAI

NAME = "青岛崂山仁心大药房有限公司"
#: a drug-retail notice for SCJG_YP and a public-place hygiene notice for WJJ
SCOPE = "药品零售；理发服务"
REASON = "延期：企业申请材料补正 approved"


def _ordinary_week(ui: Ui, after: date) -> tuple[date, bool]:
    """The first Wednesday after ``after`` of a plain week on the rules' calendar (chinese-calendar's
    tables and ``calendar.yaml``; an estimate in a year neither has): Wed, Thu, Fri and the next Mon
    working days, the Saturday and Sunday between days off; and whether that week is provisional."""
    calendar = ui.e2e.stack.runtime.rules.current.calendar
    day = after + timedelta(days=1)
    while True:
        if day.weekday() == 2:
            days = [calendar.is_workday(day + timedelta(days=k)) for k in range(6)]
            if [works for works, _ in days] == [True, True, True, False, False, True]:
                return day, any(provisional for _, provisional in days)
        day += timedelta(days=1)


def _beijing(day: date, hour: int) -> datetime:
    return datetime.combine(day, time(hour), SHANGHAI)


def _unpublished_year(ui: Ui) -> int:
    """The first year after the clock's that the rules' calendar and chinese-calendar both lack."""
    year = ui.e2e.now().astimezone(SHANGHAI).year + 1
    calendar = ui.e2e.stack.runtime.rules.current.calendar
    while year in calendar.announced_years():
        year += 1
    return year


def _drug_notice(ui: Ui) -> dict[str, Any]:
    ui.e2e.license(PHARMACY, NAME, SCOPE)
    ui.e2e.stack.settle()
    return ui.e2e.notice(PHARMACY, "DRUG_RETAIL", "SCJG_YP")


def _open(ui: Ui, page: Page, instance_id: int) -> None:
    page.goto(f"{ui.url}/ui/instances/{instance_id}")
    expect(page.locator("#state")).to_be_visible()


def _countdown(page: Page, timer: str) -> Any:
    return page.locator(f'#clocks tr[data-timer="{timer}"] td.countdown')


def test_countdowns_follow_the_simulated_clock_in_each_rules_units(ui: Ui) -> None:
    wednesday, provisional = _ordinary_week(ui, ui.e2e.now().astimezone(SHANGHAI).date())
    ui.e2e.tick_to(_beijing(wednesday, 10))
    notice = _drug_notice(ui)
    nid = notice["id"]
    pushed = at(notice["context"]["pushed_at"])
    assert pushed.astimezone(SHANGHAI).date() == wednesday

    ui.e2e.tick_to(pushed + timedelta(hours=17))  # Thursday 03:00
    page = ui.login()
    _open(ui, page, nid)
    expect(page.locator("#state")).to_have_text("awaiting_claim")
    expect(page.locator('#context tr[data-key="department"] td')).to_have_text("SCJG_YP")
    expect(page.locator('#context tr[data-key="uscc"] a')).to_have_attribute(
        "href", f"/ui/enterprises/{PHARMACY}"
    )
    expect(_countdown(page, "claim_warning")).to_have_text("19 hours left")
    expect(_countdown(page, "claim_deadline")).to_have_text("31 hours left")
    # 48 h end on Friday 10:00, then one working day: Friday is its start day, the weekend is off
    expect(_countdown(page, "claim_supervision")).to_have_text(
        "31 hours + 1 working day left, due 周一 24:00"
    )
    expect(page.locator('#clocks [data-note="provisional"]')).to_have_count(1 if provisional else 0)
    expect(page.locator('#summary [data-fact="started"] time')).to_have_text(
        f"{wednesday:%Y-%m-%d} 周三 {pushed.astimezone(SHANGHAI):%H:%M}"
    )

    ui.e2e.tick_to(pushed + timedelta(hours=51))  # Friday 13:00: the claim is 3 hours late
    page.reload()
    expect(_countdown(page, "claim_warning")).to_have_text("warning passed 15 hours ago")
    expect(_countdown(page, "claim_deadline")).to_have_text("overdue by 3 hours")
    expect(page.locator('#clocks tr[data-timer="claim_deadline"]')).to_have_attribute(
        "data-status", "overdue"
    )
    expect(_countdown(page, "claim_supervision")).to_have_text("1 working day left, due 周一 24:00")

    ui.e2e.tick_to(pushed + timedelta(hours=74))  # Saturday noon: a day off leaves the count alone
    page.reload()
    expect(_countdown(page, "claim_supervision")).to_have_text("1 working day left, due 周一 24:00")

    with ui.e2e.api.client(ui.operator) as client:
        answer = client.post(f"/instances/{nid}/suspend", json={"reason": REASON})
        assert answer.status_code == 200, answer.text
    ui.e2e.tick(30)  # Sunday 18:00 … a suspended clock does not run
    page.reload()
    row = page.locator('#clocks tr[data-timer="claim_supervision"]')
    expect(row).to_have_attribute("data-status", "suspended")
    expect(row.locator("td.countdown")).to_have_text("suspended, 1 working day left")
    expect(row.locator('[data-note="suspended"]')).to_contain_text("suspended since")

    # the history: every entry of the API's, in order, each with its cause and rule version
    detail = ui.e2e.instance(nid)
    entries = page.locator("#history > li")
    expect(entries).to_have_count(len(detail["history"]))
    assert [h["trigger"] for h in detail["history"]][-3:] == [
        "claim_warning_passed",
        "claim_deadline_passed",
        "timer_suspended",
    ]
    names = {str(t["id"]): t["name"] for t in detail["timers"]}
    for i, h in enumerate(detail["history"]):
        item = entries.nth(i)
        expect(item).to_have_attribute("data-trigger", h["trigger"])
        expect(item.locator(".rules-version")).to_have_text(detail["rules_version"])
        expect(item.locator("time")).to_have_text(_local(h["at"]))
        if h["cause"]["kind"] == "timer":
            expect(item.locator(".timer-name")).to_have_text(names[h["cause"]["id"]])
    fired = page.locator('#history li[data-cause="timer"] .timer-name')
    expect(fired).to_have_text(["claim_warning", "claim_deadline"])
    suspended = page.locator('#history li[data-trigger="timer_suspended"]')
    expect(suspended.locator(".operator")).to_have_text("ui-operator")
    expect(suspended.locator(".reason")).to_have_text(REASON)
    expect(suspended.locator(".move")).to_have_text("awaiting_claim → awaiting_claim (stays)")
    expect(suspended.locator('.ledger li[data-timer="claim_supervision"]')).to_have_text(
        f"claim_supervision: 1 working day left, was due {wednesday + timedelta(days=5):%Y-%m-%d} 周一 24:00"
    )

    # resumed on Monday 09:00 with its one working day: Monday is the start day, Tuesday is counted
    tuesday = wednesday + timedelta(days=6)
    ui.e2e.tick_to(_beijing(wednesday + timedelta(days=5), 9))
    with ui.e2e.api.client(ui.operator) as client:
        answer = client.post(f"/instances/{nid}/resume", json={"reason": "材料已补正"})
        assert answer.status_code == 200, answer.text
    page.reload()
    expect(row).to_have_attribute("data-status", "running")
    expect(row.locator("td.countdown")).to_have_text("1 working day left, due 周二 24:00")
    expect(row.locator("td.due")).to_have_text(f"{tuesday:%Y-%m-%d} 周二 24:00")
    resumed = page.locator('#history li[data-trigger="timer_resumed"]')
    expect(resumed.locator(".reason")).to_have_text("材料已补正")
    expect(resumed.locator(".ledger li")).to_have_text(
        f"claim_supervision: 1 working day left, now due {tuesday:%Y-%m-%d} 周二 24:00"
    )
    expect(page.locator("#history > li")).to_have_count(len(detail["history"]) + 1)


def _local(iso: str) -> str:
    moment = datetime.fromisoformat(iso).astimezone(SHANGHAI)
    return f"{moment:%Y-%m-%d} 周{'一二三四五六日'[moment.weekday()]} {moment:%H:%M}"


def test_the_history_diagram_and_a_provisional_year(ui: Ui) -> None:
    year = _unpublished_year(ui)
    ui.e2e.tick_to(_beijing(date(year, 1, 5), 10))
    notice = _drug_notice(ui)
    wjj = ui.e2e.notice(PHARMACY, "PUBLIC_PLACE_HYGIENE", "WJJ")
    claim = {"notice": wjj["id"], "officer": "WJJ-007", "claimed_at": ui.e2e.now().isoformat()}
    ui.e2e.emit("notice.claimed", claim, id="claim-wjj-42", source="/departments/app")
    ui.e2e.stack.settle()

    page = ui.login()
    _open(ui, page, notice["id"])
    # the supervision's working day falls in a year whose calendar is estimated
    row = page.locator('#clocks tr[data-timer="claim_supervision"]')
    expect(row.locator('[data-note="provisional"]')).to_contain_text(
        f"the {year} calendar is not published yet"
    )
    expect(page.locator('#clocks tr[data-timer="claim_deadline"] td.countdown')).to_have_text("48 hours left")

    _open(ui, page, wjj["id"])
    expect(page.locator("#state")).to_have_text("claimed")
    expect(page.locator("#no-clocks")).to_be_visible()
    claimed = page.locator('#history li[data-trigger="claim"]')
    expect(claimed).to_have_attribute("data-cause", "event")
    expect(claimed.locator(".event-id")).to_have_text("claim-wjj-42")
    expect(claimed.locator(".event-source")).to_have_text("/departments/app")
    expect(claimed.locator(".move")).to_have_text("awaiting_claim → claimed")
    started = page.locator("#history > li").first
    expect(started).to_have_attribute("data-trigger", "start")

    # the diagram: generated text in the page, rendered to an SVG, the current state highlighted
    source = page.locator("#diagram-source").text_content() or ""
    assert source.startswith("stateDiagram-v2\n")
    current = re.search(r'state "claimed" as (s\d+)', source)
    assert current is not None
    assert f"class {current.group(1)} current" in source
    assert re.search(r"class (s\d+,)*s\d+ visited", source)
    svg = page.locator("#diagram svg")
    expect(svg).to_have_count(1)
    node = page.locator(f'#diagram svg g.node[id*="-{current.group(1)}-"]')
    expect(node).to_have_count(1)
    expect(node).to_have_class(re.compile(r"\bcurrent\b"))
    visited = page.locator("#diagram svg g.node.visited")  # created, awaiting_claim
    expect(visited).to_have_count(2)
    expect(visited).to_have_text(["created", "awaiting_claim"])
    fill = node.locator("rect, path").first.evaluate("e => getComputedStyle(e).fill")
    assert fill == "rgb(240, 162, 2)", fill
    # fitted to the page, and at its actual size (scrolled sideways) by a keyboard-usable toggle
    fitted = svg.evaluate("e => e.getBoundingClientRect().width")
    zoom = page.get_by_role("button", name="Actual size")
    zoom.focus()
    page.keyboard.press("Enter")
    expect(zoom).to_have_attribute("aria-pressed", "true")
    assert svg.evaluate("e => e.getBoundingClientRect().width") > fitted
    zoom.press("Enter")
    expect(zoom).to_have_attribute("aria-pressed", "false")
    assert svg.evaluate("e => e.getBoundingClientRect().width") == fitted


def test_unknown_and_other_departments_instances_are_404(ui: Ui) -> None:
    notice = _drug_notice(ui)
    wjj = ui.e2e.notice(PHARMACY, "PUBLIC_PLACE_HYGIENE", "WJJ")
    ui.e2e.license(HOTEL, "崂山海韵宾馆", "药品零售")
    ui.e2e.stack.settle()
    page = ui.login()
    answer = page.goto(f"{ui.url}/ui/instances/999999")
    assert answer is not None and answer.status == 404
    expect(page.locator("h1")).to_have_text("404")
    expect(page.locator(".error")).to_have_text("no instance #999999")

    scoped = ui.login(ui.scoped, page.context.new_page())
    answer = scoped.goto(f"{ui.url}/ui/instances/{notice['id']}")
    assert answer is not None and answer.status == 404
    expect(scoped.locator(".error")).to_have_text(f"no instance #{notice['id']}")
    body = scoped.locator("main").inner_text()
    for secret in ("SCJG_YP", "DRUG_RETAIL", notice["business_key"], PHARMACY, NAME, "awaiting_claim"):
        assert secret not in body
    assert "SCJG_YP" not in scoped.content() and PHARMACY not in scoped.content()
    # their own department's notice opens
    answer = scoped.goto(f"{ui.url}/ui/instances/{wjj['id']}")
    assert answer is not None and answer.status == 200
    expect(scoped.locator("#state")).to_have_text("awaiting_claim")
    expect(scoped.locator('#context tr[data-key="department"] td')).to_have_text("WJJ")

    # a closed case: its close time, no clock left, the final state highlighted
    [hotel] = ui.e2e.notices(HOTEL).values()
    cancel = ui.e2e.http.post(f"/instances/{hotel['id']}/cancel", json={"reason": "企业注销"})
    assert cancel.status_code == 200, cancel.text
    closed = ui.e2e.instance(hotel["id"])
    page = ui.login(ui.operator, page)  # the browser's session was the scoped operator's
    _open(ui, page, hotel["id"])
    expect(page.locator("#state")).to_have_text("cancelled")
    expect(page.locator("#closed")).to_be_visible()
    expect(page.locator('#summary [data-fact="closed"] time')).to_have_text(_local(closed["closed_at"]))
    expect(page.locator("#no-clocks")).to_have_text("No open deadline: the case is closed.")
    expect(page.locator("#past-timers tbody tr")).to_have_count(len(closed["timers"]))
    expect(page.locator('#past-timers tr[data-timer="claim_deadline"]')).to_have_attribute(
        "data-status", "cancelled"
    )
    cancelled = page.locator('#history li[data-trigger="cancel"]')
    expect(cancelled.locator(".operator")).to_have_text("test-admin")
    expect(cancelled.locator(".move")).to_have_text("awaiting_claim → cancelled")
    expect(page.locator("#diagram svg g.node.current")).to_have_text("cancelled")
