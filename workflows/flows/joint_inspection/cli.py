"""``yunshang draw verify FILE``: re-run an exported draw receipt, offline, and say what differs."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from workflows.cli.common import fail
from workflows.flows.joint_inspection.plans import snapshot_of_json
from workflows.flows.joint_inspection.receipt import verify

draw_app = typer.Typer(help="The joint inspection's verifiable draws.", no_args_is_help=True)


@draw_app.command("verify")
def verify_file(
    receipt: Annotated[Path, typer.Argument(help="a receipt as GET /draws/{id} exports it (JSON)")],
) -> None:
    """Re-run the draw a receipt records over the candidates it carries: ok, or what differs."""
    try:
        data = json.loads(receipt.read_text(encoding="utf-8"))
        snapshot, excluded = snapshot_of_json(data["candidates"])
    except (OSError, ValueError, KeyError, TypeError) as exc:
        fail(f"{receipt}: not a draw receipt with its candidates ({type(exc).__name__}: {exc})")
    differs = verify(data, snapshot, excluded)
    if differs:
        for line in differs:
            typer.echo(f"differs: {line}", err=True)
        fail(f"{receipt}: the draw does not verify ({len(differs)} differences)")
    drawn = len(data["result"]["objects"])
    typer.echo(
        f"ok: draw of plan {data['plan']['id']} re-run, {drawn} objects; result {data['result_sha256']}"
    )


def add_commands(app: typer.Typer) -> None:
    app.add_typer(draw_app, name="draw")
