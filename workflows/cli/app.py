"""The ``yunshang`` command line (Typer), built by ``build_app`` for a list of flow plug-ins.

Commands get the runtime through the context object, a ``Composer`` made by ``worker.py`` with the
actor declarations and the plug-ins injected (the engine never imports the actors or a plug-in).
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Callable, Sequence
from importlib.metadata import version as package_version
from pathlib import Path
from typing import Annotated, Any

import typer
from sqlalchemy.engine import make_url

from workflows.api.serve import serve_api
from workflows.cli import front, ops
from workflows.cli.common import (
    Compose,
    Composer,
    HostOpt,
    JsonOpt,
    PortOpt,
    composer,
    fail,
    listen,
    runtime,
    unreachable,
    wait_for_signal,
)
from workflows.cli.demo import demo
from workflows.cli.rules import rules_app
from workflows.messaging.retry import is_transient
from workflows.plugins import FlowPlugin
from workflows.queries.status import status as build_status
from workflows.services import EmbeddedStack, build_scheduler
from workflows.settings import Settings
from workflows.store.db import Database
from workflows.store.migrate import current_revision, head_revision, upgrade
from workflows.time.days import shown


def serve(
    ctx: typer.Context,
    threads: Annotated[int, typer.Option(help="worker threads")] = 4,
    api: Annotated[bool, typer.Option(help="serve the HTTP API too")] = True,
    host: HostOpt = None,
    port: PortOpt = None,
) -> None:
    """Run the embedded stack: SQLite + in-process worker + timer sweep + HTTP API, until Ctrl-C."""
    rt = composer(ctx).runtime(serving=True, overrides=listen(host, port))
    if not rt.settings.embedded_broker:
        fail(
            "`serve` runs the embedded stack; with a Redis or RabbitMQ broker run `python worker.py`, "
            "`yunshang scheduler` and `yunshang api`"
        )
    stack = EmbeddedStack(rt, threads=threads)
    stack.start()
    typer.echo(
        f"yunshang engine running (database {rt.settings.database_url}, clock {rt.settings.clock.value})"
    )
    try:
        if api:
            serve_api(rt, development=True)
        else:
            wait_for_signal()
    finally:
        stack.stop()
        rt.close()


def api(ctx: typer.Context, host: HostOpt = None, port: PortOpt = None) -> None:
    """Serve the HTTP API (production stack; put several behind a load balancer)."""
    rt = composer(ctx).runtime(serving=True, overrides=listen(host, port))
    if rt.settings.embedded_broker:
        fail("the embedded stack serves its API with `yunshang serve`")
    try:
        serve_api(rt, development=False)
    finally:
        rt.close()


def scheduler(ctx: typer.Context) -> None:
    """Run the timer sweep and the outbox re-send (production; run several for HA)."""
    rt = runtime(ctx)
    sched = build_scheduler(rt)
    sched.start()
    typer.echo(f"scheduler running: sweep every {rt.settings.sweep_interval}s")
    wait_for_signal()
    sched.shutdown(wait=True)
    rt.close()


def worker(
    processes: Annotated[int, typer.Option(min=1, help="worker processes")] = 2,
    threads: Annotated[int, typer.Option(min=1, help="threads per process")] = 8,
    queues: Annotated[list[str] | None, typer.Option(help="consume only this queue (repeatable)")] = None,
) -> None:
    """Run Dramatiq worker processes under a supervisor that replaces a dead one (`python worker.py`)."""
    script = Path(__file__).resolve().parents[2] / "worker.py"
    argv = [sys.executable, str(script), "--processes", str(processes), "--threads", str(threads)]
    argv += ["--queues", *queues] if queues else []
    sys.stdout.flush()
    sys.stderr.flush()
    os.execv(sys.executable, argv)  # this process becomes the supervisor: signals reach it directly


def migrate() -> None:
    """Bring the database schema to the newest revision, and say which revision it moved from and to."""
    settings = Settings()
    db = Database(settings.database_url)
    where = make_url(settings.database_url).render_as_string(hide_password=True)
    try:
        before = current_revision(db)
        upgrade(db)
        after, head = current_revision(db), head_revision(db)
    except Exception as exc:
        if is_transient(exc):
            fail(unreachable(exc, settings))
        raise
    finally:
        db.dispose()
    if before == after:
        typer.echo(f"schema already at revision {after} (the newest) in {where}")
    else:
        typer.echo(
            f"schema migrated from {before or 'nothing (a new database)'} to revision {after} in {where}"
        )
    if after != head:  # pragma: no cover - upgrade goes to head or raises
        fail(f"the schema is at {after}, not the newest revision {head}")


def status(ctx: typer.Context, as_json: JsonOpt = False) -> None:
    """Instances per flow × state, open timers, next due, dead letters, and what was accepted but
    has not had its effect yet (by age). A database that was never migrated is refused, not created."""
    rt = runtime(ctx, require_schema=True)
    try:
        report = build_status(rt.db, rt.recovery.view, rt.clock.now())
    except Exception as exc:
        if is_transient(exc):
            fail(unreachable(exc, rt.settings))
        raise
    finally:
        rt.close()
    if as_json:
        typer.echo(json.dumps(report.as_json(), ensure_ascii=False, indent=2))
        return
    if not report.states:
        typer.echo("no instances yet")
    for flow_name, states in sorted(report.states.items()):
        typer.echo(f"{flow_name}:")
        for state, count in sorted(states.items()):
            typer.echo(f"  {state:<24} {count:>8}")
    due = shown(report.next_due)
    typer.echo(f"open timers: {report.open_timers}  next due: {due}")
    rec = report.reconciliation
    assert rec is not None
    broker = "?" if rec.dead_in_broker is None else str(rec.dead_in_broker)
    typer.echo(f"dead letters: {rec.dead_letters}  (only in the broker, not yet drained: {broker})")
    for label, backlog in [
        ("events without their effect", rec.events_without_effect),
        ("outbox rows never sent", rec.outbox_unsent),
        ("outbox rows sent, unfinished", rec.outbox_unfinished),
    ]:
        ages = "  ".join(f"{age.replace('_', ' ')}: {n}" for age, n in backlog.by_age.items())
        oldest = f"  oldest {backlog.oldest_seconds:.0f} s" if backlog.count else ""
        typer.echo(f"{label}: {backlog.count}  ({ages}){oldest}")
    stale = rec.stale(rt.settings.stale_after)
    if stale:
        typer.secho(
            f"degraded: older than {rt.settings.stale_after:.0f} s: {', '.join(stale)}",
            fg=typer.colors.YELLOW,
        )


def _print_version(value: bool) -> None:
    if value:
        typer.echo(f"yunshang {package_version('yunshang')}")
        raise typer.Exit()


def build_app(compose: Compose, plugins: Sequence[FlowPlugin]) -> typer.Typer:
    """The root command: the engine's commands, then each plug-in's own. Raises ``PluginConflict``."""
    app = typer.Typer(
        help="yunshang: the supervision workflow engine.",
        no_args_is_help=True,
        pretty_exceptions_enable=False,
        context_settings={"obj": Composer(compose, plugins)},
    )

    @app.callback()
    def root(
        version: Annotated[
            bool,
            typer.Option(
                "--version", is_eager=True, callback=_print_version, help="print the version and exit"
            ),
        ] = False,
    ) -> None:
        """yunshang: the supervision workflow engine."""

    commands: list[Callable[..., Any]] = [serve, api, scheduler, worker, migrate, status]
    commands += [front.emit, front.show, front.tasks, demo]
    for command in commands:
        app.command()(command)
    app.add_typer(ops.flows_app, name="flows")
    app.add_typer(ops.clock_app, name="clock")
    app.add_typer(ops.dead_app, name="deadletters")
    app.add_typer(ops.timers_app, name="timers")
    app.add_typer(rules_app, name="rules")
    app.add_typer(front.tokens_app, name="tokens")
    for plugin in plugins:
        if plugin.cli is not None:
            plugin.cli(app)
    return app


def make_app(compose: Compose, plugins: Sequence[FlowPlugin]) -> Callable[[], None]:
    """The ``yunshang`` console script's entry."""
    return build_app(compose, plugins)
