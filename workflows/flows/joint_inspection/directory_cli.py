"""The joint inspection's directory commands:

    yunshang directory import objects FILE      # replace the inspection objects (检查对象名录库)
    yunshang directory import officers FILE     # replace the officers (执法检查人员名录库)
    yunshang directory synthetic objects --out FILE [--count 75000] [--seed 370212]
    yunshang directory synthetic officers --out FILE [--seed 370212]

They live in the ``directory`` group the plug-ins share (``workflows.directories.cli``): the grid
directory's ``directory import grids`` sits beside them, whichever plug-in is loaded first. An import
prints what the directory holds now (objects per risk class, officers per department) or every
problem of the file on stderr, exit 1, having changed nothing.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import asdict
from pathlib import Path
from typing import Annotated

import typer

from workflows.cli.common import Composer, JsonOpt
from workflows.directories.cli import directory_groups, import_file, subgroup
from workflows.flows.joint_inspection.directory import ImportReport, replace_objects, replace_officers
from workflows.flows.joint_inspection.directory_parse import parse_objects, parse_officers
from workflows.flows.joint_inspection.directory_synthetic import (
    OBJECTS,
    SEED,
    write_synthetic_objects,
    write_synthetic_officers,
)

#: how a command finds the composer of its runtime (``workflows.cli.common.composer``)
ComposerFn = Callable[[typer.Context], Composer]

ObjectsFile = Annotated[Path, typer.Argument(help="the objects as CSV (a row per market entity)")]
OfficersFile = Annotated[Path, typer.Argument(help="the officers as CSV (a row per officer)")]
OutOpt = Annotated[Path, typer.Option("--out", help="the CSV file to write")]
SeedOpt = Annotated[int, typer.Option(help="the same seed writes the same bytes")]
SYNTHETIC_HELP = "Write a synthetic directory of the district (the demo's, the benchmark's)."


def add_directory_commands(app: typer.Typer, composer_fn: ComposerFn) -> None:
    """Add ``directory import objects|officers`` and ``directory synthetic objects|officers`` to
    ``app`` (the root app)."""
    directory_app, import_app = directory_groups(app)
    _add_imports(import_app, composer_fn)
    _add_synthetic(subgroup(directory_app, "synthetic", SYNTHETIC_HELP))


def _add_imports(import_app: typer.Typer, composer_fn: ComposerFn) -> None:
    @import_app.command("objects")
    def import_objects(ctx: typer.Context, file: ObjectsFile, as_json: JsonOpt = False) -> None:
        """Replace every inspection object by FILE. Every problem of the file is printed as
        FILE:LINE: field: message, and then nothing is changed."""
        rt = composer_fn(ctx).runtime()
        report = import_file(
            rt,
            file,
            "the inspection objects directory",
            lambda rules: parse_objects(
                file,
                {r.code for r in rules.sampling.risk_classes},
                {s.code for s in rules.organisation.streets},
                [r.code for r in rules.sampling.results],
            ),
            lambda session, directory, source, at: replace_objects(session, directory, source, at=at),
        )
        names = {risk.code: risk.name for risk in rt.rules.ruleset("the report").sampling.risk_classes}
        if as_json:
            typer.echo(json.dumps(asdict(report), ensure_ascii=False, indent=2))
            return
        typer.echo(_heading(report, "objects"))
        for code, count in report.counts.items():  # the name last: CJK characters are two columns wide
            typer.echo(f"  {code:<8} {count:>7} objects  {names.get(code, '')}")

    @import_app.command("officers")
    def import_officers(ctx: typer.Context, file: OfficersFile, as_json: JsonOpt = False) -> None:
        """Replace every inspection officer by FILE. Every problem of the file is printed as
        FILE:LINE: field: message, and then nothing is changed."""
        rt = composer_fn(ctx).runtime()
        report = import_file(
            rt,
            file,
            "the officers directory",
            lambda rules: parse_officers(file, {d.code for d in rules.organisation.departments}),
            lambda session, directory, source, at: replace_officers(session, directory, source, at=at),
        )
        names = {d.code: d.short_name for d in rt.rules.ruleset("the report").organisation.departments}
        if as_json:
            typer.echo(json.dumps(asdict(report), ensure_ascii=False, indent=2))
            return
        typer.echo(_heading(report, "officers") + f" ({sum(report.active.values())} active)")
        for code, count in report.counts.items():
            active = report.active.get(code, 0)
            typer.echo(f"  {code:<8} {count:>5} officers {active:>5} active  {names.get(code, '')}")


def _add_synthetic(synthetic_app: typer.Typer) -> None:
    @synthetic_app.command("objects")
    def synthetic_objects(
        out: OutOpt,
        count: Annotated[int, typer.Option(help="how many objects", min=1)] = OBJECTS,
        seed: SeedOpt = SEED,
    ) -> None:
        """Write COUNT synthetic inspection objects of Laoshan as CSV (import them with `directory
        import objects`)."""
        written = write_synthetic_objects(out, count, seed)
        typer.echo(f"wrote {written} objects to {out}")

    @synthetic_app.command("officers")
    def synthetic_officers(
        out: OutOpt,
        seed: SeedOpt = SEED,
        objects: Annotated[
            int, typer.Option(help="conflicts name objects of `synthetic objects --count N`", min=0)
        ] = OBJECTS,
    ) -> None:
        """Write the 800 synthetic officers of Laoshan's 17 departments as CSV (import them with
        `directory import officers`)."""
        written = write_synthetic_officers(out, seed, objects)
        typer.echo(f"wrote {written} officers to {out}")


def _heading(report: ImportReport, what: str) -> str:
    return (
        f"imported {report.source} (sha256 {report.sha256[:12]}, import #{report.import_id}): "
        f"{report.rows} {what}, replacing {report.replaced}"
    )
