"""Bulk actions through the API (district operators only), as on the dashboard's bulk screen: a dry
run freezes the instances a filter matches (``POST /bulk``), the apply acts on exactly that set, once
(``POST /bulk/{selection_id}/apply``; 409 the second time) — ``workflows.queries.bulk``."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Path
from pydantic import Field

from workflows.api.deps import Operator, RuntimeDep
from workflows.api.models import ActionBody
from workflows.errors import FieldInvalid
from workflows.queries.bulk import dry_run, selection
from workflows.queries.bulk_apply import apply_selection
from workflows.queries.instances import InstanceFilter

router = APIRouter()
SelectionId = Annotated[int, Path(ge=1, le=2**63 - 1)]
Text = Annotated[str | None, Field(default=None, min_length=1, max_length=200)]


class BulkBody(ActionBody):
    action: Literal["cancel", "reroute", "requeue", "recompute", "suspend", "resume"]
    flow: Text = None
    state: Text = None
    subject: Text = None
    department: Text = None
    grid: Text = None
    street: Text = None
    person: Text = None
    worker: Text = None
    overdue: bool | None = None
    open_only: bool = False
    to_department: Text = Field(default=None, description="reroute: the department to route to")


@router.post("/bulk", tags=["operations"], status_code=201)
def post_bulk(body: BulkBody, runtime: RuntimeDep, who: Operator) -> dict[str, Any]:
    """Dry run: freeze the instances the filter matches now (nothing else changes); the selection with
    its ids and count. Apply it with `POST /bulk/{id}/apply`."""
    if body.flow is not None and body.flow not in runtime.engine.flows:
        known = ", ".join(sorted(runtime.engine.flows))
        raise FieldInvalid("flow", f"unknown flow {body.flow!r}; one of {known}")
    f = InstanceFilter(
        body.flow,
        body.state,
        body.subject,
        body.department,
        body.grid,
        body.street,
        body.person,
        body.worker,
        overdue=body.overdue,
        open_only=body.open_only,
    )
    options = {"department": body.to_department} if body.action == "reroute" else {}
    try:
        made = dry_run(
            runtime.db,
            runtime.clock,
            body.action,
            f,
            operator=who.name,
            reason=body.reason,
            options=options,
            warnings=runtime.registry.warning_timers,
        )
    except FieldInvalid as exc:
        if exc.field == "department":  # the target of a re-route
            raise FieldInvalid("to_department", str(exc).removeprefix("department: ")) from exc
        raise
    return made.as_json()


@router.get("/bulk/{selection_id}", tags=["operations"])
def get_bulk(selection_id: SelectionId, runtime: RuntimeDep, _: Operator) -> dict[str, Any]:
    """A selection: its frozen ids, and once applied, who applied it and the result per instance."""
    return selection(runtime.db, selection_id).as_json()


@router.post("/bulk/{selection_id}/apply", tags=["operations"])
def post_bulk_apply(
    selection_id: SelectionId, body: ActionBody, runtime: RuntimeDep, who: Operator
) -> dict[str, Any]:
    """Apply the frozen set (never the filter again): each instance through its audited operator
    action, with this reason; what does not apply is skipped per instance. 409 when applied already."""
    return apply_selection(runtime, selection_id, operator=who.name, reason=body.reason).as_json()
