"""Database access: one engine per process, transactions that lock what they change.

SQLite (embedded stack) runs in WAL mode and opens every transaction with ``BEGIN IMMEDIATE`` so
writers serialise instead of failing on lock upgrades; PostgreSQL uses row locks (``FOR UPDATE``).
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager, nullcontext
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker

from workflows.store.dialect import Statements
from workflows.store.jsontext import utf8_json
from workflows.store.postgres import Postgres
from workflows.store.sqlite import Sqlite


class Database:
    """Owns the SQLAlchemy engine and hands out transactional sessions."""

    def __init__(
        self,
        url: str,
        *,
        pool_size: int = 10,
        lock_timeout: float = 30.0,
        statement_timeout: float = 60.0,
        idle_in_transaction_timeout: float = 60.0,
        echo: bool = False,
    ) -> None:
        self.url = url
        parsed = make_url(url)
        self.dialect = parsed.get_backend_name()
        #: the hot path's statements for this dialect, chosen once here
        self.statements: Statements = Sqlite() if self.is_sqlite else Postgres()
        kwargs: dict[str, Any] = {"echo": echo, "future": True}
        if self.is_sqlite:
            database = parsed.database or ""
            if database and database != ":memory:":
                Path(database).parent.mkdir(parents=True, exist_ok=True)
            kwargs["connect_args"] = {"timeout": lock_timeout, "check_same_thread": False}
        else:
            # a lock held longer than this fails the transaction (retried as a transient error); a
            # runaway statement is cancelled; a session that sits inside a transaction (its process
            # stopped or wedged) is ended by the server, so its locks cannot wedge everyone else
            timeouts = {
                "lock_timeout": lock_timeout,
                "statement_timeout": statement_timeout,
                "idle_in_transaction_session_timeout": idle_in_transaction_timeout,
            }
            options = " ".join(f"-c {name}={int(seconds * 1000)}" for name, seconds in timeouts.items())
            kwargs["connect_args"] = {"options": options, "connect_timeout": 5}
            # no pre-ping: a dead pooled connection fails its transaction, which is retried as transient
            kwargs.update(pool_size=pool_size, max_overflow=pool_size, pool_pre_ping=False)
        # JSON as UTF-8 text, not \uXXXX escapes: a Chinese context is half the bytes to send, store
        # and parse (the facets' generated columns parse it on every write)
        self.engine: Engine = create_engine(url, json_serializer=utf8_json, **kwargs)
        if self.is_sqlite:
            _configure_sqlite(self.engine, lock_timeout)

        self._sessions = sessionmaker(self.engine, expire_on_commit=False)
        self._write_lock: AbstractContextManager[Any] = threading.RLock() if self.is_sqlite else nullcontext()
        self._lock_timeout = lock_timeout
        self._timeouts = (statement_timeout, idle_in_transaction_timeout)
        self._side: Database | None = None
        self._side_lock = threading.Lock()

    @property
    def is_sqlite(self) -> bool:
        return self.dialect == "sqlite"

    @property
    def is_postgres(self) -> bool:
        return self.dialect == "postgresql"

    @contextmanager
    def transaction(self) -> Iterator[Session]:
        """One transaction: committed when the block ends, rolled back if it raises.

        On SQLite the writers of this process queue on a lock first: SQLite's own busy handler backs
        off in sleeps of up to 100 ms, which would dominate every hand-over between worker threads.
        """
        with self._write_lock, self._sessions() as session, session.begin():
            yield session

    @contextmanager
    def read(self) -> Iterator[Session]:
        """A read-only transaction. On SQLite it is a deferred ``BEGIN``: it never waits for writers
        (WAL) and never holds the write lock, so it is safe inside another thread's or this thread's
        write transaction."""
        with self.engine.connect() as connection:
            connection = connection.execution_options(yunshang_read_only=True)
            with Session(bind=connection, expire_on_commit=False) as session, session.begin():
                yield session

    def session(self) -> Session:
        return self._sessions()

    def side(self) -> Database:
        """A second, one-connection database handle for small reads made *inside* other work (the
        simulated clock's offset): with the main pool exhausted by transactions that wait on a lock
        the reader holds, a read from that pool would wait for them, and they for it."""
        if self.engine.url.database in (None, "", ":memory:"):
            return self  # an in-memory database exists on its connections only
        with self._side_lock:
            if self._side is None:
                self._side = Database(
                    self.url,
                    pool_size=1,
                    lock_timeout=self._lock_timeout,
                    statement_timeout=self._timeouts[0],
                    idle_in_transaction_timeout=self._timeouts[1],
                )
            return self._side

    def dispose(self) -> None:
        if self._side is not None:
            self._side.dispose()
        self.engine.dispose()


def _configure_sqlite(engine: Engine, lock_timeout: float) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: sqlite3.Connection, _record: object) -> None:
        # Let SQLAlchemy, not pysqlite, decide where transactions begin.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute(f"PRAGMA busy_timeout={int(lock_timeout * 1000)}")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Any) -> None:
        read_only = connection.get_execution_options().get("yunshang_read_only", False)
        connection.exec_driver_sql("BEGIN" if read_only else "BEGIN IMMEDIATE")
