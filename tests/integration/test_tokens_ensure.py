"""Configured tokens made valid by several API processes starting at once against one PostgreSQL."""

from __future__ import annotations

import threading
import time

from sqlalchemy import create_engine, text

from tests.support import PG_URL, ensure_pg_database, reset_pg
from workflows.intake import tokens
from workflows.store.db import Database
from workflows.store.migrate import upgrade
from workflows.time.clock import SystemClock


def test_a_token_created_meanwhile_by_another_process_is_updated_not_a_crash() -> None:
    """Process B creates the token between process A's read (nothing there) and A's INSERT: A's INSERT
    waits on B's unique key, then meets it; A does it again and updates B's row (it used to crash the
    second ``yunshang api``)."""
    ensure_pg_database(PG_URL)
    db = Database(PG_URL)
    upgrade(db)
    reset_pg(PG_URL)
    other = create_engine(PG_URL)
    config = tokens.TokenConfig(name="bench", token="ys_bench_" + "x" * 16, kind="admin", event_types=["*"])
    failures: list[BaseException] = []
    try:
        with other.connect() as conn:
            conn.execute(
                text(
                    "INSERT INTO api_tokens (name, kind, token_hash, prefix, event_types, created_at) "
                    "VALUES ('bench', 'source', 'other', 'other', '[]', now())"
                )
            )  # uncommitted: A does not see it, and A's INSERT waits for it

            def ensure() -> None:
                try:
                    tokens.ensure(db, SystemClock(), [config])
                except BaseException as exc:  # reported below
                    failures.append(exc)

            thread = threading.Thread(target=ensure)
            thread.start()
            time.sleep(0.5)
            conn.commit()
            thread.join(10)
        assert not thread.is_alive()
        assert failures == []
        principal = tokens.verify(db, config.token)
        assert principal is not None and principal.kind == "admin"
    finally:
        other.dispose()
        db.dispose()
