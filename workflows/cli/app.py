"""The ``yunshang`` command line (Typer).

Commands get the runtime through the context object, a ``Composer`` built by ``worker.main`` with the
actor declarations injected (the engine never imports the actors itself).
"""

from __future__ import annotations

import json
import logging
import signal
import subprocess
import sys
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, NoReturn

import typer

from rules import RulesError
from workflows.errors import YunshangError
from workflows.runtime import Runtime
from workflows.settings import Settings

Compose = Callable[..., Runtime]
JsonOpt = Annotated[bool, typer.Option("--json", help="machine-readable output")]


@dataclass
class Composer:
    compose: Compose

    def runtime(self, *, serving: bool = False, overrides: dict[str, object] | None = None) -> Runtime:
        """Compose this command's runtime. An embedded-stack command that does not serve leaves its
        outbox rows for the serving process (its in-process broker has no consumer)."""
        settings = Settings(**(overrides or {}))  # type: ignore[arg-type]
        logging.basicConfig(
            level=settings.log_level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s"
        )
        for noisy in ("apscheduler", "alembic", "transitions"):
            logging.getLogger(noisy).setLevel(max(logging.WARNING, logging.getLogger().level))
        try:
            rt = self.compose(settings, dispatch=serving or not settings.embedded_broker)
        except (YunshangError, RulesError) as exc:
            fail(str(exc))
        return rt


def fail(message: str) -> NoReturn:
    typer.secho(f"error: {message}", fg=typer.colors.RED, err=True)
    raise typer.Exit(code=1)


def runtime(ctx: typer.Context, *, serving: bool = False) -> Runtime:
    composer: Composer = ctx.find_root().obj
    return composer.runtime(serving=serving)


app = typer.Typer(
    help="yunshang: the supervision workflow engine.", no_args_is_help=True, pretty_exceptions_enable=False
)


@app.command()
def serve(
    ctx: typer.Context,
    threads: Annotated[int, typer.Option(help="worker threads")] = 4,
    api: Annotated[bool, typer.Option(help="serve the HTTP API too")] = True,
) -> None:
    """Run the embedded stack: SQLite + in-process worker + timer sweep + HTTP API, until Ctrl-C."""
    from workflows.messaging.services import EmbeddedStack, serve_api

    rt = runtime(ctx, serving=True)
    if not rt.settings.embedded_broker:
        fail(
            "`serve` runs the embedded stack; with a Redis broker run `python worker.py`, "
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


@app.command()
def api(ctx: typer.Context) -> None:
    """Serve the HTTP API (production stack; put several behind a load balancer)."""
    from workflows.messaging.services import serve_api

    rt = runtime(ctx, serving=True)
    if rt.settings.embedded_broker:
        fail("the embedded stack serves its API with `yunshang serve`")
    try:
        serve_api(rt, development=False)
    finally:
        rt.close()


@app.command()
def scheduler(ctx: typer.Context) -> None:
    """Run the timer sweep and the outbox re-send (production; run several for HA)."""
    from workflows.messaging.services import build_scheduler

    rt = runtime(ctx)
    sched = build_scheduler(rt)
    sched.start()
    typer.echo(f"scheduler running: sweep every {rt.settings.sweep_interval}s")
    wait_for_signal()
    sched.shutdown(wait=True)
    rt.close()


@app.command()
def worker(
    processes: Annotated[int, typer.Option(help="worker processes")] = 2,
    threads: Annotated[int, typer.Option(help="threads per process")] = 8,
) -> None:
    """Run Dramatiq worker processes (the same as `python worker.py`)."""
    script = Path(__file__).resolve().parents[2] / "worker.py"
    argv = [sys.executable, str(script), "--processes", str(processes), "--threads", str(threads)]
    raise typer.Exit(subprocess.call(argv))


@app.command()
def migrate() -> None:
    """Bring the database schema to the newest revision."""
    from workflows.store.db import Database
    from workflows.store.migrate import upgrade

    upgrade(Database(Settings().database_url))
    typer.echo("schema up to date")


@app.command()
def status(ctx: typer.Context, as_json: JsonOpt = False) -> None:
    """Instances per flow × state, open timers, next due, dead letters."""
    from workflows.queries.status import status as build

    report = build(runtime(ctx).db)
    if as_json:
        typer.echo(json.dumps(report.as_json(), ensure_ascii=False, indent=2))
        return
    if not report.states:
        typer.echo("no instances yet")
    for flow_name, states in sorted(report.states.items()):
        typer.echo(f"{flow_name}:")
        for state, count in sorted(states.items()):
            typer.echo(f"  {state:<24} {count:>8}")
    due = report.next_due.isoformat() if report.next_due else "-"
    typer.echo(f"open timers: {report.open_timers}  next due: {due}")
    typer.echo(f"dead letters: {report.dead_letters}  outbox unsent: {report.outbox_unsent}")


def wait_for_signal() -> None:
    done = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: done.set())
    while not done.wait(1.0):
        pass


def make_app(compose: Compose) -> Callable[[], None]:
    from workflows.cli import ops as cli_ops

    cli_ops.register(app)

    def run() -> None:
        app(obj=Composer(compose))

    return run
