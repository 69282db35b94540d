"""``yunshang emit|show|tasks|tokens``: the front door from the command line."""

from __future__ import annotations

import json
import sys
import threading
from pathlib import Path
from typing import Annotated, Any

import httpx
import typer

from workflows.cli.common import JsonOpt, fail, runtime
from workflows.errors import YunshangError
from workflows.intake import tokens as token_store
from workflows.queries.instances import InstanceFilter, count_instances, instance_detail, list_instances
from workflows.settings import Settings
from workflows.time.days import shown

tokens_app = typer.Typer(help="Bearer tokens of source systems and operators.", no_args_is_help=True)
BATCH = "application/cloudevents-batch+json"


def _api(settings: Settings) -> tuple[str, str, str]:
    """The API's URL, the token to send and where the token came from."""
    url = settings.api_url or f"http://{settings.api_host}:{settings.api_port}"
    token, origin = settings.api_token, "YUNSHANG_API_TOKEN"
    if token is None and settings.dev_token_file.exists():
        token = settings.dev_token_file.read_text(encoding="utf-8").strip()
        origin = f"{settings.dev_token_file} (the development token `yunshang serve` and the demo write)"
    if not token:
        fail("no token: set YUNSHANG_API_TOKEN (or start `yunshang serve`, which writes a development token)")
    return url.rstrip("/"), token, origin


def _refused_token(status: int, detail: str, token: str, origin: str) -> str:
    """What to do about a token the API refused: which one was sent, and how to get a good one."""
    return (
        f"{status}: {detail}\n  the token sent ({token[:8]}…) came from {origin}.\n"
        "  Set YUNSHANG_API_TOKEN to a token of this server: create one against its database with\n"
        "  `yunshang tokens create NAME --kind source --event-type TYPE --source SOURCE` (or --kind admin)."
    )


def emit(
    file: Annotated[
        str, typer.Argument(help="a JSON file with one event or an array of events; - for stdin")
    ],
    as_json: JsonOpt = False,
    wait: Annotated[float, typer.Option(help="seconds to wait for what an accepted event started")] = 5.0,
) -> None:
    """Send one event or a batch to the API and print each event's status and what it started."""
    text = sys.stdin.read() if file == "-" else Path(file).read_text(encoding="utf-8")
    try:
        payload = json.loads(text)
    except json.JSONDecodeError as exc:
        fail(f"{file}:{exc.lineno}:{exc.colno}: not JSON: {exc.msg}")
    url, token, origin = _api(Settings())
    content_type = BATCH if isinstance(payload, list) else "application/cloudevents+json"
    try:
        response = httpx.post(
            f"{url}/events",
            content=json.dumps(payload).encode(),
            timeout=60,
            headers={"Authorization": f"Bearer {token}", "Content-Type": content_type},
        )
    except httpx.HTTPError as exc:
        fail(f"cannot reach the API at {url}: {exc}")
    body: Any = (
        response.json() if response.headers.get("content-type", "").startswith("application/json") else {}
    )
    detail = body.get("detail", response.text) if isinstance(body, dict) else response.text
    if response.status_code == 401:
        fail(_refused_token(401, str(detail), token, origin))
    if response.status_code == 403 and isinstance(body, dict) and "code" in body:
        fail(_refused_token(403, str(detail), token, origin))
    if not isinstance(body, list | dict) or "code" in body:
        fail(f"{response.status_code}: {detail}")
    results = body if isinstance(body, list) else [body]
    if as_json:
        typer.echo(json.dumps(results, ensure_ascii=False, indent=2))
    for r in [] if as_json else results:
        extra = f" → {r['result']} {r.get('instances', [])}" if r.get("result") else ""
        errors = "; ".join(f"{e['field']}: {e['message']}" for e in r.get("errors", []))
        typer.echo(f"{r.get('source')}#{r.get('id')} {r.get('type')}: {r['status']}{extra} {errors}".rstrip())
        for w in r.get("warnings", []):
            typer.echo(f"  warning: {w}")
        if r["status"] == "accepted" and wait > 0 and len(results) <= 20:
            for line in _effect(url, token, r, wait):
                typer.echo(f"  {line}")
    if any(r["status"] in ("rejected", "forbidden") for r in results):
        raise typer.Exit(1)


def _effect(url: str, token: str, status: dict[str, Any], wait: float) -> list[str]:
    """What an accepted event started or moved, as the API tells an operator token (others: nothing),
    waiting up to ``wait`` seconds for the workers to apply it."""
    pause, waited = threading.Event(), 0.0
    params = {"source": status.get("source"), "id": status.get("id")}
    headers = {"Authorization": f"Bearer {token}"}
    found: list[dict[str, Any]] = []
    while True:
        try:
            answer = httpx.get(f"{url}/events/effect", params=params, headers=headers, timeout=10)
        except httpx.HTTPError:
            return []
        if answer.status_code != 200:
            return []
        seen = answer.json()["instances"]
        if (seen and seen == found) or waited >= wait:  # the same twice: the workers are through
            found = seen
            break
        found = seen
        pause.wait(0.25)  # the workers apply it after the intake's commit, one flow at a time
        waited += 0.25
    if not found:
        return [f"nothing applied yet after {wait:g} s (see `yunshang status`)"]
    return [
        f"{'→' if i['via'] == 'event' else '  ↳'} #{i['id']} {i['flow']} {i['state']} {i['business_key']}"
        for i in found
    ]


