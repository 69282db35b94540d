"""The dashboard's rules screen (district only): the active rule version and every stored one, the
lint report of the last rejected edit (``workflows.queries.rules``), the diff between two versions
(``workflows.queries.rule_diff``) and the dry run of a pasted event (``workflows.queries.explain``, as
``yunshang rules explain``), which changes nothing."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Form, Query, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import HTMLResponse

from rules import RulesInvalid
from workflows.errors import BadInput, YunshangError
from workflows.queries.explain import NotJson, explain, read_json
from workflows.queries.rule_diff import VersionDiff, VersionRefNotFound, compare_versions
from workflows.queries.rules import RulesOverview, rules_overview, ruleset_of
from workflows.ruleset.versions import RuleVersions, StoredVersion
from workflows.runtime import Runtime
from workflows.ui.render import renderer
from workflows.ui.session import UiAction, UiOperator, district_only

router = APIRouter()
Ref = Annotated[str, Query(max_length=70)]
#: the explain form's choice of the rules folder (any other value names a stored version)
FOLDER = "folder"
#: the diff form's labels of its two versions (an error names the one that is wrong)
DIFF_LABELS = ("From version (old)", "To version (new)")


def _versions(request: Request) -> RuleVersions:
    runtime: Runtime = request.app.state.runtime
    return RuleVersions(runtime.db, runtime.clock, runtime.registry.flows)


def _overview(request: Request) -> RulesOverview:
    runtime: Runtime = request.app.state.runtime
    return rules_overview(_versions(request), runtime.settings.rules_dir, runtime.rules.version)


@router.get("/rules", response_class=HTMLResponse)
async def rules_page(request: Request, who: UiOperator) -> HTMLResponse:
    district_only(who)
    found = await run_in_threadpool(_overview, request)
    return renderer(request).page(request, "rules.html", {"title": "Rules 规则", "o": found})


@router.get("/rules/diff", response_class=HTMLResponse)
async def rules_diff_page(request: Request, who: UiOperator, a: Ref = "", b: Ref = "") -> HTMLResponse:
    district_only(who)
    found = await run_in_threadpool(_overview, request)
    a, b = a.strip() or _default_from(found), b.strip() or ("active" if found.active else "")
    compared: VersionDiff | None = None
    error, side, status = "", "", 200
    if a and b:
        try:
            compared = await run_in_threadpool(compare_versions, _versions(request), a, b, DIFF_LABELS)
        except VersionRefNotFound as exc:
            error, side, status = str(exc), exc.side, exc.http_status
    context = {
        "title": "Rules diff 规则对比",
        **{"o": found, "a": a, "b": b, "d": compared, "error": error, "side": side},
    }
    return renderer(request).page(request, "rules_diff.html", context, status)


def _default_from(found: RulesOverview) -> str:
    """The version before the active one (the one it replaced, when there is one)."""
    accepted = [v for v in found.versions if v.status != "rejected" and not v.active]
    if found.active is None or not accepted:
        return ""
    earlier = [v for v in accepted if v.id < found.active.id] or accepted
    return str(earlier[0].id)


def _explain_context(found: RulesOverview, **values: Any) -> dict[str, Any]:
    choices: list[StoredVersion] = [v for v in found.versions if v.status != "rejected"]
    chosen = values.pop("chosen", None) or ("active" if found.active else FOLDER)
    base = {"title": "Explain an event 规则试算", "o": found, "choices": choices, "chosen": chosen}
    return {**base, "event": "", "at": "", "results": None, "error": None, **values}


@router.get("/rules/explain", response_class=HTMLResponse)
async def rules_explain_form(request: Request, who: UiOperator) -> HTMLResponse:
    district_only(who)
    found = await run_in_threadpool(_overview, request)
    return renderer(request).page(request, "rules_explain.html", _explain_context(found))


@router.post("/rules/explain", response_class=HTMLResponse)
async def rules_explain_run(
    request: Request,
    who: UiAction,
    event: Annotated[str, Form(max_length=200_000)] = "",
    rules: Annotated[str, Form(max_length=70)] = "",
    at: Annotated[str, Form(max_length=60)] = "",
) -> HTMLResponse:
    """The dry run: nothing is written (the explainers are pure, the reads are reads)."""
    district_only(who)
    found = await run_in_threadpool(_overview, request)
    values: dict[str, Any] = {"event": event, "at": at, "chosen": rules}
    try:
        results = await run_in_threadpool(_run_explain, request, event, rules or "active", at)
    except ExplainError as exc:
        context = _explain_context(found, **values, error=exc)
        return renderer(request).page(request, "rules_explain.html", context, 422)
    text = "\n\n".join(r.as_text() for r in results)
    context = _explain_context(found, **values, results=results, text=text)
    return renderer(request).page(request, "rules_explain.html", context)


class ExplainError(BadInput):
    """A problem with one field of the explain form: ``field`` is the control's id."""

    def __init__(self, field: str, message: str, *, line: int = 0, column: int = 0) -> None:
        super().__init__(message)
        self.field = field
        self.line = line
        self.column = column


def _run_explain(request: Request, event: str, ref: str, at: str) -> list[Any]:
    runtime: Runtime = request.app.state.runtime
    if not event.strip():
        raise ExplainError("event", "Event: paste a CloudEvent as JSON (a license.issued event, say)")
    try:
        raw = read_json(event, "event")
    except NotJson as exc:
        where = f"line {exc.line}, column {exc.column}"
        raise ExplainError(
            "event", f"Event: not JSON at {where}: {exc.reason}", line=exc.line, column=exc.column
        ) from None
    try:
        ruleset = ruleset_of(_versions(request), ref, runtime.settings.rules_dir, FOLDER)
    except (YunshangError, RulesInvalid) as exc:
        raise ExplainError("rules", f"Rules: {exc}") from None
    start = _instant(at) if at.strip() else runtime.clock.now()
    try:
        return list(explain(runtime.registry.explainers, ruleset, raw, start))
    except YunshangError as exc:
        raise ExplainError("event", f"Event: {exc}") from None


def _instant(text: str) -> datetime:
    try:
        value = datetime.fromisoformat(text.strip())
    except ValueError:
        raise ExplainError(
            "at", f"Counted from: {text!r} is not a time: write it like 2026-12-03T10:00:00+08:00"
        ) from None
    if value.tzinfo is None:
        raise ExplainError("at", f"Counted from: {text!r} has no timezone: add one, e.g. +08:00")
    return value
