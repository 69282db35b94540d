"""``yunshang directory import grids FILE`` and ``yunshang directory show`` on each stack's database."""

from __future__ import annotations

import json

import pytest
import typer
from typer.testing import CliRunner, Result

from tests.integration.flows.grid_check.conftest import WriteFile
from worker import PLUGINS, compose
from workflows.cli.common import Composer, composer
from workflows.flows.grid_check.directory import directory_counts, latest_import
from workflows.flows.grid_check.directory_cli import add_directory_commands
from workflows.flows.grid_check.directory_synthetic import synthetic_path
from workflows.store.db import Database

ZH = "ZHONGHAN,中韩街道"


def root_app() -> typer.Typer:
    """A root app as ``build_app`` makes it (the runtime's composer in the context), with the hook."""
    app = typer.Typer(no_args_is_help=True, context_settings={"obj": Composer(compose, PLUGINS)})
    add_directory_commands(app, composer)
    return app


@pytest.fixture
def cli(db: Database, monkeypatch: pytest.MonkeyPatch) -> CliRunner:
    monkeypatch.setenv("YUNSHANG_DATABASE_URL", db.url)
    monkeypatch.setenv("YUNSHANG_BROKER", "embedded")
    monkeypatch.setenv("YUNSHANG_RULES_POLL_INTERVAL", "0")
    return CliRunner()


def run(runner: CliRunner, *args: str) -> Result:
    return runner.invoke(root_app(), list(args))


def test_import_prints_the_counts_per_street_and_what_it_replaced(cli: CliRunner, db: Database) -> None:
    first = run(cli, "directory", "import", "grids", str(synthetic_path()))
    assert first.exit_code == 0, first.output
    assert "grid directory: 654 grids, 735 workers (720 active) in 5 streets" in first.stdout
    assert any(line.split()[:3] == ["ZHONGHAN", "200", "grids"] for line in first.stdout.splitlines())
    assert "replaced 0 grids and 0 workers in 0 streets" in first.stdout
    again = run(cli, "directory", "import", "grids", str(synthetic_path()), "--json")
    assert again.exit_code == 0, again.output
    report = json.loads(again.stdout)
    assert (report["imported"]["grids"], report["replaced"]["workers"]) == (654, 735)
    assert report["source"] == "laoshan_directory.csv"
    assert {s["code"]: s["workers"] for s in report["imported"]["streets"]}["BEIZHAI"] == 72
    with db.read() as session:
        assert directory_counts(session).workers == 735
        last = latest_import(session)
        assert last is not None and last.id == report["import_id"]


def test_show_prints_the_counts_and_the_last_import(cli: CliRunner) -> None:
    empty = run(cli, "directory", "show")
    assert empty.exit_code == 0 and "the grid directory is empty" in empty.stdout
    assert run(cli, "directory", "import", "grids", str(synthetic_path())).exit_code == 0
    shown = run(cli, "directory", "show")
    assert shown.exit_code == 0, shown.output
    assert "grid directory: 654 grids, 735 workers (720 active) in 5 streets" in shown.stdout
    assert "from laoshan_directory.csv" in shown.stdout
    as_json = json.loads(run(cli, "directory", "show", "--json").stdout)
    assert as_json["grids"]["grids"] == 654 and as_json["last_import"]["source"] == "laoshan_directory.csv"


def test_a_bad_file_prints_every_problem_exits_1_and_changes_nothing(
    cli: CliRunner, db: Database, write_csv: WriteFile
) -> None:
    assert run(cli, "directory", "import", "grids", str(synthetic_path())).exit_code == 0
    with db.read() as session:
        before, last = directory_counts(session), latest_import(session)
    bad = write_csv(
        f"{ZH},ZH-001,中韩街道第1网格,GW-0001,王芳,GW-0001,true,app:gw-0001",
        "NOWHERE,某街道,NW-001,某网格,GW-0002,李强,,perhaps,app:gw-0002",
    )
    result = run(cli, "directory", "import", "grids", str(bad))
    assert result.exit_code == 1
    assert result.stdout == ""
    lines = result.stderr.splitlines()
    assert lines[:3] == [
        f"{bad}:2: backup_worker: GW-0001 cannot be their own backup",
        f"{bad}:3: street: unknown street 'NOWHERE'; organisation.yaml has "
        "BEIZHAI, JINJIALING, SHAZIKOU, WANGGEZHUANG, ZHONGHAN",
        f"{bad}:3: active: 'perhaps' is not a boolean; write true or false (1/0, yes/no)",
    ]
    assert lines[-1] == f"error: 3 problems in {bad}; the grid directory was not changed"
    with db.read() as session:
        assert directory_counts(session) == before
        now = latest_import(session)
        assert now is not None and last is not None and now.id == last.id


def test_a_missing_file_is_one_problem(cli: CliRunner) -> None:
    result = run(cli, "directory", "import", "grids", "/nowhere/grids.csv")
    assert result.exit_code == 1
    assert (
        result.stderr.splitlines()[0]
        == "/nowhere/grids.csv:1: file: cannot be read: No such file or directory"
    )


def test_the_directory_group_of_another_plugin_is_reused(cli: CliRunner, write_csv: WriteFile) -> None:
    """Another plug-in added ``directory import objects`` first: both commands live in one group."""
    app = typer.Typer(no_args_is_help=True, context_settings={"obj": Composer(compose, PLUGINS)})
    directory_app = typer.Typer(no_args_is_help=True)
    import_app = typer.Typer(no_args_is_help=True)

    @import_app.command("objects")
    def objects() -> None:
        typer.echo("objects imported")

    directory_app.add_typer(import_app, name="import")
    app.add_typer(directory_app, name="directory")
    add_directory_commands(app, composer)

    assert [group.name for group in app.registered_groups] == ["directory"]
    assert cli.invoke(app, ["directory", "import", "objects"]).stdout == "objects imported\n"
    path = write_csv(f"{ZH},ZH-001,中韩街道第1网格,GW-0001,王芳,,true,app:gw-0001")
    done = cli.invoke(app, ["directory", "import", "grids", str(path)])
    assert done.exit_code == 0, done.output
    assert "grid directory: 1 grids, 1 workers (1 active) in 1 streets" in done.stdout
    assert "grids" in cli.invoke(app, ["directory", "import", "--help"]).stdout
