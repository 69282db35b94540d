"""The dead letters screen (district only): messages that exhausted their retries, each with its error
and traceback, its actor, queue and the instance it was for; requeue one or many with a reason
(``workflows.messaging.deadletters.requeue``: who and why are kept on the row and shown after)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Form, Query, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from workflows.errors import FieldInvalid
from workflows.messaging.deadletters import DeadLetterView, list_dead, requeue
from workflows.queries.bulk import check_reason
from workflows.queries.deadletters import instances_of
from workflows.runtime import Runtime
from workflows.ui.render import renderer
from workflows.ui.session import UiAction, UiOperator, district_only

router = APIRouter()
HERE = "/ui/deadletters"


def _listing(runtime: Runtime, include_requeued: bool) -> dict[str, Any]:
    letters = list_dead(runtime.db, include_requeued)
    return {"letters": letters, "targets": instances_of(runtime.db, letters)}


def _page(
    request: Request, runtime: Runtime, listing: dict[str, Any], status: int = 200, **extra: Any
) -> HTMLResponse:
    context: dict[str, Any] = {
        "title": "Dead letters 死信",
        "include_requeued": False,
        "done": [],
        "error": None,
        "error_field": None,
        "reason": "",
        "selected": [],
        **listing,
        **extra,
    }
    return renderer(request).page(request, "deadletters.html", context, status)


@router.get("/deadletters", response_class=HTMLResponse)
async def dead_letters(
    request: Request,
    who: UiOperator,
    include_requeued: bool = False,
    done: Annotated[str, Query(max_length=2000, pattern=r"^[0-9,]*$")] = "",
) -> HTMLResponse:
    district_only(who)
    runtime: Runtime = request.app.state.runtime
    listing = await run_in_threadpool(_listing, runtime, include_requeued)
    requeued = [int(part) for part in done.split(",") if part]
    return _page(request, runtime, listing, include_requeued=include_requeued, done=requeued)


def _requeue(runtime: Runtime, chosen: list[int], operator: str, reason: str) -> list[DeadLetterView]:
    """Requeue each chosen dead letter; all are checked first, so a bad choice requeues none."""
    reason = check_reason(reason)
    if not chosen:
        raise FieldInvalid("dead", "choose the dead letters to requeue (tick them, or use a row's Requeue)")
    waiting = {d.id for d in list_dead(runtime.db)}
    gone = [i for i in chosen if i not in waiting]
    if gone:
        named = ", ".join(f"#{i}" for i in gone)
        raise FieldInvalid("dead", f"{named} not waiting (requeued already?): reload the page")
    return [
        requeue(runtime.db, runtime.relay, runtime.clock, i, operator=operator, reason=reason)
        for i in dict.fromkeys(chosen)
    ]


@router.post("/deadletters/requeue", response_class=HTMLResponse)
async def post_requeue(
    request: Request,
    who: UiAction,
    reason: Annotated[str, Form(max_length=4000)] = "",
    dead: Annotated[list[int], Form()] = [],  # noqa: B006 - FastAPI copies a default
    only: Annotated[int | None, Form()] = None,
) -> Response:
    """Requeue the ticked dead letters (or the one whose own button was pressed), with the reason."""
    district_only(who)
    runtime: Runtime = request.app.state.runtime
    chosen = [only] if only is not None else list(dead)
    try:
        views = await run_in_threadpool(_requeue, runtime, chosen, who.name, reason)
    except FieldInvalid as exc:
        listing = await run_in_threadpool(_listing, runtime, False)
        return _page(
            request,
            runtime,
            listing,
            422,
            error=str(exc),
            error_field=exc.field,
            reason=reason,
            selected=chosen,
        )
    ids = ",".join(str(v.id) for v in views)
    return RedirectResponse(f"{HERE}?include_requeued=true&done={ids}", status_code=303)
