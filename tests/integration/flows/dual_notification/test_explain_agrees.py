"""``yunshang rules explain`` and the engine agree on the same event: the due times explain prints are
the timers the engine arms when it applies that event, counted from the same instant (the push, not the
license's ``issued_at``) on the same calendar (the rules'). Both stacks."""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import select
from typer.testing import CliRunner

from tests.support import Stack
from worker import PLUGINS, compose
from workflows.cli.app import build_app
from workflows.intake.core import Intake
from workflows.intake.tokens import Principal
from workflows.settings import RULES_DIR
from workflows.store.models import Instance, TimerRow
from workflows.time.calendar import SHANGHAI

CLI = build_app(compose, PLUGINS)
USCC = "91370212MA3QK7T84W"
#: Wed 29 Sep 2027, 10:00: 48 h later is National Day (2027 is not announced yet: provisional)
PUSHED = datetime(2027, 9, 29, 10, tzinfo=SHANGHAI)


def license_event(issued_at: datetime) -> dict[str, Any]:
    return {
        "specversion": "1.0",
        "id": "lic-explain-1",
        "source": "/laoshan/registration",
        "type": "license.issued",
        "data": {
            "uscc": USCC,
            "name": "青岛崂山仁心大药房有限公司",
            "business_scope": "药品零售;食品销售(仅销售预包装食品)",
            "address": "崂山区香港东路1号",
            "street": "中韩街道",
            "grid": "ZH-001",
            "legal_representative": "王芳",
            "issued_at": issued_at.isoformat(),
        },
    }


def armed(stack: Stack) -> dict[tuple[str, str], TimerRow]:
    """The engine's timers of the notices, by (business key, timer)."""
    with stack.runtime.db.read() as s:
        rows = s.execute(
            select(Instance.business_key, TimerRow)
            .join(TimerRow, TimerRow.instance_id == Instance.id)
            .where(Instance.flow == "dual_notification")
        ).all()
    return {(key, timer.name): timer for key, timer in rows}


def explained(path: Path, *args: str, env: dict[str, str] | None = None) -> dict[str, Any]:
    result = CliRunner().invoke(CLI, ["rules", "explain", str(path), "--json", *args], env=env)
    assert result.exit_code == 0, result.output
    data: dict[str, Any] = json.loads(result.output)
    return data


def due_times(data: dict[str, Any]) -> dict[tuple[str, str], tuple[datetime, bool]]:
    return {
        (notice["business_key"], timer["timer"]): (
            datetime.fromisoformat(timer["due_at"]),
            timer["provisional"],
        )
        for notice in data["notices"]
        for timer in notice["timers"]
    }


def test_explain_prints_the_due_times_the_engine_arms(nstack: Stack, tmp_path: Path) -> None:
    nstack.clock.advance(PUSHED - nstack.clock.now())
    event = license_event(issued_at=PUSHED - timedelta(days=3, hours=5))  # the engine ignores it
    [status] = Intake(nstack.runtime).accept([event], Principal("test", "admin", ("*",)))
    assert status.status == "accepted", status
    nstack.settle()
    timers = armed(nstack)
    assert {key for key, _ in timers} == {f"{USCC}:DRUG_RETAIL:SCJG_YP", f"{USCC}:FOOD_BUSINESS:SCJG_SP"}
    (entered,) = {timer.created_at for timer in timers.values()}  # one push, one state-entry instant

    path = tmp_path / "license.json"
    path.write_text(json.dumps(event, ensure_ascii=False), encoding="utf-8")
    data = explained(path, "--at", entered.isoformat(), "--dir", str(RULES_DIR))
    assert datetime.fromisoformat(data["counted_from"]) == entered
    engine = {key: (timer.due_at, timer.provisional) for key, timer in timers.items()}
    assert due_times(data) == engine
    # end of Mon 4 Oct: 48 h end on Fri 1 Oct, 国庆节 (statutory Oct 1–3), then the weekend
    supervision = engine[(f"{USCC}:DRUG_RETAIL:SCJG_YP", "claim_supervision")]
    assert supervision == (datetime(2027, 10, 5, tzinfo=SHANGHAI), True)
    trace = data["notices"][0]["timers"][2]["trace"]
    assert [(d["day"], d["kind"], d["counted"]) for d in trace["periods"][1]["days"]] == [
        ("2027-10-01", "holiday", False),
        ("2027-10-02", "holiday", False),
        ("2027-10-03", "holiday", False),
        ("2027-10-04", "working day", True),
    ]

    # without --at, explain counts from now on the deployment's clock (simulated here, as the engine's)
    settings = nstack.runtime.settings
    env = {"YUNSHANG_CLOCK": "simulated", "YUNSHANG_DATABASE_URL": settings.database_url}
    now = explained(path, "--dir", str(RULES_DIR), env=env)
    counted = datetime.fromisoformat(now["counted_from"])
    assert entered <= counted <= nstack.clock.now() + timedelta(seconds=1)
    assert due_times(now)[(f"{USCC}:DRUG_RETAIL:SCJG_YP", "claim_supervision")] == supervision
