"""Schema management through Alembic (``migrations/``)."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory

from workflows.store.db import Database

MIGRATIONS = Path(__file__).resolve().parents[2] / "migrations"


def alembic_config(url: str) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return config


def upgrade(db: Database) -> None:
    """Bring the schema to the newest revision (idempotent, safe from several processes on PostgreSQL)."""
    config = alembic_config(db.url)
    with db.engine.begin() as connection:
        if db.is_postgres:
            # one migrator at a time across processes
            connection.exec_driver_sql("SELECT pg_advisory_xact_lock(7340211)")
            # a migration may rewrite a large table: no statement timeout for it
            connection.exec_driver_sql("SET LOCAL statement_timeout = 0")
        config.attributes["connection"] = connection
        command.upgrade(config, "head")


def current_revision(db: Database) -> str | None:
    """The revision the database's schema is at; None when it was never migrated."""
    with db.engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()


def head_revision(db: Database) -> str:
    """The newest revision of ``migrations/``."""
    head = ScriptDirectory.from_config(alembic_config(db.url)).get_current_head()
    assert head is not None
    return head
