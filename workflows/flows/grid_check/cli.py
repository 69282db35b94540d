"""The grid first check commands: ``yunshang directory import grids|show`` and ``yunshang grid
scorecard``."""

from __future__ import annotations

import json
from typing import Annotated

import typer

from workflows.cli.common import JsonOpt, composer, fail, runtime
from workflows.errors import YunshangError
from workflows.flows.grid_check.directory_cli import add_directory_commands
from workflows.flows.grid_check.scorecard_view import BY, format_scorecard, scorecard_between


def scorecard(
    ctx: typer.Context,
    start: Annotated[str | None, typer.Option("--from", help="first day, YYYY-MM-DD (Asia/Shanghai)")] = None,
    end: Annotated[str | None, typer.Option("--to", help="last day (inclusive)")] = None,
    by: Annotated[str, typer.Option(help="street, grid or worker")] = "street",
    top: Annotated[int, typer.Option(help="rows shown, most overdue first (0: all)")] = 20,
    as_json: JsonOpt = False,
) -> None:
    """Grid first checks per street, grid or worker and overall: pushes, checked, unlicensed found,
    working days to the first check, overdue now by level, returns."""
    if by not in BY:
        fail(f"--by: {by!r} is not one of {', '.join(BY)}")
    rt = runtime(ctx)
    try:
        card = scorecard_between(rt, start, end)
    except YunshangError as exc:
        fail(str(exc))
    if as_json:
        typer.echo(json.dumps(card.as_json(), ensure_ascii=False, indent=2))
    else:
        typer.echo(format_scorecard(card, by, top or None))


def add_commands(app: typer.Typer) -> None:
    """The plug-in's CLI hook: ``directory`` commands and the ``grid`` group."""
    add_directory_commands(app, composer)
    grid = typer.Typer(help="The grid first check (网格首检).", no_args_is_help=True)
    grid.command()(scorecard)
    app.add_typer(grid, name="grid")
