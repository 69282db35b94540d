"""The dual-notification commands: ``yunshang demo`` (its replay of a synthetic district) and
``yunshang scorecard``."""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Annotated

import typer

from workflows.api.serve import serve_api
from workflows.cli.common import JsonOpt, composer, fail, runtime
from workflows.errors import YunshangError
from workflows.flows.dual_notification.demo import Demo
from workflows.flows.dual_notification.scorecard_view import format_scorecard, scorecard_between
from workflows.services import EmbeddedStack


def demo(
    ctx: typer.Context,
    enterprises: Annotated[int, typer.Option(help="synthetic enterprises licensed during the week")] = 2000,
    days: Annotated[int, typer.Option(help="days of licenses to replay")] = 7,
    tail_days: Annotated[int, typer.Option(help="days the clock runs on after the last license")] = 5,
    seed: Annotated[int, typer.Option(help="random seed of the district")] = 20191022,
    database: Annotated[Path, typer.Option(help="SQLite file of the demo (replaced)")] = Path("var/demo.db"),
    exit_after: Annotated[
        bool, typer.Option("--exit", help="exit after the scorecard instead of serving")
    ] = False,
    threads: Annotated[int, typer.Option(help="worker threads")] = 4,
) -> None:
    """Replay a week of a synthetic district through dual notification on the embedded stack with the
    simulated clock, print the scorecard, then keep serving the API for exploration."""
    for suffix in ("", "-wal", "-shm"):
        Path(f"{database}{suffix}").unlink(missing_ok=True)
    rt = composer(ctx).runtime(
        serving=True,
        overrides={"database_url": f"sqlite:///{database}", "broker": "embedded", "clock": "simulated"},
    )
    for noisy in ("yunshang", "dramatiq"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    try:
        ruleset = rt.rules.ruleset("the demo")
    except YunshangError as exc:
        rt.close()
        fail(str(exc))
    stack = EmbeddedStack(rt, threads=threads)
    stack.start()
    try:
        run = Demo(rt, ruleset, enterprises=enterprises, days=days, seed=seed)
        typer.echo(
            f"demo: {enterprises} enterprises licensed over {days} days in Laoshan (370212), "
            f"clock from {run.start:%Y-%m-%d %H:%M} Asia/Shanghai; database {database}"
        )
        with typer.progressbar(length=(days + tail_days) * 24, label="simulated hours") as bar:
            last = [0]

            def tick(done: int, total: int) -> None:
                bar.update(done - last[0])
                last[0] = done

            result = run.run(tail_days, tick)
        typer.echo(f"{result.licenses} licenses, {result.events} events in {result.seconds:.1f} s\n")
        typer.echo(format_scorecard(result.card))
        if not exit_after:
            serve_api(rt, development=True)
    except YunshangError as exc:
        fail(str(exc))
    finally:
        stack.stop()
        rt.close()


def scorecard(
    ctx: typer.Context,
    start: Annotated[str | None, typer.Option("--from", help="first day, YYYY-MM-DD (Asia/Shanghai)")] = None,
    end: Annotated[str | None, typer.Option("--to", help="last day (inclusive)")] = None,
    as_json: JsonOpt = False,
) -> None:
    """Dual notification per department and overall: claims within 48 h, overdue, permits, working days."""
    rt = runtime(ctx)
    try:
        card = scorecard_between(rt, start, end)
    except YunshangError as exc:
        fail(str(exc))
    typer.echo(
        json.dumps(card.as_json(), ensure_ascii=False, indent=2) if as_json else format_scorecard(card)
    )


def add_commands(app: typer.Typer) -> None:
    """The plug-in's CLI hook: its commands on the root app."""
    app.command()(demo)
    app.command()(scorecard)
