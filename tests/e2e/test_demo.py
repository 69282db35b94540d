"""``yunshang demo`` end to end on the embedded stack: a small district through both plug-ins' parts —
licenses become notices and grid tasks, the grid workers check them, an unlicensed operator goes on to
a department, the one ``permit_needed`` opens a dual-notification notice — and both scorecards."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select
from typer.testing import CliRunner, Result

from worker import PLUGINS, compose
from workflows.cli.app import build_app
from workflows.flows.joint_inspection import service
from workflows.flows.joint_inspection.plans import InspectionDraw
from workflows.store.db import Database
from workflows.store.models import Instance
from workflows.time.calendar import SHANGHAI, WorkCalendar

WITH_DEPARTMENT = {"department_case", "case_closed"}


def a_full_working_week() -> date:
    """The first Monday after tomorrow whose five days are all working days (the demo's clock starts
    from now and only moves forward; a holiday week would leave the checks no time)."""
    calendar = WorkCalendar()
    day = datetime.now(SHANGHAI).date() + timedelta(days=2)
    while day.weekday() != 0 or not all(calendar.is_workday(day + timedelta(days=k))[0] for k in range(5)):
        day += timedelta(days=1)
    return day


@pytest.fixture
def quiet_loggers() -> Iterator[None]:
    """The demo quietens the engine's loggers for its progress bar; other tests keep theirs."""
    levels = {name: logging.getLogger(name).level for name in ("yunshang", "dramatiq")}
    yield
    for name, level in levels.items():
        logging.getLogger(name).setLevel(level)


@pytest.fixture
def demo_run(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, quiet_loggers: None) -> tuple[Result, Path]:
    monkeypatch.setenv("YUNSHANG_RULES_POLL_INTERVAL", "0")
    database = tmp_path / "demo.db"
    args = ["demo", "--enterprises", "150", "--days", "2", "--tail-days", "6", "--exit"]
    args += ["--start", a_full_working_week().isoformat(), "--database", str(database)]
    result = CliRunner().invoke(build_app(compose, PLUGINS), args)
    assert result.exit_code == 0, result.output
    return result, database


def instances(database: Path, flow: str) -> list[tuple[int, str, str | None, dict[str, Any]]]:
    db = Database(f"sqlite:///{database}")
    try:
        with db.read() as session:
            rows = session.execute(
                select(Instance.id, Instance.state, Instance.subject, Instance.context).where(
                    Instance.flow == flow
                )
            ).all()
        return [(i, state, subject, dict(ctx)) for i, state, subject, ctx in rows]
    finally:
        db.dispose()


def test_the_demo_runs_the_grid_first_check_beside_dual_notification(demo_run: tuple[Result, Path]) -> None:
    result, database = demo_run
    out = result.stdout
    assert "150 licenses, " in out and "refused" not in result.output
    assert "dual notification scorecard" in out and "grid first check scorecard" in out
    assert out.index("dual notification scorecard") < out.index("grid first check scorecard")
    assert "grid_check: laoshan_directory.csv, 654 grids, 735 workers (15 inactive" in out

    licenses = {subject for _, _, subject, _ in instances(database, "license_registration")}
    tasks = instances(database, "grid_check")
    # every license became an information check, for a worker of the synthetic directory
    assert len(licenses) == 150 and {s for _, _, s, c in tasks if c["task_kind"] == "info_check"} == licenses
    assert len({c["grid"] for *_, c in tasks}) > 50  # spread over the directory, not the rules' 7 grids
    states = [state for _, state, _, _ in tasks]
    assert states.count("verified") >= 75
    unlicensed = [(state, c) for _, state, _, c in tasks if c.get("outcome") == "unlicensed"]
    assert any(state in WITH_DEPARTMENT for state, _ in unlicensed)

    [referred] = [(i, c) for i, state, _, c in tasks if state == "permit_referred"]
    assert [c.get("outcome") for _, state, _, c in tasks].count("permit_needed") == 1
    opened = [
        (state, c)
        for _, state, _, c in instances(database, "dual_notification")
        if any(r["source"] == "grid_check" for r in c.get("requests", []))
    ]
    assert opened and {r["case"] for _, c in opened for r in c["requests"]} == {f"grid_check#{referred[0]}"}
    assert {(c["uscc"], c["permit"]) for _, c in opened} == {(referred[1]["uscc"], "FOOD_BUSINESS")}

    summary = next(line for line in out.splitlines() if line.startswith("escalated"))
    handed = sum(state in WITH_DEPARTMENT for state, _ in unlicensed)
    assert f"unlicensed: {len(unlicensed)} found, {handed} went on to departments" in summary


def test_the_demo_draws_a_joint_inspection_replaces_an_officer_and_publishes(
    demo_run: tuple[Result, Path],
) -> None:
    result, database = demo_run
    out = result.stdout
    assert out.index("grid first check scorecard") < out.index("Joint inspection (双随机联合抽查)")
    assert "joint_inspection: 5,000 inspection objects, 800 officers" in out
    inspections = instances(database, "joint_inspection")
    assert len(inspections) == 40 and {state for _, state, _, _ in inspections} <= {
        "inspecting",
        "awaiting_publication",
        "published",
    }
    db = Database(f"sqlite:///{database}")
    try:
        with db.read() as session:
            draw = session.get(InspectionDraw, 1)
            assert draw is not None
            [replaced] = draw.receipt["replacements"]
            assert service.verify_draw(session, 1)["ok"] is True
    finally:
        db.dispose()
    assert f"replaced: {replaced['officer']} → {replaced['replacement']} (病假)" in out
    assert "verify: ok" in out
    group = [(s, c) for _, s, _, c in inspections if c["group"] == replaced["group"]]
    assert group and all(replaced["replacement"] in c["officers"][replaced["department"]] for _, c in group)
    published = sum(state == "published" for _, state, _, _ in inspections)
    assert published >= 30 and f"public record: {published} published" in out
    problems = sum(r["problem"] for *_, c in inspections for r in c["results"].values())
    assert len(instances(database, "inspection_follow_up")) == problems > 0
