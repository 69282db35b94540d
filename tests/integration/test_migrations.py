"""The Alembic migrations produce exactly the schema the models declare, on SQLite and PostgreSQL."""

from __future__ import annotations

from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect, text
from typer.testing import CliRunner

import workflows.flows.joint_inspection.directory_models  # noqa: F401  (no plug-in imports them yet)
from tests.support import PG_URL, ensure_pg_database
from worker import PLUGINS, compose
from workflows.cli.app import build_app
from workflows.store.db import Database
from workflows.store.migrate import current_revision, head_revision, upgrade
from workflows.store.models import Base


def _fresh_pg() -> Database:
    ensure_pg_database(PG_URL)
    db = Database(PG_URL)
    with db.engine.begin() as conn:
        conn.execute(text("DROP SCHEMA public CASCADE"))
        conn.execute(text("CREATE SCHEMA public"))
    return db


@pytest.mark.parametrize("kind", ["sqlite", pytest.param("postgresql", marks=pytest.mark.production)])
def test_migrations_match_the_models(kind: str, tmp_path: Path) -> None:
    db = Database(f"sqlite:///{tmp_path}/m.db") if kind == "sqlite" else _fresh_pg()
    try:
        upgrade(db)
        upgrade(db)  # idempotent
        with db.engine.connect() as conn:
            diff = compare_metadata(MigrationContext.configure(conn), Base.metadata)
            tables = set(inspect(conn).get_table_names())
        assert diff == []
        assert {t.name for t in Base.metadata.sorted_tables} <= tables
    finally:
        db.dispose()


def test_migrate_names_the_revisions_and_status_refuses_a_database_never_migrated(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path}/new.db"
    runner, app = CliRunner(), build_app(compose, PLUGINS)
    env = {"YUNSHANG_DATABASE_URL": url}
    refused = runner.invoke(app, ["status"], env=env)
    assert refused.exit_code == 1
    assert (
        f"{url} has no yunshang schema (it was never migrated): run `yunshang migrate` first"
        in refused.output
    )
    db = Database(url)
    try:
        assert current_revision(db) is None  # status created nothing
        head = head_revision(db)
        first = runner.invoke(app, ["migrate"], env=env)
        assert (
            first.output.strip()
            == f"schema migrated from nothing (a new database) to revision {head} in {url}"
        )
        assert current_revision(db) == head
        again = runner.invoke(app, ["migrate"], env=env)
        assert again.output.strip() == f"schema already at revision {head} (the newest) in {url}"
    finally:
        db.dispose()
    assert runner.invoke(app, ["status"], env=env).exit_code == 0
