"""The instance screen: one case — its state and context, each deadline of its state counted down on
the runtime's clock in the units of its rule (``workflows.ui.countdown``), the flow's diagram with the
path taken and the current state highlighted (``workflows.ui.diagram``, drawn by the vendored
Mermaid), and its full history with the cause and rule version of every entry.

The same reads as ``GET /instances/{id}`` (``instance_detail``, ``check_visible``): an unknown id and an
instance outside a department-scoped operator's department are the same 404, and nothing of it is
rendered.
"""

from __future__ import annotations

import json
import re
from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Path, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import HTMLResponse

from workflows.queries.clocks import TimerClock, clocks, rules_in_force
from workflows.queries.instances import instance_detail
from workflows.queries.scope import check_visible
from workflows.runtime import Runtime
from workflows.ui.countdown import countdown, due_full, due_label, provisional_note
from workflows.ui.diagram import state_diagram, state_id
from workflows.ui.render import local, renderer
from workflows.ui.session import UiOperator

router = APIRouter()
InstanceId = Annotated[int, Path(ge=1, le=2**63 - 1)]
#: the history entries of suspended clocks (``workflows.engine.suspend``): their payload is the ledger
LEDGER = ("timer_suspended", "timer_resumed")
_USCC = re.compile(r"^[0-9A-Z]{18}$")
_INSTANT = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}")


def _value(value: Any) -> str:
    if isinstance(value, str):
        return value
    return json.dumps(value, ensure_ascii=False, sort_keys=True)


def _facts(context: dict[str, Any]) -> list[dict[str, Any]]:
    """The context as (key, text, enterprise link) rows: a USCC links to the enterprise screen, an
    ISO instant reads as Beijing time (the stored text in its ``title``)."""
    rows = []
    for key, value in context.items():
        link = f"/ui/enterprises/{value}" if isinstance(value, str) and _USCC.match(value) else None
        instant = isinstance(value, str) and bool(_INSTANT.match(value))
        rows.append(
            {
                "key": key,
                "text": local(value) if instant else _value(value),
                "raw": _value(value),
                "nested": isinstance(value, dict | list),
                "link": link,
            }
        )
    return rows


def _cause(
    entry: dict[str, Any], events: dict[str, dict[str, Any]], timers: dict[str, str]
) -> dict[str, Any]:
    """Who or what caused a history entry, with the event's source and id, the timer's name, the
    operator's name and reason, or the instance whose message it was."""
    cause = entry["cause"]
    kind, ident = cause["kind"], cause["id"]
    found: dict[str, Any] = {
        "kind": kind,
        "id": ident,
        "operator": cause["operator"],
        "reason": entry["reason"],
        "instance": None,
    }
    if kind == "event" and ident:
        source, _, event_id = ident.rpartition("#")
        event = events.get(ident, {"source": source, "id": event_id, "type": None})
        found |= {"source": event["source"], "event_id": event["id"], "type": event["type"]}
    elif kind == "timer" and ident:
        found["timer"] = timers.get(ident)
    elif kind == "message" and ident and ident.rpartition("#")[2].isdigit():
        flow, _, other = ident.rpartition("#")
        found |= {"flow": flow, "instance": int(other)}
    return found


def _ledger(entry: dict[str, Any]) -> list[dict[str, str]]:
    """A suspension's or resumption's timers: the budget each kept, and its due before or after."""
    rows = []
    for t in entry["payload"].get("timers", []):
        after = t.get("due_at")
        due = f"now due {due_full(datetime.fromisoformat(after))}" if after else None
        was = f"was due {due_full(datetime.fromisoformat(t['was_due_at']))}" if t.get("was_due_at") else ""
        rows.append({"name": t["name"], "text": f"{t['name']}: {t['remaining_text']} left, {due or was}"})
    return rows


def _clock_view(c: TimerClock) -> dict[str, Any]:
    return {
        "c": c,
        "text": countdown(c),
        "due": due_label(c.due_at, c.now),
        "due_full": due_full(c.due_at),
        "provisional": provisional_note(c),
    }


def page_data(runtime: Runtime, instance_id: int, department: str | None) -> dict[str, Any]:
    """Everything the page shows; ``InstanceNotFound`` (404) for an unknown id or an instance the
    operator's department may not see."""
    detail = instance_detail(runtime.db, instance_id)
    check_visible(instance_id, detail["context"], department)
    now = runtime.clock.now()
    rules = runtime.rules.current
    warnings = runtime.registry.warning_timers
    flow = runtime.registry.flows.get(detail["flow"])
    open_clocks = (
        []
        if detail["closed_at"]
        else clocks(runtime.db, instance_id, detail["flow"], detail["state"], rules, now, warnings)
    )
    history = detail["history"]
    moments = [datetime.fromisoformat(h["at"]) for h in history]
    versions = rules_in_force(runtime.db, detail["rules_version"], moments)
    events = {f"{e['source']}#{e['id']}": e for e in detail["events"]}
    timer_names = {str(t["id"]): t["name"] for t in detail["timers"]}
    entries = []
    for h, version in zip(history, versions, strict=True):
        started = h["trigger"] == "start" and h["from"] is None
        entries.append(
            {
                **h,
                "cause": _cause(h, events, timer_names),
                "ledger": _ledger(h) if h["trigger"] in LEDGER else None,
                "payload_text": _value(h["payload"]) if h["payload"] else None,
                # recorded with the transition; rows written before it was recorded: inferred
                "rules_version": h["rules_version"] or (detail["rules_version"] if started else version),
                "rules_inferred": h["rules_version"] is None,
            }
        )
    visited = [s for h in history if h["outcome"] == "applied" for s in (h["from"], h["to"]) if s]
    diagram = state_diagram(flow, detail["state"], visited) if flow else None
    return {
        "d": detail,
        "facts": _facts(detail["context"]),
        "clocks": [_clock_view(c) for c in open_clocks],
        "past_timers": [t for t in detail["timers"] if t["id"] not in {c.id for c in open_clocks}],
        "entries": entries,
        "diagram": diagram,
        "current_id": state_id(flow, detail["state"]) if flow else None,
        "flow_version_now": flow.version if flow else None,
        "now": now,
    }


@router.get("/instances/{instance_id}", response_class=HTMLResponse)
async def instance(request: Request, who: UiOperator, instance_id: InstanceId) -> HTMLResponse:
    runtime: Runtime = request.app.state.runtime
    data = await run_in_threadpool(page_data, runtime, instance_id, who.department)
    d = data["d"]
    context = {"title": f"#{d['id']} {d['flow']} · {d['state']}", **data}
    return renderer(request).page(request, "instance.html", context)
