"""``yunshang demo``: the plug-ins' demo parts together on the embedded stack with the simulated clock
(``workflows.demo``), their reports, then the API served for exploration."""

from __future__ import annotations

import logging
from datetime import date, datetime, time
from pathlib import Path
from typing import Annotated

import typer

from workflows.api.serve import serve_api
from workflows.cli.common import HostOpt, PortOpt, composer, fail, listen
from workflows.demo.runner import DemoResult, DemoRunner, build_parts
from workflows.errors import YunshangError
from workflows.services import EmbeddedStack
from workflows.time.calendar import SHANGHAI


def _start(text: str | None) -> datetime | None:
    if text is None:
        return None
    try:
        return datetime.combine(date.fromisoformat(text), time(8), SHANGHAI)
    except ValueError:
        fail(f"--start: {text!r} is not a day (YYYY-MM-DD)")


def demo(
    ctx: typer.Context,
    enterprises: Annotated[int, typer.Option(help="synthetic enterprises licensed during the week")] = 2000,
    days: Annotated[int, typer.Option(help="days of licenses to replay")] = 7,
    tail_days: Annotated[int, typer.Option(help="days the clock runs on after the last license")] = 5,
    seed: Annotated[int, typer.Option(help="random seed of the district")] = 20191022,
    start: Annotated[
        str | None, typer.Option(help="first day of licenses, YYYY-MM-DD (Asia/Shanghai; default tomorrow)")
    ] = None,
    database: Annotated[Path, typer.Option(help="SQLite file of the demo (replaced)")] = Path("var/demo.db"),
    exit_after: Annotated[
        bool, typer.Option("--exit", help="exit after the scorecards instead of serving")
    ] = False,
    threads: Annotated[int, typer.Option(help="worker threads")] = 4,
    host: HostOpt = None,
    port: PortOpt = None,
) -> None:
    """Replay a week of a synthetic district on the embedded stack with the simulated clock, each flow
    plug-in playing its part (licenses and department claims, grid workers' checks, …), print every
    part's scorecard, then keep serving the API for exploration."""
    first = _start(start)
    found = composer(ctx)
    try:
        parts = build_parts(found.registry.demos)
    except TypeError as exc:
        fail(str(exc))
    if not parts:
        fail("no flow plug-in of this engine brings a demo part")
    for suffix in ("", "-wal", "-shm"):
        Path(f"{database}{suffix}").unlink(missing_ok=True)
    rt = found.runtime(
        serving=True,
        overrides={
            "database_url": f"sqlite:///{database}",
            "broker": "embedded",
            "clock": "simulated",
            **listen(host, port),
        },
    )
    for noisy in ("yunshang", "dramatiq"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    stack = EmbeddedStack(rt, threads=threads)
    stack.start()
    try:
        ruleset = rt.rules.ruleset("the demo")
        run = DemoRunner(rt, ruleset, parts, enterprises=enterprises, days=days, seed=seed, start=first)
        typer.echo(
            f"demo: {enterprises} enterprises licensed over {days} days, clock from "
            f"{run.start.astimezone(SHANGHAI):%Y-%m-%d %H:%M} Asia/Shanghai; database {database}"
        )
        for name, line in run.prepare().items():
            typer.echo(f"  {name}: {line}")
        result = _run(run, tail_days)
        _print(result)
        if not exit_after:
            serve_api(rt, development=True)
    except YunshangError as exc:
        fail(str(exc))
    finally:
        stack.stop()
        rt.close()


def _run(run: DemoRunner, tail_days: int) -> DemoResult:
    with typer.progressbar(length=(run.days + tail_days) * 24, label="simulated hours") as bar:
        last = [0]

        def tick(done: int, total: int) -> None:
            bar.update(done - last[0])
            last[0] = done

        return run.run(tail_days, tick)


def _print(result: DemoResult) -> None:
    typer.echo(f"{result.licenses} licenses, {result.events} events in {result.seconds:.1f} s\n")
    if result.refused:
        typer.secho(
            f"{result.refused} of the demo's events were refused; the first: " + " | ".join(result.refusals),
            fg=typer.colors.YELLOW,
            err=True,
        )
    typer.echo("\n\n".join(result.reports.values()))
