"""``yunshang rules ...``: lint, explain, compare, store, reload and recompute rule sets.

The commands that read stored versions open the database directly (no broker, no worker): a reload
from here is picked up by every running process within ``YUNSHANG_RULES_POLL_INTERVAL`` seconds.
"""

from __future__ import annotations

import getpass
import json
import sys
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import Annotated, Any

import typer

from rules import RuleSet, RulesInvalid, content_hash, diff, format_diff, format_report, lint, load_rules
from state_machines.base import Flow
from workflows.cli.common import JsonOpt, composer, fail
from workflows.errors import YunshangError
from workflows.queries.explain import NotJson, explain, read_json
from workflows.queries.rules import folder_status, ruleset_of
from workflows.ruleset.adapter import RuleDeadlines
from workflows.ruleset.contracts import snapshot, with_contract
from workflows.ruleset.recompute import apply_recompute, format_recompute, plan_recompute
from workflows.ruleset.versions import RuleVersions, version_of
from workflows.settings import ClockMode, Settings
from workflows.store.db import Database
from workflows.store.migrate import upgrade
from workflows.time.calendar import SHANGHAI
from workflows.time.clock import SystemClock, build_clock

rules_app = typer.Typer(help="The YAML rule files rule authors edit.", no_args_is_help=True)

DirOpt = Annotated[Path | None, typer.Option("--dir", help="rule folder (default: YUNSHANG_RULES_DIR)")]


@contextmanager
def _stored_versions(settings: Settings, flows: Mapping[str, Flow] | None = None) -> Iterator[RuleVersions]:
    """The stored versions; ``flows`` (the CLI's plug-ins) for the commands that store a rule set."""
    db = Database(settings.database_url, lock_timeout=settings.lock_timeout)
    try:
        upgrade(db)
        yield RuleVersions(db, build_clock(settings.clock == ClockMode.simulated, db), flows or {})
    except (YunshangError, RulesInvalid) as exc:
        fail(str(exc))
    finally:
        db.dispose()


@rules_app.command("lint")
def rules_lint(
    ctx: typer.Context,
    directory: Annotated[
        Path | None, typer.Argument(help="rule folder (default: YUNSHANG_RULES_DIR)")
    ] = None,
) -> None:
    """Report every problem at once, as file:line:column: severity: field: message: the rule files'
    own and their contract with the flows this engine runs (a deadline for every timer, ladders on
    real states and timers)."""
    root = directory or Settings().rules_dir
    report = with_contract(lint(root), snapshot(root), composer(ctx).registry.flows)
    typer.echo(format_report(report))
    if not report.ok:
        raise typer.Exit(1)


@rules_app.command("diff")
def rules_diff(
    old: Annotated[str, typer.Argument(help="rule folder, or stored version (id, hash prefix, 'active')")],
    new: Annotated[str, typer.Argument(help="rule folder, or stored version (id, hash prefix, 'active')")],
) -> None:
    """What changed between two rule sets (folders or stored versions), in rule terms."""
    settings = Settings()
    if Path(old).is_dir() and Path(new).is_dir():
        before, after = _from_folder(old), _from_folder(new)
    else:
        with _stored_versions(settings) as versions:
            before, after = _resolve(old, versions), _resolve(new, versions)
    typer.echo(format_diff(diff(before, after)))


def _from_folder(directory: str) -> RuleSet:
    try:
        return load_rules(directory)
    except RulesInvalid as exc:
        fail(str(exc))


def _resolve(ref: str, versions: RuleVersions) -> RuleSet:
    if Path(ref).is_dir():
        return _from_folder(ref)
    return ruleset_of(versions, ref)


@rules_app.command("explain")
def rules_explain(
    ctx: typer.Context,
    event: Annotated[
        str, typer.Argument(help="CloudEvent JSON file (e.g. license.issued, scope.changed); - for stdin")
    ],
    directory: DirOpt = None,
    version: Annotated[
        str | None,
        typer.Option("--version", help="explain with a stored version (id, hash prefix, 'active')"),
    ] = None,
    at: Annotated[
        str | None,
        typer.Option(
            "--at",
            help="when the notice is pushed, which the deadlines count from, as the engine counts them "
            "(default: now, as if the event arrived now; the deployment's simulated clock when it runs one)",
        ),
    ] = None,
    as_json: JsonOpt = False,
) -> None:
    """A dry run: which rules match, who is notified, which deadlines fall when. Changes nothing.
    Each flow plug-in explains the event types it declares an explainer for."""
    explainers = composer(ctx).registry.explainers
    settings = Settings()
    raw = _read_json(event)
    if version is not None:
        with _stored_versions(settings) as versions:
            ruleset = _resolve(version, versions)
    else:
        ruleset = _from_folder(str(directory or settings.rules_dir))
    # one rule for the start, the engine's: a deadline counts from entering the state (the push, when
    # the event is applied), never from the event's own time
    start = _instant(at) if at else _now(settings)
    try:
        results = explain(explainers, ruleset, raw, start)
    except YunshangError as exc:
        fail(str(exc))
    if as_json:
        data: Any = [r.as_json() for r in results] if isinstance(raw, list) else results[0].as_json()
        typer.echo(json.dumps(data, ensure_ascii=False, indent=2))
    else:
        typer.echo("\n\n".join(r.as_text() for r in results))


