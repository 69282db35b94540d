"""The Alembic migrations produce exactly the schema the models declare, on SQLite and PostgreSQL."""

from __future__ import annotations

from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect, text

from tests.support import PG_URL, ensure_pg_database
from workflows.store.db import Database
from workflows.store.migrate import upgrade
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
