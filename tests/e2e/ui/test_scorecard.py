"""The dual-notification scorecard with ECharts, in a real browser: the chart data embedded in the page
equals the JSON scorecard API's for the same date range, a narrower range changes it, ECharts drew its
canvases from it, and a department-scoped operator sees only their department's series."""

from __future__ import annotations

import re
from datetime import date, datetime, timedelta
from typing import Any

from playwright.sync_api import Page, expect

from tests.e2e.flows.dual_notification.conftest import BAKERY, PHARMACY
from tests.e2e.ui.conftest import Ui
from workflows.time.calendar import SHANGHAI

LEVELS = ("warning", "overdue", "supervision")


def today(ui: Ui) -> date:
    return ui.e2e.now().astimezone(SHANGHAI).date()


def history(ui: Ui) -> tuple[date, date]:
    """Day 1: a pharmacy (a WJJ notice claimed at once, its permit the next day, and an SCJG_YP notice
    never claimed); day 2: a bakery (an SCJG_SP notice never claimed); then 49 hours pass."""
    e2e = ui.e2e
    first = today(ui)
    e2e.license(PHARMACY, "青岛崂山仁心大药房有限公司", "药品零售；理发服务")
    e2e.stack.settle()
    e2e.claim(e2e.notice(PHARMACY, "PUBLIC_PLACE_HYGIENE", "WJJ")["id"], "WJJ-007")
    e2e.tick(24)
    e2e.permit(PHARMACY, "PUBLIC_PLACE_HYGIENE", "WJJ", "卫公字2026第001号", e2e.now())
    e2e.license(BAKERY, "崂山麦香坊面包店", "食品销售")
    second = today(ui)
    e2e.stack.settle()
    e2e.tick(49)
    return first, second


def embedded(page: Page) -> dict[str, Any]:
    data: dict[str, Any] = page.evaluate("JSON.parse(document.getElementById('scorecard-data').textContent)")
    return data


def choose(page: Page, start: date, end: date) -> None:
    page.get_by_label("From (pushed on or after)").fill(start.isoformat())
    page.get_by_label("To (inclusive)").fill(end.isoformat())
    page.get_by_role("button", name="Apply").click()
    page.wait_for_url(re.compile(rf"/ui/scorecard/notices\?start={start}&end={end}$"))
    expect(page.get_by_label("From (pushed on or after)")).to_have_value(start.isoformat())
    page.wait_for_function(
        "window.echarts && echarts.getInstanceByDom(document.getElementById('chart-permit'))"
    )


def series(page: Page, chart: str, index: int = 0) -> list[Any]:
    data: list[Any] = page.evaluate(
        f"echarts.getInstanceByDom(document.getElementById('{chart}')).getOption().series[{index}].data"
    )
    return data


def pct(value: float | None) -> float | None:
    return None if value is None else round(value * 1000) / 10


def levels_by_api(ui: Ui, start: date, end: date) -> list[int]:
    """Notices by the highest escalation they reached, from their contexts in the JSON API."""
    counts = dict.fromkeys(LEVELS, 0)
    for item in ui.e2e.instances(flow="dual_notification"):
        created = datetime.fromisoformat(item["created_at"]).astimezone(SHANGHAI).date()
        if not start <= created <= end:
            continue
        kinds = {e["kind"] for e in ui.e2e.instance(item["id"])["context"].get("escalations", [])}
        reached = [k for k in LEVELS if k in kinds]
        if reached:
            counts[reached[-1]] += 1
    return [counts[k] for k in LEVELS]