def show(ctx: typer.Context, instance_id: int, as_json: JsonOpt = False) -> None:
    """One instance: state, context, timers and its full history."""
    try:
        detail = instance_detail(runtime(ctx, require_schema=True).db, instance_id)
    except YunshangError as exc:
        fail(str(exc))
    if as_json:
        typer.echo(json.dumps(detail, ensure_ascii=False, indent=2))
        return
    typer.echo(
        f"#{detail['id']} {detail['flow']} v{detail['flow_version']} {detail['business_key']}: "
        f"{detail['state']} (subject {detail['subject'] or '-'}, rules {detail['rules_version']})"
    )
    typer.echo("context: " + json.dumps(detail["context"], ensure_ascii=False))
    for t in detail["timers"]:
        if t.get("suspended_at"):
            typer.echo(
                f"  timer {t['name']:<22} {t['status']:<9} since {shown(t['suspended_at'])}, "
                f"{t['remaining']} left (was due {shown(t['due_at'])})"
            )
            continue
        typer.echo(
            f"  timer {t['name']:<22} {t['status']:<9} due {shown(t['due_at'])}"
            + " (provisional)" * t["provisional"]
        )
    for h in detail["history"]:
        cause = h["cause"]["operator"] or h["cause"]["id"] or ""
        typer.echo(
            f"  {shown(h['at'])} {h['trigger']:<24} {h['from'] or '∅'} → {h['to'] or '✗'} "
            f"[{h['outcome']}] {h['cause']['kind']} {cause} {h['reason'] or ''}".rstrip()
        )


def tasks(
    ctx: typer.Context,
    department: str | None = None,
    person: str | None = None,
    grid: str | None = None,
    street: str | None = None,
    worker: str | None = None,
    limit: int = 50,
    as_json: JsonOpt = False,
) -> None:
    """Open work by department, person (who claimed it), grid, street or grid worker (who holds it)."""
    rt = runtime(ctx)
    wanted = InstanceFilter(
        department=department, person=person, grid=grid, street=street, worker=worker, open_only=True
    )
    items, more = list_instances(rt.db, wanted, rt.clock.now(), limit=limit)
    if as_json:
        typer.echo(json.dumps(items, ensure_ascii=False, indent=2))
        return
    if not items:
        typer.echo("no open tasks")
    for i in items:
        typer.echo(
            f"#{i['id']:<6} {i['flow']:<18} {i['state']:<18} due {shown(i['next_due']):<25} "
            f"{i['department'] or ''} {i['business_key']}"
            + (f" ({i['person'] or i['worker']})" if i["person"] or i["worker"] else "")
        )
    if more is not None:
        total = count_instances(rt.db, wanted, rt.clock.now())
        typer.echo(f"... {len(items)} of {total} open tasks shown; see more with --limit {total} (or --json)")


@tokens_app.command("create")
def tokens_create(
    ctx: typer.Context,
    name: str,
    kind: Annotated[str, typer.Option(help="source, operator or admin")] = "source",
    event_type: Annotated[
        list[str] | None, typer.Option(help="event type a source may emit; repeat; * for all")
    ] = None,
    source: Annotated[
        list[str] | None,
        typer.Option(help="CloudEvents source a source token posts as (e.g. /registration/370212); repeat"),
    ] = None,
    department: Annotated[
        str | None,
        typer.Option(help="scope an operator token to one department's work (its code, e.g. SCJG)"),
    ] = None,
) -> None:
    """Create a token; it is printed once and only its hash is stored."""
    if kind not in ("source", "operator", "admin"):
        fail(f"--kind must be source, operator or admin, not {kind!r}")
    rt = runtime(ctx)
    try:
        token = token_store.create(
            rt.db,
            rt.clock,
            name,
            kind,  # type: ignore[arg-type]
            list(event_type or []),
            sources=list(source or []),
            department=department,
        )
    except YunshangError as exc:
        fail(str(exc))
    typer.echo(token)


@tokens_app.command("list")
def tokens_list(ctx: typer.Context, as_json: JsonOpt = False) -> None:
    """Tokens (names, kinds, scopes; never the tokens themselves)."""
    rows = token_store.list_tokens(runtime(ctx).db)
    data: list[dict[str, Any]] = [
        {
            "name": t.name,
            "kind": t.kind,
            "prefix": t.prefix,
            "event_types": t.event_types,
            "sources": t.sources,
            "department": t.department,
            "created_at": t.created_at.isoformat(),
            "revoked_at": t.revoked_at.isoformat() if t.revoked_at else None,
        }
        for t in rows
    ]
    if as_json:
        typer.echo(json.dumps(data, ensure_ascii=False, indent=2))
        return
    for d in data:
        state = f"revoked {shown(d['revoked_at'])}" if d["revoked_at"] else "active"
        scopes = ",".join(d["event_types"]) or "-"
        sources = (
            ""
            if d["kind"] != "source"
            else "  as " + (",".join(d["sources"]) if d["sources"] else "any source (unbound)")
        )
        scoped = f"  department {d['department']}" if d["department"] else ""
        typer.echo(f"{d['name']:<24} {d['kind']:<9} {d['prefix']}…  {scopes}{sources}{scoped}  {state}")


@tokens_app.command("revoke")
def tokens_revoke(ctx: typer.Context, name: str) -> None:
    """Revoke a token by name: every endpoint refuses it from now on."""
    rt = runtime(ctx)
    try:
        token_store.revoke(rt.db, rt.clock, name)
    except YunshangError as exc:
        fail(str(exc))
    typer.echo(f"revoked {name}")
