"""The grid directory's commands: ``yunshang directory import grids FILE`` and ``yunshang directory show``.

They live in the ``directory`` group of the root app, which other plug-ins share (``directory import
objects``): ``add_directory_commands`` reuses the ``directory`` group, and its ``import`` group, when a
plug-in added them before, and creates them otherwise (``workflows.directories.cli``).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import asdict
from pathlib import Path
from typing import Annotated, Any

import typer

from workflows.cli.common import Composer, JsonOpt
from workflows.directories.cli import directory_groups, fail_on, import_file
from workflows.flows.grid_check.directory import (
    DirectoryCounts,
    ImportReport,
    directory_counts,
    latest_import,
    parse_directory,
    replace_directory,
)

#: how a command finds the composer of its runtime (``workflows.cli.common.composer``)
ComposerFn = Callable[[typer.Context], Composer]

FileArg = Annotated[Path, typer.Argument(help="the directory as CSV (a row per grid worker) or YAML")]


def add_directory_commands(app: typer.Typer, composer_fn: ComposerFn) -> None:
    """Add ``directory import grids`` and ``directory show`` to ``app`` (the root app)."""
    directory_app, import_app = directory_groups(app)

    @import_app.command("grids")
    def import_grids(ctx: typer.Context, file: FileArg, as_json: JsonOpt = False) -> None:
        """Replace the whole grid directory (streets, grids, grid workers) by FILE. Every problem of
        the file is printed as FILE:LINE: field: message, and then nothing is changed."""
        report = import_file(
            composer_fn(ctx).runtime(),
            file,
            "the grid directory",
            lambda rules: parse_directory(file, {s.code: s.name for s in rules.organisation.streets}),
            lambda session, directory, source, at: replace_directory(session, directory, source, at=at),
        )
        if as_json:
            typer.echo(json.dumps(_report_json(report), ensure_ascii=False, indent=2))
            return
        typer.echo(f"imported {report.source} (sha256 {report.sha256[:12]}, import #{report.import_id}):")
        typer.echo("\n".join(format_counts(report.counts)))
        old = report.replaced
        typer.echo(f"replaced {old.grids} grids and {old.workers} workers in {len(old.streets)} streets")

    @directory_app.command("show")
    def show(ctx: typer.Context, as_json: JsonOpt = False) -> None:
        """The grid directory: grids, workers and active workers per street, and its last import."""
        rt = composer_fn(ctx).runtime()
        try:
            with rt.db.read() as session:
                counts = directory_counts(session)
                last = latest_import(session)
        except Exception as exc:
            fail_on(exc, rt)
        finally:
            rt.close()
        if as_json:
            payload: dict[str, Any] = {"grids": _counts_json(counts), "last_import": None}
            if last is not None:
                payload["last_import"] = {
                    "id": last.id,
                    "source": last.source,
                    "sha256": last.sha256,
                    "imported_at": last.imported_at.isoformat(),
                }
            typer.echo(json.dumps(payload, ensure_ascii=False, indent=2))
            return
        if not counts.streets:
            typer.echo("the grid directory is empty: yunshang directory import grids FILE")
            return
        typer.echo("\n".join(format_counts(counts)))
        if last is not None:
            when = last.imported_at.isoformat(timespec="seconds")
            typer.echo(f"imported {when} from {last.source} (sha256 {last.sha256[:12]}, import #{last.id})")


def format_counts(counts: DirectoryCounts) -> list[str]:
    """``grid directory: N grids, M workers (K active) in S streets`` and a line per street."""
    lines = [
        f"grid directory: {counts.grids} grids, {counts.workers} workers ({counts.active} active) "
        f"in {len(counts.streets)} streets"
    ]
    for s in counts.streets:  # the name last: CJK characters are two columns wide
        lines.append(
            f"  {s.code:<14} {s.grids:>5} grids {s.workers:>5} workers {s.active:>5} active  {s.name}"
        )
    return lines


def _counts_json(counts: DirectoryCounts) -> dict[str, Any]:
    return {
        "grids": counts.grids,
        "workers": counts.workers,
        "active": counts.active,
        "streets": [asdict(street) for street in counts.streets],
    }


def _report_json(report: ImportReport) -> dict[str, Any]:
    return {
        "import_id": report.import_id,
        "source": report.source,
        "sha256": report.sha256,
        "imported": _counts_json(report.counts),
        "replaced": _counts_json(report.replaced),
    }
