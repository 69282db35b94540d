"""Batches of grid events (``application/cloudevents-batch+json``), which the plug-in's prefetch reads
in one query each for the batch's grids and tasks: every event gets what it would get alone — the
grid's worker, the backup, the street office; a refusal naming the field for an unknown task or a
report from the wrong worker, the other events of the batch still applied."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from tests.e2e.flows.dual_notification.conftest import cloudevent, event_id, license_data
from tests.e2e.flows.grid_check.conftest import GRID_APP, Grid
from tests.support import statements
from workflows import uscc
from workflows.flows.joint_inspection.directory_models import InspectionObject

BATCH = {"Content-Type": "application/cloudevents-batch+json"}
#: grid → (level, worker) as the directory of the conftest places a task of it
PLACED = {
    "ZH-001": ("grid", "GW-0001"),
    "ZH-002": ("grid", "GW-0002"),
    "ZH-003": ("backup", "GW-0002"),
    "ZH-004": ("street", None),
    "JJL-001": ("grid", "GW-0005"),
    "ZH-999": ("street", None),  # a grid the directory does not know: its street office
}


def _post(grid: Grid, events: list[dict[str, Any]]) -> list[dict[str, Any]]:
    response = grid.e2e.http.post("/events", json=events, headers=BATCH)
    assert response.status_code == 202, response.text
    answer: list[dict[str, Any]] = response.json()
    return answer


def test_a_batch_of_licenses_acknowledgements_and_checks_routes_each_event_as_alone(grid: Grid) -> None:
    grids = [*PLACED, "ZH-001"]  # a grid twice in one batch
    codes = [uscc.make(f"9137021200000{n:03d}X") for n in range(len(grids))]
    now = grid.e2e.now()
    licenses = [
        cloudevent(
            "license.issued",
            license_data(code, f"崂山{n}商行", "日用百货销售", now, grid=g),
            id=event_id("batch-license"),
        )
        for n, (code, g) in enumerate(zip(codes, grids, strict=True))
    ]
    with statements(grid.e2e.stack) as sql:
        assert {a["status"] for a in _post(grid, licenses)} == {"accepted"}
    assert sum("grid_cells" in s for s in sql) == 1  # one directory query for the batch
    grid.settle()
    tasks = {t["subject"]: t for t in grid.tasks()}
    for code, g in zip(codes, grids, strict=True):
        ctx = tasks[code]["context"]
        assert (ctx["level"], ctx.get("worker_id")) == PLACED[g], (code, g)
        assert tasks[code]["state"] == "assigned"

    def report(etype: str, task: dict[str, Any], worker: str, **data: Any) -> dict[str, Any]:
        return cloudevent(
            etype, {"task": task["id"], "worker_id": worker, **data}, id=event_id(etype), source=GRID_APP
        )

    held = [tasks[c] for c, g in zip(codes, grids, strict=True) if PLACED[g][1] is not None]
    at = grid.at()
    acks = [report("grid.task.acknowledged", t, t["context"]["worker_id"], acknowledged_at=at) for t in held]
    unknown = report("grid.task.acknowledged", {"id": 999999}, "GW-0001", acknowledged_at=at)
    wrong = report("grid.task.acknowledged", held[0], "GW-0005", acknowledged_at=at)
    answers = _post(grid, [*acks[:2], unknown, *acks[2:], wrong])
    statuses = [a["status"] for a in answers]
    assert statuses == ["accepted", "accepted", "rejected", *["accepted"] * (len(acks) - 2), "rejected"]
    assert answers[2]["errors"][0]["field"] == "data.task"
    assert answers[-1]["errors"][0]["field"] == "data.worker_id"
    grid.settle()
    assert {grid.task(t["id"])["state"] for t in held} == {"acknowledged"}

    checks = [
        report(
            "grid.check.reported",
            t,
            t["context"]["worker_id"],
            outcome="ok",
            checklist=[{"item": "亮照经营", "result": "ok"}],
            gps={"lat": 36.1, "lon": 120.47},
            photos=["photo/1.jpg"],
            checked_at=grid.at(),
        )
        for t in held
    ]
    with statements(grid.e2e.stack) as sql:
        assert {a["status"] for a in _post(grid, checks)} == {"accepted"}
    loads = [s for s in sql if "FROM instances" in s and "instances.subject" in s]
    assert len(loads) == 1 and "instances.id IN" in loads[0], loads  # the batch's tasks, one query
    again = _post(grid, checks)  # the same batch again: duplicates, nothing applied twice
    assert {a["status"] for a in again} == {"duplicate"}
    grid.settle()
    for t in held:
        done = grid.task(t["id"])
        assert done["state"] == "verified"
        assert [h["outcome"] for h in done["history"] if h["trigger"] == "report"] == ["applied"]


def test_a_batch_of_licenses_lists_its_inspection_objects_in_one_statement_each_as_alone(grid: Grid) -> None:
    """Joint inspection's batch write: the objects of a batch's licenses upserted in one statement;
    each license still answers ``listed`` (new) or ``relisted`` (known, or named twice in the batch).
    A batch with a refused event is redone event by event: each license upserts its own object and
    the refused event leaves nothing."""
    codes = [uscc.make(f"9137021200001{n:03d}X") for n in range(4)]
    now = grid.e2e.now()

    def lic(code: str, name: str, **extra: Any) -> dict[str, Any]:
        data = license_data(code, name, "日用百货销售", now, **extra)
        return cloudevent("license.issued", data, id=event_id("listing"))

    first = _post(grid, [lic(codes[0], "崂山甲商行")])  # known before the batch
    assert "listed" in first[0]["result"].split(", ")
    batch = [
        lic(codes[0], "崂山甲商行改名"),
        lic(codes[1], "崂山乙商行", industry_codes=["F5211"]),
        lic(codes[1], "崂山乙商行改名", grid="ZH-002"),  # the same enterprise twice in the batch
        lic(codes[2], "崂山丙商行"),
    ]
    with statements(grid.e2e.stack) as sql:
        answers = _post(grid, batch)
    assert [a["status"] for a in answers] == ["accepted"] * 4
    listed = [next(r for r in a["result"].split(", ") if r.endswith("listed")) for a in answers]
    assert listed == ["relisted", "listed", "relisted", "listed"]
    assert sum("inspection_objects" in s for s in sql) <= 2  # one upsert (on SQLite a read before it)
    unknown = cloudevent(
        "grid.task.acknowledged",
        {"task": 999999, "worker_id": "GW-0001", "acknowledged_at": grid.at()},
        id=event_id("listing-refused"),
        source=GRID_APP,
    )
    mixed = _post(grid, [lic(codes[3], "崂山丁商行"), unknown, lic(codes[2], "崂山丙商行改名")])
    assert [a["status"] for a in mixed] == ["accepted", "rejected", "accepted"]
    assert [
        next(r for r in a["result"].split(", ") if r.endswith("listed")) for a in (mixed[0], mixed[2])
    ] == [
        "listed",
        "relisted",
    ]
    with grid.e2e.stack.runtime.db.read() as session:
        objects = {
            o.uscc: (o.name, o.grid, o.industry, o.risk_class)
            for o in session.scalars(select(InspectionObject).where(InspectionObject.uscc.in_(codes)))
        }
    assert objects == {
        codes[0]: ("崂山甲商行改名", "ZH-001", None, "A"),
        codes[1]: ("崂山乙商行改名", "ZH-002", "F5211", "A"),  # the last name and grid, the industry given
        codes[2]: ("崂山丙商行改名", "ZH-001", None, "A"),
        codes[3]: ("崂山丁商行", "ZH-001", None, "A"),
    }
