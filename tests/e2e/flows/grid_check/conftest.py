"""The grid first check end to end through the HTTP API, on both stacks, with the default rules and a
small directory of five grids (one whose worker is inactive with an active backup, one whose worker and
backup are both inactive)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.flows.dual_notification.conftest import E2E, e2e_stack, event_id
from workflows.flows.grid_check.directory import parse_directory, replace_directory
from workflows.flows.grid_check.directory_parse import HEADER
from workflows.store.models import Delivery

DIRECTORY = [
    "ZHONGHAN,中韩街道,ZH-001,中韩街道第1网格,GW-0001,王芳,GW-0002,true,app:gw-0001",
    "ZHONGHAN,中韩街道,ZH-002,中韩街道第2网格,GW-0002,李强,GW-0001,true,app:gw-0002",
    "ZHONGHAN,中韩街道,ZH-003,中韩街道第3网格,GW-0003,赵敏,GW-0002,false,app:gw-0003",
    "ZHONGHAN,中韩街道,ZH-004,中韩街道第4网格,GW-0004,钱进,GW-0003,false,app:gw-0004",
    "JINJIALING,金家岭街道,JJL-001,金家岭街道第1网格,GW-0005,孙丽,GW-0001,true,app:gw-0005",
]
GRID_APP = "/grid/app"
HOTLINE = "/hotline/12345"


@dataclass
class Grid:
    """The API of one running stack, driven the way the hotline, the grid workers' app, the street
    offices and the departments do."""

    e2e: E2E

    def post(self, etype: str, data: dict[str, Any], source: str = GRID_APP, id: str | None = None) -> Any:
        event = {
            "specversion": "1.0",
            "id": id or event_id(etype),
            "source": source,
            "type": etype,
            "data": data,
        }
        return self.e2e.http.post("/events", json=event)

    def emit(self, etype: str, data: dict[str, Any], source: str = GRID_APP, id: str | None = None) -> Any:
        response = self.post(etype, data, source, id)
        assert response.status_code == 202, response.text
        body = response.json()
        assert body["status"] in ("accepted", "duplicate"), body
        return body

    def at(self, moment: datetime | None = None) -> str:
        return (moment or self.e2e.now()).isoformat()

    def complaint(self, grid: str = "ZH-001", complaint_id: str | None = None, **extra: Any) -> int:
        data = {
            "complaint_id": complaint_id or event_id("C"),
            "address": "青岛市崂山区海尔路8号",
            "grid": grid,
            "content": "无证经营餐饮, 油烟扰民",
            "received_at": self.at(),
            **extra,
        }
        self.emit("complaint.received", data, source=HOTLINE)
        self.e2e.stack.settle()
        [task] = [t for t in self.tasks() if t["context"].get("reference") == data["complaint_id"]]
        return int(task["id"])

    def acknowledge(self, task: int, worker: str = "GW-0001") -> Any:
        return self.emit(
            "grid.task.acknowledged", {"task": task, "worker_id": worker, "acknowledged_at": self.at()}
        )

    def check(
        self, task: int, outcome: str, worker: str = "GW-0001", id: str | None = None, **extra: Any
    ) -> Any:
        data = {
            "task": task,
            "worker_id": worker,
            "outcome": outcome,
            "checklist": [{"item": "亮照经营", "result": "ok" if outcome == "ok" else "issue"}],
            "gps": {"lat": 36.1, "lon": 120.47},
            "photos": ["photo/1.jpg"],
            "checked_at": self.at(),
            **extra,
        }
        return self.emit("grid.check.reported", data, id=id)

    def settle(self) -> None:
        self.e2e.stack.settle()

    def task(self, task: int) -> dict[str, Any]:
        return self.e2e.instance(task)

    def tasks(self) -> list[dict[str, Any]]:
        return [self.e2e.instance(i["id"]) for i in self.e2e.instances(flow="grid_check")]

    def pushes(self, task: int) -> list[tuple[str, str]]:
        return [(d.kind, d.recipient) for d in self.e2e.deliveries(task)]

    def deliveries(self, task: int, kind: str) -> list[Delivery]:
        return self.e2e.deliveries(task, kind=kind)


def armed(detail: dict[str, Any]) -> set[str]:
    """The names of an instance's armed timers."""
    return {t["name"] for t in detail["timers"] if t["status"] == "armed"}


def load_directory(e2e: E2E, tmp_path: Path, rows: list[str]) -> None:
    path = tmp_path / "grids.csv"
    path.write_text("\n".join([",".join(HEADER), *rows]) + "\n", encoding="utf-8")
    rt = e2e.stack.runtime
    streets = {s.code: s.name for s in rt.rules.ruleset("tests").organisation.streets}
    directory = parse_directory(path, streets)
    with rt.db.transaction() as session:
        replace_directory(session, directory, path.name, at=rt.clock.now())


@pytest.fixture
def grid(stack_kind: str, tmp_path: Path) -> Iterator[Grid]:
    with e2e_stack(stack_kind, tmp_path) as running:
        load_directory(running, tmp_path, DIRECTORY)
        yield Grid(running)
