"""The instance list: filters (flow, state, department, street, grid, USCC or enterprise name,
overdue, due before a Beijing date or time), a sort by any column header (``aria-sort``), keyset pages
with the cursor in the URL, and the total count (``workflows.queries.listing``). A bad value is a 422
page naming the field; a department-scoped operator sees only their department's instances."""

from __future__ import annotations

import re
from datetime import date, datetime, time
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Query, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import HTMLResponse

from workflows.errors import BadInput
from workflows.queries.instances import InstanceFilter
from workflows.queries.listing import SORTS, Direction, Listing, page
from workflows.runtime import Runtime
from workflows.time.calendar import SHANGHAI
from workflows.ui.render import renderer
from workflows.ui.session import UiOperator

router = APIRouter()
Text = Annotated[str, Query(max_length=100)]
CODE = re.compile(r"^[A-Za-z0-9_.:-]*$")
#: the filters kept in the URL (the form's fields), in the form's order
FIELDS = ("flow", "state", "department", "street", "grid", "subject", "overdue", "due_before")
SORT_LABELS = {"id": "#", "flow": "Flow", "state": "State", "created": "Created 创建", "due": "Next due 到期"}
OVERDUE = {"": None, "true": True, "false": False}


def beijing(value: str) -> datetime | None:
    """``YYYY-MM-DD`` (00:00 that day) or ``YYYY-MM-DDTHH:MM[:SS]``, in Beijing time unless an offset
    is given."""
    value = value.strip()
    if not value:
        return None
    try:
        if len(value) == 10:
            return datetime.combine(date.fromisoformat(value), time(0), SHANGHAI)
        moment = datetime.fromisoformat(value)
    except ValueError as exc:
        raise BadInput(
            f"due_before: {value!r} is not a date (2026-12-03) or a Beijing time (2026-12-03T16:00)"
        ) from exc
    return moment if moment.tzinfo else moment.replace(tzinfo=SHANGHAI)


def _code(name: str, value: str) -> str | None:
    value = value.strip()
    if not CODE.match(value):
        raise BadInput(f"{name}: {value!r} is not a code (letters, digits, _ . : -)")
    return value or None


def listing_of(
    runtime: Runtime, values: dict[str, str], sort: str, direction: str, scope: str | None
) -> Listing:
    flows = runtime.registry.flows
    flow = _code("flow", values["flow"])
    if flow is not None and flow not in flows:
        raise BadInput(
            f"flow: {flow!r} is not a flow of this engine; choose one of {', '.join(sorted(flows))}"
        )
    state = _code("state", values["state"])
    known = flows[flow].state_names if flow else {s for f in flows.values() for s in f.state_names}
    if state is not None and state not in known:
        raise BadInput(f"state: {state!r} is not a state{f' of {flow}' if flow else ''}")
    if values["overdue"] not in OVERDUE:
        raise BadInput(f"overdue: {values['overdue']!r} is not one of true, false or empty (any)")
    if sort not in SORTS:
        raise BadInput(f"sort: {sort!r} is not a sortable column; choose one of {', '.join(SORTS)}")
    if direction not in ("asc", "desc"):
        raise BadInput(f"dir: {direction!r} is neither asc nor desc")
    f = InstanceFilter(
        flow,
        state,
        department=_code("department", values["department"]),
        grid=values["grid"].strip() or None,
        street=values["street"].strip() or None,
        overdue=OVERDUE[values["overdue"]],
        due_before=beijing(values["due_before"]),
        scope=scope,
    )
    chosen: Direction = "asc" if direction == "asc" else "desc"
    return Listing(f, values["subject"], sort, chosen)


def _url(params: dict[str, str]) -> str:
    kept = {k: v for k, v in params.items() if v}
    return "/ui/instances" + (f"?{urlencode(kept)}" if kept else "")


@router.get("/instances", response_class=HTMLResponse)
async def instances(
    request: Request,
    who: UiOperator,
    flow: Text = "",
    state: Text = "",
    department: Text = "",
    street: Text = "",
    grid: Text = "",
    subject: Text = "",
    overdue: Text = "",
    due_before: Text = "",
    sort: Text = "id",
    dir: Text = "asc",
    after: Annotated[str | None, Query(max_length=400)] = None,
    before: Annotated[str | None, Query(max_length=400)] = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
) -> HTMLResponse:
    runtime: Runtime = request.app.state.runtime
    values = dict(
        zip(FIELDS, (flow, state, department, street, grid, subject, overdue, due_before), strict=True)
    )
    listing = listing_of(runtime, values, sort, dir, who.department)
    found = await run_in_threadpool(
        page,
        runtime.db,
        listing,
        runtime.clock.now(),
        after=after,
        before=before,
        limit=limit,
        warnings=runtime.registry.warning_timers,
    )
    base = {**values, "sort": sort, "dir": dir, "limit": str(limit) if limit != 50 else ""}
    headers: list[dict[str, Any]] = []
    for key, label in SORT_LABELS.items():
        current = sort == key
        flip = "desc" if current and dir == "asc" else "asc"
        aria = ("ascending" if dir == "asc" else "descending") if current else None
        headers.append(
            {"key": key, "label": label, "aria": aria, "url": _url({**base, "sort": key, "dir": flip})}
        )
    context = {
        "title": "Instances 实例",
        "values": values,
        "flows": sorted(runtime.registry.flows),
        "page": found,
        "headers": headers,
        "limit": limit,
        "next_url": _url({**base, "after": found.next}) if found.next else None,
        "prev_url": _url({**base, "before": found.prev}) if found.prev else None,
        "first_url": _url(base) if found.prev else None,
    }
    return renderer(request).page(request, "instances.html", context)
