"""Who holds a task: the directory's answer for a grid as an ``Assignment`` payload, the street and
district offices, and the in-transaction assignment of a referred task (``grid_effects.ASSIGN_EFFECT``).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from state_machines.grid_check import FLOW_NAME, T
from workflows.engine.commands import Cause
from workflows.engine.core import Engine
from workflows.flows.grid_check.directory import Assignee, Worker, assignee_for
from workflows.flows.grid_check.directory_models import GridStreet


def assignment(found: Assignee | None, *, worker_of: Worker | None = None, **place: str) -> dict[str, Any]:
    """The ``Assignment`` payload of a directory answer (``worker_of``: that worker instead of the
    grid's), or of ``place`` (``level``, ``grid``, ``street``) when there is no answer."""
    if found is None:
        return {
            "level": place.get("level", "district"),
            "grid": place.get("grid", ""),
            "street": place.get("street", ""),
        }
    values: dict[str, Any] = {
        "level": found.level,
        "worker_id": found.worker_id,
        "worker_name": found.worker_name or "",
        "recipient": found.recipient,
        "grid": found.grid,
        "grid_name": found.grid_name,
        "street": found.street,
        "street_name": found.street_name,
    }
    if worker_of is not None:
        values.update(
            level="grid",
            worker_id=worker_of.worker_id,
            worker_name=worker_of.name,
            recipient=worker_of.recipient,
        )
    return values


def street_office(session: Session, street: str, grid: str = "") -> dict[str, Any]:
    """The street office of ``street``, or the district office when the directory has no such street."""
    found = session.get(GridStreet, street) if street else None
    if found is None:
        return assignment(None, level="district", grid=grid, street=street)
    return {"level": "street", "grid": grid, "street": found.code, "street_name": found.name}


def place_task(session: Session, grid: str, street: str) -> dict[str, Any]:
    """Whoever the directory names for ``grid`` (its worker, the backup, the street office); for a grid
    it does not know, the street office of ``street``, else the district office."""
    found = assignee_for(session, grid)
    if found is not None:
        return assignment(found)
    return street_office(session, street, grid)


def assign_referred(session: Session, engine: Engine, items: list[tuple[dict[str, Any], str]]) -> None:
    """A referred task was started in this transaction without a holder: look its grid up and queue
    its ``dispatch`` (applied once: its dedupe key is the task's)."""
    for body, _ in items:
        payload = body["payload"]
        placed = place_task(session, str(payload.get("grid", "")), str(payload.get("street", "")))
        task = int(body["instance_id"])
        command = engine.command(
            FLOW_NAME,
            T.dispatch,
            cause=Cause(kind="system", id=f"{FLOW_NAME}#{task}", reason="referred task routed by its grid"),
            dedupe_key=f"assign:{task}",
            payload={"assignment": placed},
            instance_id=task,
        )
        engine.enqueue(session, command)
