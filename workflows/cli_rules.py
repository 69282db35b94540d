"""``yunshang rules ...``: lint the rule files and compare rule sets."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from rules import RulesInvalid, diff, format_diff, format_report, lint, load_rules
from workflows.cli import fail
from workflows.settings import Settings

rules_app = typer.Typer(help="The YAML rule files rule authors edit.", no_args_is_help=True)


@rules_app.command("lint")
def rules_lint(
    directory: Annotated[
        Path | None, typer.Argument(help="rule folder (default: YUNSHANG_RULES_DIR)")
    ] = None,
) -> None:
    """Report every problem at once, as file:line:column: severity: field: message."""
    report = lint(directory or Settings().rules_dir)
    typer.echo(format_report(report))
    if not report.ok:
        raise typer.Exit(1)


@rules_app.command("diff")
def rules_diff(
    old: Annotated[Path, typer.Argument(help="rule folder before")],
    new: Annotated[Path, typer.Argument(help="rule folder after")],
) -> None:
    """What changed between two rule folders, in rule terms."""
    try:
        changes = diff(load_rules(old), load_rules(new))
    except RulesInvalid as exc:
        fail(str(exc))
    typer.echo(format_diff(changes) if changes else "no changes")