def _read_json(source: str) -> Any:
    try:
        text = sys.stdin.read() if source == "-" else Path(source).read_text(encoding="utf-8")
    except OSError as exc:
        fail(f"cannot read {source}: {exc.strerror}")
    try:
        return read_json(text, source)
    except NotJson as exc:
        fail(str(exc))


def _now(settings: Settings) -> datetime:
    """Now, as the engine's clock has it: the simulated clock's offset is in the database."""
    if settings.clock != ClockMode.simulated:
        return SystemClock().now()
    with _stored_versions(settings) as versions:
        return versions.clock.now()


def _instant(text: str) -> datetime:
    try:
        value = datetime.fromisoformat(text)
    except ValueError:
        fail(f"--at {text!r} is not a time: write it like 2025-09-29T10:00:00+08:00")
    if value.tzinfo is None:
        fail(f"--at {text!r} has no timezone: add one, e.g. +08:00")
    return value


@rules_app.command("versions")
def rules_versions(as_json: JsonOpt = False) -> None:
    """Stored rule versions (active, superseded, rejected) and how the rules folder compares."""
    settings = Settings()
    with _stored_versions(settings) as versions:
        stored = versions.all()
    folder = version_of(content_hash(settings.rules_dir))
    if as_json:
        body = {"versions": [v.as_json() for v in stored], "folder": str(settings.rules_dir)}
        typer.echo(json.dumps({**body, "folder_version": folder}, ensure_ascii=False, indent=2))
        return
    typer.echo(f"{'id':>4}  {'version':<16}  {'status':<10}  {'stored (UTC+8)':<16}  {'author':<24}  note")
    for v in stored:
        when = v.created_at.astimezone(SHANGHAI).strftime("%Y-%m-%d %H:%M")
        note = v.note.splitlines()[0] if v.note else ""
        typer.echo(f"{v.id:>4}  {v.version:<16}  {v.status:<10}  {when:<16}  {v.author:<24}  {note}")
    typer.echo(folder_status(settings.rules_dir, folder, stored))


@rules_app.command("reload")
def rules_reload(
    ctx: typer.Context,
    directory: DirOpt = None,
    note: Annotated[str, typer.Option(help="what changed and why, kept with the version")] = "",
    author: Annotated[str | None, typer.Option(help="who changed it (default: your login)")] = None,
) -> None:
    """Lint the folder and check it against the flows; store and activate it, or reject it and keep
    the active version."""
    settings = Settings()
    with _stored_versions(settings, composer(ctx).registry.flows) as versions:
        result = versions.reload(directory or settings.rules_dir, note=note, author=author or _login())
    typer.echo(result.describe())
    if result.outcome == "rejected":
        raise typer.Exit(1)


@rules_app.command("recompute")
def rules_recompute(
    dry_run: Annotated[bool, typer.Option("--dry-run", help="only show what would move")] = False,
    operator: Annotated[str | None, typer.Option(help="recorded in the audit (default: your login)")] = None,
    as_json: JsonOpt = False,
) -> None:
    """Recompute armed deadlines from their state-entry time under the active rule version."""
    settings = Settings()
    with _stored_versions(settings) as versions:
        active = versions.active()
        if active is None:
            fail("no rule version is active yet: run `yunshang rules reload`")
        deadlines = RuleDeadlines.from_files(active.rule_files, f"rule version {active.version}")
        plan = plan_recompute(versions.db, deadlines.calendar, deadlines)
        if not dry_run:
            apply_recompute(versions.db, versions.clock, plan, operator or _login())
    typer.echo(json.dumps(plan.as_json(), indent=2) if as_json else format_recompute(plan))


def _login() -> str:
    try:
        return getpass.getuser()
    except (OSError, KeyError):  # pragma: no cover - no login name in this environment
        return "operator"
