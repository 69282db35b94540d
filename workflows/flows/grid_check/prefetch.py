"""What the grid first check's routes read, read once per batch (``FlowPlugin.prefetch``).

A batch of 100 licenses would otherwise ask the directory 100 times (``assignee_for``), and a batch of
100 acknowledgements or checks would load its 100 tasks one ``session.get`` each: here the batch's grids
are looked up in one query (kept in ``session.info`` for ``assignee_for``) and its tasks loaded in one
query into the session's identity map (where ``session.get`` finds them), held for the transaction.
The routes still check everything themselves.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy.orm import Session

from workflows.flows.grid_check.directory import prefetch_assignees
from workflows.flows.grid_check.events import TaskRef
from workflows.plugins.routes import hold_instances

#: ``session.info`` key of the tasks loaded for a batch (the identity map holds them only weakly)
_TASKS = "grid_check.tasks"


def prefetch(session: Session, events: Sequence[tuple[str, Any]]) -> None:
    """The grids and tasks the batch's ``events`` name, each kind in one query."""
    grids = {str(data.grid) for _, data in events if getattr(data, "grid", None)}
    if grids:
        prefetch_assignees(session, grids)
    hold_instances(session, (data.task for _, data in events if isinstance(data, TaskRef)), _TASKS)
