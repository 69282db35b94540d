"""The joint inspection directories' tests: their tables (the plug-in imports them into the engine;
here they are imported directly), a database on each stack with both directories empty, small files
to read, and the synthetic district written once per session."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from sqlalchemy import delete

from rules import RuleSet
from tests.support import PG_URL, ensure_pg_database
from workflows.flows.joint_inspection.directory_models import (
    InspectionDirectoryImport,
    InspectionObject,
    InspectionOfficer,
)
from workflows.flows.joint_inspection.directory_parse import (
    OBJECTS_HEADER,
    OFFICERS_HEADER,
    ObjectsDirectory,
    OfficersDirectory,
    parse_objects,
    parse_officers,
)
from workflows.flows.joint_inspection.directory_synthetic import (
    write_synthetic_objects,
    write_synthetic_officers,
)
from workflows.store.db import Database
from workflows.store.migrate import upgrade

WriteFile = Callable[..., Path]


@pytest.fixture
def db(stack_kind: str, tmp_path: Path) -> Iterator[Database]:
    """The migrated database of the stack (SQLite file, or PostgreSQL) with empty directories."""
    if stack_kind == "embedded":
        database = Database(f"sqlite:///{tmp_path}/inspection.db")
    else:
        ensure_pg_database(PG_URL)
        database = Database(PG_URL)
    upgrade(database)
    with database.transaction() as session:
        for model in (InspectionDirectoryImport, InspectionObject, InspectionOfficer):
            session.execute(delete(model))
    yield database
    database.dispose()


@pytest.fixture(scope="session")
def risk_classes(ruleset: RuleSet) -> set[str]:
    """sampling.yaml's risk classes."""
    return {risk.code for risk in ruleset.sampling.risk_classes}


@pytest.fixture(scope="session")
def streets(ruleset: RuleSet) -> set[str]:
    """organisation.yaml's street codes."""
    return {street.code for street in ruleset.organisation.streets}


@pytest.fixture(scope="session")
def results(ruleset: RuleSet) -> list[str]:
    """sampling.yaml's result codes."""
    return [result.code for result in ruleset.sampling.results]


@pytest.fixture(scope="session")
def departments(ruleset: RuleSet) -> set[str]:
    """organisation.yaml's department codes."""
    return {department.code for department in ruleset.organisation.departments}


def _writer(tmp_path: Path, name: str, header: tuple[str, ...]) -> WriteFile:
    def write(*rows: str, name: str = name, header: str = ",".join(header)) -> Path:
        path = tmp_path / name
        path.write_text("\n".join([header, *rows]) + "\n", encoding="utf-8")
        return path

    return write


@pytest.fixture
def write_objects(tmp_path: Path) -> WriteFile:
    """``write_objects(*rows, name=..., header=...)``: an objects file of the rows under the header."""
    return _writer(tmp_path, "objects.csv", OBJECTS_HEADER)


@pytest.fixture
def write_officers(tmp_path: Path) -> WriteFile:
    """``write_officers(*rows, name=..., header=...)``: an officers file of the rows under the header."""
    return _writer(tmp_path, "officers.csv", OFFICERS_HEADER)


@pytest.fixture(scope="session")
def synthetic_files(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """The synthetic district's objects (75,000) and officers (800) files, written once."""
    folder = tmp_path_factory.mktemp("synthetic")
    objects, officers = folder / "objects.csv", folder / "officers.csv"
    write_synthetic_objects(objects)
    write_synthetic_officers(officers)
    return objects, officers


@pytest.fixture(scope="session")
def synthetic(
    synthetic_files: tuple[Path, Path],
    risk_classes: set[str],
    streets: set[str],
    results: list[str],
    departments: set[str],
) -> tuple[ObjectsDirectory, OfficersDirectory]:
    """The synthetic district's directories, parsed once."""
    objects, officers = synthetic_files
    return parse_objects(objects, risk_classes, streets, results), parse_officers(officers, departments)