def test_the_chart_data_is_the_scorecard_apis_and_a_date_range_changes_it(ui: Ui) -> None:
    first, second = history(ui)
    page = ui.login()
    page.get_by_role("link", name="Scorecard", exact=True).click()
    page.locator("#scorecards").get_by_role("link", name="Notice scorecard").click()
    choose(page, first, today(ui))

    data = embedded(page)
    api = ui.e2e.get("/scorecard", start=first.isoformat(), end=today(ui).isoformat())
    assert data["departments"] == api["departments"] and data["overall"] == api["overall"]
    codes = [d["department"] for d in api["departments"]]
    assert codes == ["SCJG_SP", "SCJG_YP", "WJJ"]
    assert api["overall"]["notices"] == 3 and api["overall"]["permits_issued"] == 1
    wjj = next(d for d in api["departments"] if d["department"] == "WJJ")
    assert wjj["permit_rate"] == 1.0 and wjj["avg_working_days"] is not None

    # ECharts drew each chart (a canvas) from those numbers
    for chart in ("chart-trend", "chart-permit", "chart-days", "chart-levels"):
        expect(page.locator(f"#{chart} canvas")).to_have_count(1)
    assert series(page, "chart-permit") == [pct(d["permit_rate"]) for d in api["departments"]]
    assert series(page, "chart-days") == [d["avg_working_days"] for d in api["departments"]]
    trend = data["trend"]
    assert first.isoformat() in trend["labels"] and second.isoformat() in trend["labels"]
    assert sum(trend["claimed_in_time"]) == api["overall"]["claimed_in_time"]
    assert sum(trend["claim_due"]) == api["overall"]["claim_due"]
    assert series(page, "chart-trend", 0) == trend["claimed_in_time"]
    assert series(page, "chart-levels") == levels_by_api(ui, first, today(ui))
    assert sum(series(page, "chart-levels")) >= 2  # both unclaimed notices went overdue
    expect(page.locator("#departments tbody tr[data-department]")).to_have_count(3)
    expect(page.locator('#departments tr[data-department="WJJ"]')).to_contain_text("区卫生健康局")

    # day 2 alone: only the bakery's notice
    choose(page, second, second)
    narrow = embedded(page)
    api2 = ui.e2e.get("/scorecard", start=second.isoformat(), end=second.isoformat())
    assert narrow["overall"] == api2["overall"] and narrow["departments"] == api2["departments"]
    assert narrow["overall"]["notices"] == 1 != data["overall"]["notices"]
    assert [d["department"] for d in narrow["departments"]] == ["SCJG_SP"]
    assert series(page, "chart-permit") == [pct(api2["departments"][0]["permit_rate"])]
    assert narrow["trend"]["labels"] == [second.isoformat()]

    # a range of more than 62 days is bucketed by ISO week; the figures are the API's still
    wide_start = first - timedelta(days=70)
    choose(page, wide_start, today(ui))
    wide = embedded(page)
    api3 = ui.e2e.get("/scorecard", start=wide_start.isoformat(), end=today(ui).isoformat())
    assert wide["bucket"] == "week" and wide["overall"] == api3["overall"]
    assert all(re.fullmatch(r"\d{4}-W\d{2}", label) for label in wide["trend"]["labels"])
    assert sum(wide["trend"]["claim_due"]) == api3["overall"]["claim_due"]

    # the range form is keyboard reachable: From → To → Apply (Tab first walks a date's fields)
    page.get_by_label("From (pushed on or after)").focus()
    order: list[str] = []
    for _ in range(8):
        page.keyboard.press("Tab")
        now_at = page.evaluate("document.activeElement.id || document.activeElement.textContent")
        if not order or order[-1] != now_at:
            order.append(now_at)
    assert order[:3] == ["start", "end", "Apply"] or order[:2] == ["end", "Apply"], order


def test_a_scoped_operator_sees_only_their_departments_series(ui: Ui) -> None:
    first, _ = history(ui)
    page = ui.login(ui.scoped)
    page.goto(f"{ui.url}/ui/scorecard/notices")
    choose(page, first, today(ui))
    data = embedded(page)
    api = ui.e2e.get("/scorecard", start=first.isoformat(), end=today(ui).isoformat())
    wjj = next(d for d in api["departments"] if d["department"] == "WJJ")
    assert data["departments"] == [wjj]
    assert data["overall"]["notices"] == wjj["notices"] == 1
    assert data["overall"]["permits_issued"] == wjj["permits_issued"]
    assert series(page, "chart-permit") == [pct(wjj["permit_rate"])]
    expect(page.locator("#departments tbody tr[data-department]")).to_have_count(1)
    expect(page.get_by_text("SCJG_YP")).to_have_count(0)

    # a range that ends before it starts is refused with a message naming the field
    response = page.goto(f"{ui.url}/ui/scorecard/notices?start=2026-12-10&end=2026-12-01")
    assert response is not None and response.status == 422
    expect(page.get_by_role("alert")).to_contain_text("start:")
    expect(page.get_by_role("alert")).to_contain_text("is not before the end")
