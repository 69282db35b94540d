"""The bulk actions screen (district only): cancel, re-route, requeue or recompute the deadlines of the
instances a filter matches. A dry run freezes exactly which ones (``workflows.queries.bulk``) and shows
the count and a sample; the confirmation applies that frozen set once (``workflows.queries.bulk_apply``)
and lists per instance what was done or why it was skipped."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Form, Path, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from workflows.errors import BulkAlreadyApplied, FieldInvalid
from workflows.queries.bulk import (
    ACTIONS,
    Selection,
    dry_run,
    interrupted,
    recent,
    selection,
)
from workflows.queries.bulk_apply import apply_selection
from workflows.queries.instances import InstanceFilter
from workflows.runtime import Runtime
from workflows.ui.render import renderer
from workflows.ui.session import UiAction, UiOperator, district_only

router = APIRouter()
SelectionId = Annotated[int, Path(ge=1, le=2**63 - 1)]
#: the text filters of the form (``InstanceFilter`` fields), with their labels
TEXT_FILTERS = (
    ("state", "State"),
    ("department", "Department"),
    ("subject", "Enterprise USCC"),
    ("grid", "Grid"),
    ("street", "Street"),
    ("person", "Claimed by"),
    ("worker", "Grid worker"),
)
Field = Annotated[str, Form(max_length=200)]


def _form_page(
    request: Request, values: dict[str, str], status: int = 200, error: FieldInvalid | None = None
) -> HTMLResponse:
    runtime: Runtime = request.app.state.runtime
    context = {
        "title": "Bulk actions 批量操作",
        "actions": ACTIONS,
        "flows": sorted(runtime.engine.flows),
        "text_filters": TEXT_FILTERS,
        "values": values,
        "error": str(error) if error else None,
        "error_field": error.field if error else None,
        "recent": recent(runtime.db),
    }
    return renderer(request).page(request, "bulk.html", context, status)


#: the form's fields a link may fill in (``/ui/bulk?flow=…&state=…``, e.g. from the instances list)
PREFILL = ("action", "flow", *(name for name, _ in TEXT_FILTERS), "overdue", "open_only", "to_department")


@router.get("/bulk", response_class=HTMLResponse)
async def bulk(request: Request, who: UiOperator) -> HTMLResponse:
    district_only(who)
    given = request.query_params
    values = {name: given[name][:200] for name in PREFILL if given.get(name)}
    return await run_in_threadpool(_form_page, request, values)


def _filter(runtime: Runtime, values: dict[str, str]) -> InstanceFilter:
    flow = values.get("flow") or None
    if flow is not None and flow not in runtime.engine.flows:
        known = ", ".join(sorted(runtime.engine.flows))
        raise FieldInvalid("flow", f"unknown flow {flow!r}; choose one of {known}")
    choice = values.get("overdue", "")
    if choice not in ("", "yes", "no"):
        raise FieldInvalid("overdue", "choose any, yes or no")
    text = {name: values.get(name) or None for name, _ in TEXT_FILTERS}
    return InstanceFilter(
        flow=flow,
        state=text["state"],
        subject=text["subject"],
        department=text["department"],
        grid=text["grid"],
        street=text["street"],
        person=text["person"],
        worker=text["worker"],
        overdue=None if choice == "" else choice == "yes",
        open_only=values.get("open_only") == "yes",
    )


@router.post("/bulk/dry-run", response_class=HTMLResponse)
async def post_dry_run(
    request: Request,
    who: UiAction,
    action: Field = "",
    reason: Annotated[str, Form(max_length=4000)] = "",
    flow: Field = "",
    state: Field = "",
    department: Field = "",
    subject: Field = "",
    grid: Field = "",
    street: Field = "",
    person: Field = "",
    worker: Field = "",
    overdue: Field = "",
    open_only: Field = "",
    to_department: Field = "",
) -> Response:
    """Freeze the matching instances into a selection; nothing is changed yet."""
    district_only(who)
    runtime: Runtime = request.app.state.runtime
    given = {
        "action": action,
        "flow": flow,
        "state": state,
        "department": department,
        "subject": subject,
        "grid": grid,
        "street": street,
        "person": person,
        "worker": worker,
        "overdue": overdue,
        "open_only": open_only,
        "to_department": to_department,
    }
    values = {name: value.strip() for name, value in given.items()} | {"reason": reason}

    def run() -> Selection:
        f = _filter(runtime, values)
        options = {"department": values["to_department"]} if action == "reroute" else {}
        try:
            return dry_run(
                runtime.db,
                runtime.clock,
                action,
                f,
                operator=who.name,
                reason=reason,
                options=options,
                warnings=runtime.registry.warning_timers,
            )
        except FieldInvalid as exc:
            if exc.field == "department" and action == "reroute":
                raise FieldInvalid("to_department", str(exc).removeprefix("department: ")) from exc
            raise

    try:
        made = await run_in_threadpool(run)
    except FieldInvalid as exc:
        return await run_in_threadpool(_form_page, request, values, 422, exc)
    return RedirectResponse(f"/ui/bulk/{made.id}", status_code=303)


def _selection_page(
    request: Request, found: Selection, status: int = 200, error: str | None = None, field: str | None = None
) -> HTMLResponse:
    runtime: Runtime = request.app.state.runtime
    context: dict[str, Any] = {
        "title": f"Bulk {found.action} #{found.id}",
        "s": found,
        "resumable": interrupted(found, runtime.clock.now()),
        "describe": ACTIONS[found.action],
        "error": error,
        "error_field": field,
    }
    return renderer(request).page(request, "bulk_selection.html", context, status)


@router.get("/bulk/{selection_id}", response_class=HTMLResponse)
async def bulk_selection(request: Request, who: UiOperator, selection_id: SelectionId) -> HTMLResponse:
    district_only(who)
    runtime: Runtime = request.app.state.runtime
    found = await run_in_threadpool(selection, runtime.db, selection_id)
    return _selection_page(request, found)


@router.post("/bulk/{selection_id}/apply", response_class=HTMLResponse)
async def post_apply(
    request: Request,
    who: UiAction,
    selection_id: SelectionId,
    reason: Annotated[str, Form(max_length=4000)] = "",
) -> Response:
    """Apply the frozen set once (or resume an interrupted apply): 409 when it was applied already;
    422 without a reason."""
    district_only(who)
    runtime: Runtime = request.app.state.runtime
    try:
        await run_in_threadpool(apply_selection, runtime, selection_id, operator=who.name, reason=reason)
    except FieldInvalid as exc:
        found = await run_in_threadpool(selection, runtime.db, selection_id)
        return _selection_page(request, found, 422, str(exc), exc.field)
    except BulkAlreadyApplied as exc:
        found = await run_in_threadpool(selection, runtime.db, selection_id)
        return _selection_page(request, found, 409, str(exc))
    return RedirectResponse(f"/ui/bulk/{selection_id}", status_code=303)
