"""``yunshang directory import objects|officers FILE`` and ``yunshang directory synthetic
objects|officers`` on each stack's database."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner, Result

from tests.integration.flows.joint_inspection.conftest import WriteFile
from worker import PLUGINS, compose
from workflows.cli.common import Composer, composer
from workflows.flows.grid_check import directory_cli as grid_cli
from workflows.flows.joint_inspection.directory import latest_import, object_counts, officer_counts
from workflows.flows.joint_inspection.directory_cli import add_directory_commands
from workflows.flows.joint_inspection.directory_synthetic import (
    write_synthetic_objects,
    write_synthetic_officers,
)
from workflows.store.db import Database
from workflows.uscc import make

U1, U2 = make("91370212MA0000001"), make("92370212MA0000002")
Hook = Callable[[typer.Typer, Callable[[typer.Context], Composer]], None]


def root_app(*hooks: Hook) -> typer.Typer:
    """A root app as ``build_app`` makes it (the runtime's composer in the context), with the hooks."""
    app = typer.Typer(no_args_is_help=True, context_settings={"obj": Composer(compose, PLUGINS)})
    for hook in hooks or (add_directory_commands,):
        hook(app, composer)
    return app


@pytest.fixture
def cli(db: Database, monkeypatch: pytest.MonkeyPatch) -> CliRunner:
    monkeypatch.setenv("YUNSHANG_DATABASE_URL", db.url)
    monkeypatch.setenv("YUNSHANG_BROKER", "embedded")
    monkeypatch.setenv("YUNSHANG_RULES_POLL_INTERVAL", "0")
    return CliRunner()


def run(runner: CliRunner, *args: str) -> Result:
    return runner.invoke(root_app(), list(args))


def test_synthetic_files_written_by_the_cli_import_and_print_their_counts(
    cli: CliRunner, db: Database, tmp_path: Path
) -> None:
    objects, officers = tmp_path / "objects.csv", tmp_path / "officers.csv"
    wrote = run(cli, "directory", "synthetic", "objects", "--out", str(objects), "--count", "3000")
    assert (wrote.exit_code, wrote.stdout) == (0, f"wrote 3000 objects to {objects}\n"), wrote.output
    wrote = run(cli, "directory", "synthetic", "officers", "--out", str(officers), "--objects", "3000")
    assert (wrote.exit_code, wrote.stdout) == (0, f"wrote 800 officers to {officers}\n"), wrote.output
    write_synthetic_objects(tmp_path / "again.csv", 3000)
    write_synthetic_officers(tmp_path / "again-officers.csv", objects=3000)
    assert objects.read_bytes() == (tmp_path / "again.csv").read_bytes()
    assert officers.read_bytes() == (tmp_path / "again-officers.csv").read_bytes()

    done = run(cli, "directory", "import", "objects", str(objects))
    assert done.exit_code == 0, done.output
    lines = done.stdout.splitlines()
    assert lines[0].startswith("imported objects.csv (sha256 ")
    assert lines[0].endswith("3000 objects, replacing 0")
    with db.read() as session:
        counts = object_counts(session)
    assert [line.split()[:3] for line in lines[1:]] == [[c, str(n), "objects"] for c, n in counts.items()]
    assert lines[1].endswith("信用风险低")

    staff = run(cli, "directory", "import", "officers", str(officers))
    assert staff.exit_code == 0, staff.output
    with db.read() as session:
        by_department = officer_counts(session)
    active = sum(up for _, up in by_department.values())
    assert staff.stdout.splitlines()[0].endswith(f"800 officers, replacing 0 ({active} active)")
    scjg = next(line for line in staff.stdout.splitlines() if line.split()[0] == "SCJG")
    assert scjg.split()[1:5] == [
        str(by_department["SCJG"][0]),
        "officers",
        str(by_department["SCJG"][1]),
        "active",
    ]
    assert scjg.endswith("区市场监管局")

    again = run(cli, "directory", "import", "objects", str(objects), "--json")
    assert again.exit_code == 0, again.output
    report = json.loads(again.stdout)
    assert (report["kind"], report["rows"], report["replaced"], report["counts"]) == (
        "objects",
        3000,
        3000,
        counts,
    )
    with db.read() as session:
        last = latest_import(session, "objects")
        assert last is not None and last.id == report["import_id"]


def test_a_bad_file_prints_every_problem_exits_1_and_changes_nothing(
    cli: CliRunner, db: Database, write_objects: WriteFile, write_officers: WriteFile
) -> None:
    good = write_objects(f"{U1},某公司,enterprise,,ZHONGHAN,ZH-001,B,2026-06-30,,,")
    assert run(cli, "directory", "import", "objects", str(good)).exit_code == 0
    with db.read() as session:
        before, last = object_counts(session), latest_import(session, "objects")
    bad = write_objects(
        f"{U1},某公司,enterprise,,ZHONGHAN,ZH-001,B,2026-06-30,,,",
        f"{U1},某公司,enterprise,,NOWHERE,ZH-001,X,2026-06-30,,,",
        name="bad.csv",
    )
    result = run(cli, "directory", "import", "objects", str(bad))
    assert result.exit_code == 1
    assert result.stdout == ""
    assert result.stderr.splitlines() == [
        f"{bad}:3: uscc: duplicate USCC {U1} (first on line 2)",
        f"{bad}:3: street: unknown street 'NOWHERE'; organisation.yaml has "
        "BEIZHAI, JINJIALING, SHAZIKOU, WANGGEZHUANG, ZHONGHAN",
        f"{bad}:3: risk_class: unknown risk class 'X'; sampling.yaml has A, B, C, D",
        f"error: 3 problems in {bad}; the inspection objects directory was not changed",
    ]
    officers = write_officers("SCJG-0001,王芳,SCJG,370212010001,,perhaps,")
    refused = run(cli, "directory", "import", "officers", str(officers))
    assert refused.exit_code == 1
    assert (
        refused.stderr.splitlines()[-1]
        == f"error: 1 problem in {officers}; the officers directory was not changed"
    )
    with db.read() as session:
        assert object_counts(session) == before and officer_counts(session) == {}
        now = latest_import(session, "objects")
        assert now is not None and last is not None and now.id == last.id
        assert latest_import(session, "officers") is None


@pytest.mark.parametrize("grid_first", [True, False])
def test_the_grid_directory_commands_share_the_directory_group(
    cli: CliRunner, write_objects: WriteFile, tmp_path: Path, grid_first: bool
) -> None:
    hooks: list[Hook] = [grid_cli.add_directory_commands, add_directory_commands]
    app = root_app(*(hooks if grid_first else hooks[::-1]))
    assert [group.name for group in app.registered_groups] == ["directory"]
    listed = cli.invoke(app, ["directory", "import", "--help"]).stdout
    assert all(command in listed for command in ("grids", "objects", "officers"))
    path = write_objects(f"{U2},某店,individual,,BEIZHAI,BZ-001,A,2026-06-30,,,")
    done = cli.invoke(app, ["directory", "import", "objects", str(path)])
    assert done.exit_code == 0, done.output
    grids = tmp_path / "grids.csv"
    grids.write_text(
        "street,street_name,grid,grid_name,worker_id,worker_name,backup_worker,active,recipient\n"
        "ZHONGHAN,中韩街道,ZH-001,中韩街道第1网格,GW-0001,王芳,,true,app:gw-0001\n",
        encoding="utf-8",
    )
    assert cli.invoke(app, ["directory", "import", "grids", str(grids)]).exit_code == 0
    assert cli.invoke(app, ["directory", "show"]).exit_code == 0
