"""The grid pages in a real browser: the grid scorecard per street, grid and worker shows the numbers of
``GET /grid/scorecard``, and the open tasks by street, grid and worker those of ``GET /tasks``."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from playwright.sync_api import Page, expect

from tests.e2e.flows.grid_check.conftest import DIRECTORY, Grid, load_directory
from tests.e2e.ui.conftest import Ui


def history(ui: Ui, tmp_path: Path) -> dict[str, int]:
    """Four complaints: one checked ok, one found unlicensed, one never acknowledged by the backup
    worker, one returned to the street office; eight days pass."""
    load_directory(ui.e2e, tmp_path, DIRECTORY)
    grid = Grid(ui.e2e)
    tasks = {
        "ok": grid.complaint("ZH-001"),
        "unlicensed": grid.complaint("ZH-001"),
        "late": grid.complaint("ZH-003"),
        "returned": grid.complaint("JJL-001"),
    }
    grid.post(
        "grid.task.returned",
        {"task": tasks["returned"], "by": "GW-0005", "reason": "other", "returned_at": grid.at()},
    )
    grid.settle()
    ui.e2e.tick(24 * 8)
    grid.check(tasks["ok"], "ok")
    grid.check(tasks["unlicensed"], "unlicensed")
    grid.settle()
    return tasks


def pct(value: float | None) -> str:
    return "—" if value is None else f"{value * 100:.1f}%"


def shown(value: Any) -> str:
    return "—" if value is None else str(value)


def check_rows(page: Page, table: str, rows: list[dict[str, Any]]) -> None:
    expect(page.locator(f"#{table} tbody tr[data-key]")).to_have_count(len(rows))
    for s in rows:
        row = page.locator(f'#{table} tr[data-key="{s["key"]}"]')
        expected = {
            "pushes": str(s["pushes"]),
            "checked": str(s["checked"]),
            "verified_rate": pct(s["verified_rate"]),
            "unlicensed": str(s["unlicensed"]),
            "days_p50": shown(s["days_p50"]),
            "days_p90": shown(s["days_p90"]),
            "overdue_street": str(s["overdue"]["street"]),
            "overdue_department": str(s["overdue"]["department"]),
            "overdue_district": str(s["overdue"]["district"]),
            "returns": str(s["returns"]),
        }
        actual = {col: row.locator(f'[data-col="{col}"]').inner_text() for col in expected}
        assert actual == expected, (table, s["key"])


def test_the_grid_scorecard_page_shows_the_apis_numbers(ui: Ui, tmp_path: Path) -> None:
    history(ui, tmp_path)
    page = ui.login()
    page.get_by_role("link", name="Grid scorecard").click()
    expect(page).to_have_url(re.compile(r"/ui/grid/scorecard$"))
    card = ui.e2e.get("/grid/scorecard")
    assert (card["overall"]["pushes"], card["overall"]["checked"], card["overall"]["unlicensed"]) == (4, 2, 1)
    expect(page.locator("#pushes")).to_have_text(str(card["overall"]["pushes"]))
    expect(page.locator("#checked")).to_have_text(str(card["overall"]["checked"]))
    expect(page.locator("#unlicensed")).to_have_text(str(card["overall"]["unlicensed"]))
    expect(page.locator("#overdue-total")).to_have_text(str(card["overall"]["overdue_total"]))
    expect(page.locator("#returns")).to_have_text(str(card["overall"]["returns"]))
    check_rows(page, "streets", card["streets"])
    check_rows(page, "grids", card["grids"])
    check_rows(page, "workers", card["workers"])
    expect(page.locator('#streets tr[data-key="ZHONGHAN"]')).to_contain_text("中韩街道")
    expect(page.locator('#grids tr[data-key="ZH-003"]')).to_contain_text("中韩街道第3网格")

    # a range before any dispatch: nothing, as the API says
    start = page.get_by_label("From (dispatched on or after)")
    start.fill("2026-01-01")
    page.get_by_label("To (inclusive)").fill("2026-01-31")
    page.get_by_label("To (inclusive)").press("Enter")
    page.wait_for_url(re.compile(r"start=2026-01-01&end=2026-01-31$"))
    empty = ui.e2e.get("/grid/scorecard", start="2026-01-01", end="2026-01-31")
    assert empty["overall"]["pushes"] == 0
    expect(page.locator("#pushes")).to_have_text("0")
    expect(page.locator("#streets tbody tr[data-key]")).to_have_count(0)


def test_the_open_tasks_page_filters_by_street_grid_and_worker_as_the_api_does(
    ui: Ui, tmp_path: Path
) -> None:
    tasks = history(ui, tmp_path)
    page = ui.login()
    page.goto(f"{ui.url}/ui/grid/tasks")
    every = ui.e2e.get("/tasks", flow="grid_check", limit=500)["items"]
    rows = page.locator("#tasks tbody tr[data-instance]")
    expect(rows).to_have_count(len(every))
    assert tasks["ok"] not in {i["id"] for i in every}  # checked ok: closed

    by_grid: dict[str, int] = {}
    for item in every:
        by_grid[item["grid"]] = by_grid.get(item["grid"], 0) + 1
    for grid, n in by_grid.items():
        expect(page.locator(f'#by-grid tr[data-key="{grid}"] td.num')).to_have_text(str(n))

    street = page.get_by_label("Street 街道")
    street.focus()
    street.type("ZHONGHAN")
    street.press("Enter")
    page.wait_for_url(re.compile(r"street=ZHONGHAN"))
    api = {i["id"] for i in ui.e2e.get("/tasks", flow="grid_check", street="ZHONGHAN")["items"]}
    assert api == {tasks["late"], tasks["unlicensed"]}
    ids = {int(x) for x in rows.evaluate_all("rs => rs.map(r => r.dataset.instance)")}
    assert ids == api
    expect(page.locator("#total strong")).to_have_text(str(len(api)))

    page.get_by_label("Street 街道").fill("")
    page.get_by_label("Worker 网格员").fill("GW-0002")
    page.get_by_role("button", name="Filter").click()
    page.wait_for_url(re.compile(r"worker=GW-0002"))
    api = {i["id"] for i in ui.e2e.get("/tasks", worker="GW-0002")["items"]}
    assert api == {tasks["late"]}
    expect(rows).to_have_count(1)
    expect(rows.first).to_have_attribute("data-instance", str(tasks["late"]))

    page.goto(f"{ui.url}/ui/grid/tasks?grid=JJL-001")
    expect(rows).to_have_count(1)
    expect(rows.first).to_have_attribute("data-instance", str(tasks["returned"]))
