"""The grid scorecard through the API and the CLI, and open tasks by grid, street and worker."""

from __future__ import annotations

from typer.testing import CliRunner

from tests.e2e.flows.grid_check.conftest import Grid
from worker import PLUGINS, compose
from workflows.cli.app import build_app
from workflows.cli.table import width


def test_the_scorecard_counts_pushes_checks_unlicensed_days_overdue_and_returns(grid: Grid) -> None:
    e2e = grid.e2e
    checked_ok = grid.complaint("ZH-001")
    unlicensed = grid.complaint("ZH-001")
    late = grid.complaint("ZH-003")  # held by the backup worker GW-0002, never acknowledged
    returned = grid.complaint("JJL-001")
    grid.post(
        "grid.task.returned", {"task": returned, "by": "GW-0005", "reason": "other", "returned_at": grid.at()}
    )
    grid.settle()
    e2e.tick(24 * 8)  # more than a working day later: the unacknowledged ones are overdue to the street
    grid.check(checked_ok, "ok")
    grid.check(unlicensed, "unlicensed")
    grid.settle()
    days = [grid.task(t)["context"]["working_days_to_check"] for t in (checked_ok, unlicensed)]
    assert days[0] == days[1] >= 4

    card = e2e.get("/grid/scorecard")
    overall = card["overall"]
    assert (overall["pushes"], overall["checked"], overall["verified_rate"], overall["unlicensed"]) == (
        4,
        2,
        0.5,
        1,
    )
    assert (overall["days_p50"], overall["days_p90"], overall["returns"]) == (days[0], days[0], 1)
    # the late one and the returned one (now with the street office) passed their acknowledgement
    assert overall["overdue"] == {"street": 2, "department": 0, "district": 0}
    streets = {s["key"]: s for s in card["streets"]}
    assert (streets["ZHONGHAN"]["pushes"], streets["JINJIALING"]["pushes"]) == (3, 1)
    assert streets["ZHONGHAN"]["name"] == "中韩街道"
    grids = {g["key"]: g for g in card["grids"]}
    assert (grids["ZH-001"]["checked"], grids["ZH-003"]["overdue"]["street"]) == (2, 1)
    workers = {w["key"]: w for w in card["workers"]}
    assert workers["GW-0002"]["pushes"] == 1 and workers["(street)"]["returns"] == 1

    # open tasks by grid, street and worker
    open_ids = {i["id"] for i in e2e.get("/tasks", flow="grid_check", street="ZHONGHAN")["items"]}
    assert open_ids == {late, unlicensed}  # the unlicensed one is open, with the street office now
    assert [i["id"] for i in e2e.get("/tasks", worker="GW-0002")["items"]] == [late]
    assert [i["id"] for i in e2e.get("/tasks", grid="JJL-001")["items"]] == [returned]

    # the CLI prints the same figures, its columns aligned though the names are Chinese
    runner = CliRunner()
    env = {"YUNSHANG_DATABASE_URL": e2e.stack.runtime.settings.database_url, "YUNSHANG_CLOCK": "simulated"}
    result = runner.invoke(build_app(compose, PLUGINS), ["grid", "scorecard", "--by", "grid"], env=env)
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    table = [line for line in lines[1:] if not line.startswith("...")]
    assert len({width(line) for line in table}) == 1, table
    assert any(line.startswith("ZH-003 中韩街道第3网格") for line in table)
    assert table[-1].split()[:5] == ["all", "4", "2", "50.0%", "1"]
