"""The dual-notification command ``yunshang scorecard`` (its part of ``yunshang demo`` is ``demo.py``)."""

from __future__ import annotations

import json
from typing import Annotated

import typer

from workflows.cli.common import JsonOpt, fail, runtime
from workflows.errors import YunshangError
from workflows.flows.dual_notification.scorecard_view import format_scorecard, scorecard_between


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
    app.command()(scorecard)
