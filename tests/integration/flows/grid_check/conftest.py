"""The grid directory's tests: its tables (the plug-in imports them into the engine; here they are
imported directly), a database on each stack holding an empty directory, and small files to read."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from sqlalchemy import delete

from rules import RuleSet
from tests.support import PG_URL, ensure_pg_database
from workflows.flows.grid_check.directory_models import (
    GridCell,
    GridDirectoryImport,
    GridStreet,
    GridWorker,
)
from workflows.flows.grid_check.directory_parse import HEADER
from workflows.store.db import Database
from workflows.store.migrate import upgrade

WriteFile = Callable[..., Path]


@pytest.fixture
def db(stack_kind: str, tmp_path: Path) -> Iterator[Database]:
    """The migrated database of the stack (SQLite file, or PostgreSQL) with no directory in it."""
    if stack_kind == "embedded":
        database = Database(f"sqlite:///{tmp_path}/directory.db")
    else:
        ensure_pg_database(PG_URL)
        database = Database(PG_URL)
    upgrade(database)
    with database.transaction() as session:
        for model in (GridDirectoryImport, GridWorker, GridCell, GridStreet):
            session.execute(delete(model))
    yield database
    database.dispose()


@pytest.fixture(scope="session")
def streets(ruleset: RuleSet) -> dict[str, str]:
    """organisation.yaml's streets: code → name."""
    return {street.code: street.name for street in ruleset.organisation.streets}


@pytest.fixture
def write_csv(tmp_path: Path) -> WriteFile:
    """``write_csv(*rows, name=..., header=HEADER)``: a CSV file of the rows under the header."""

    def write(*rows: str, name: str = "grids.csv", header: str = ",".join(HEADER)) -> Path:
        path = tmp_path / name
        path.write_text("\n".join([header, *rows]) + "\n", encoding="utf-8")
        return path

    return write
