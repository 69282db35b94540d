"""What every ``yunshang`` command shares: the composer of its runtime, errors, ``--json``."""

from __future__ import annotations

import atexit
import logging
import queue
import signal
import sys
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from logging.handlers import QueueHandler, QueueListener
from typing import Annotated, NoReturn

import typer
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError

from rules import RulesError
from workflows.errors import YunshangError
from workflows.messaging.retry import is_transient
from workflows.plugins import FlowPlugin, Registry
from workflows.runtime import Runtime
from workflows.settings import Settings
from workflows.store.db import Database
from workflows.store.migrate import current_revision

Compose = Callable[..., Runtime]
JsonOpt = Annotated[bool, typer.Option("--json", help="machine-readable output")]

HostOpt = Annotated[
    str | None, typer.Option(help="address the HTTP API listens on (default YUNSHANG_API_HOST, 127.0.0.1)")
]
PortOpt = Annotated[
    int | None, typer.Option(min=1, max=65535, help="port of the HTTP API (default YUNSHANG_API_PORT, 8000)")
]


def listen(host: str | None, port: int | None) -> dict[str, object]:
    """The settings ``--host`` / ``--port`` override (the environment's apply otherwise)."""
    return {k: v for k, v in (("api_host", host), ("api_port", port)) if v is not None}


@dataclass
class Composer:
    """How this CLI composes a runtime (``worker.compose``) and the flow plug-ins it runs."""

    compose: Compose
    plugins: Sequence[FlowPlugin] = ()
    registry: Registry = field(init=False)

    def __post_init__(self) -> None:
        self.registry = Registry(self.plugins)

    def runtime(
        self,
        *,
        serving: bool = False,
        overrides: dict[str, object] | None = None,
        require_schema: bool = False,
    ) -> Runtime:
        """Compose this command's runtime. An embedded-stack command that does not serve leaves its
        outbox rows for the serving process (its in-process broker has no consumer). A command that
        only reads (``require_schema``) refuses a database that was never migrated rather than create
        its schema as a side effect."""
        settings = Settings(**(overrides or {}))  # type: ignore[arg-type]
        configure_logging(settings.log_level)
        if require_schema:
            _require_schema(settings)
        try:
            rt = self.compose(settings, dispatch=serving or not settings.embedded_broker)
        except (YunshangError, RulesError) as exc:
            fail(str(exc))
        except Exception as exc:
            if is_transient(exc):
                fail(unreachable(exc, settings))
            raise
        return rt


def _require_schema(settings: Settings) -> None:
    db = Database(settings.database_url)
    try:
        revision = current_revision(db)
    except Exception as exc:
        if is_transient(exc):
            fail(unreachable(exc, settings))
        raise
    finally:
        db.dispose()
    if revision is None:
        where = make_url(settings.database_url).render_as_string(hide_password=True)
        fail(f"{where} has no yunshang schema (it was never migrated): run `yunshang migrate` first")


def unreachable(exc: BaseException, settings: Settings) -> str:
    """One line for a database (or broker) that does not answer, with the URL minus its password."""
    url = make_url(settings.database_url).render_as_string(hide_password=True)
    cause = exc.orig if isinstance(exc, DBAPIError) and exc.orig is not None else exc
    first = (str(cause).strip().splitlines() or [type(cause).__name__])[0]
    what = "the database" if isinstance(exc, DBAPIError) else "the broker"
    where = url if isinstance(exc, DBAPIError) else settings.broker
    return f"{what} is unreachable ({where}): {first}"


LOG_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"


def configure_logging(level: str, fmt: str = LOG_FORMAT) -> None:
    """Log to stderr at ``level`` (``YUNSHANG_LOG_LEVEL``); chatty libraries at WARNING or above.

    A log call only puts the record on an in-memory queue; one thread writes the queue to stderr.
    So a thread inside a database transaction never blocks on a write to a pipe nobody reads (a
    wedged log collector, a dead parent): its transaction, and the locks it holds, end on time.
    Nothing is changed when the root logger has handlers already (as ``logging.basicConfig``)."""
    root = logging.getLogger()
    root.setLevel(level.upper())
    if not root.handlers:
        records: queue.SimpleQueue[logging.LogRecord] = queue.SimpleQueue()
        out = logging.StreamHandler(sys.stderr)
        out.setFormatter(logging.Formatter(fmt))
        listener = QueueListener(records, out, respect_handler_level=True)
        listener.start()
        atexit.register(listener.stop)  # what is queued is written before the process exits
        root.addHandler(QueueHandler(records))
    for noisy in ("apscheduler", "alembic", "transitions"):
        logging.getLogger(noisy).setLevel(max(logging.WARNING, logging.getLogger().level))


def fail(message: str) -> NoReturn:
    typer.secho(f"error: {message}", fg=typer.colors.RED, err=True)
    raise typer.Exit(code=1)


def composer(ctx: typer.Context) -> Composer:
    found: Composer = ctx.find_root().obj
    return found


def runtime(ctx: typer.Context, *, serving: bool = False, require_schema: bool = False) -> Runtime:
    """The command's runtime, closed when the command ends (its connections released)."""
    rt = composer(ctx).runtime(serving=serving, require_schema=require_schema)
    ctx.call_on_close(rt.close)
    return rt


def wait_for_signal() -> None:
    done = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: done.set())
    while not done.wait(1.0):
        pass
