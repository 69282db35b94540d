"""Alembic environment: the URL comes from the caller (``workflows.store.migrate``) or
YUNSHANG_DATABASE_URL."""

from __future__ import annotations

from alembic import context
from sqlalchemy import create_engine

from workflows.settings import Settings
from workflows.store.models import Base

config = context.config
url = config.get_main_option("sqlalchemy.url") or Settings().database_url


def run() -> None:
    connectable = config.attributes.get("connection")
    if connectable is not None:
        context.configure(connection=connectable, target_metadata=Base.metadata, render_as_batch=True)
        with context.begin_transaction():
            context.run_migrations()
        return
    engine = create_engine(url)
    with engine.connect() as connection:
        context.configure(connection=connection, target_metadata=Base.metadata, render_as_batch=True)
        with context.begin_transaction():
            context.run_migrations()
    engine.dispose()


if context.is_offline_mode():
    context.configure(url=url, target_metadata=Base.metadata, literal_binds=True)
    with context.begin_transaction():
        context.run_migrations()
else:
    run()
