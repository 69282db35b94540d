"""Composition root and worker entry point.

``PLUGINS`` lists the business flows this engine runs, one flow plug-in each (``workflows/flows/``):
adding a flow is one line here. ``python worker.py [MODULE ...] [--processes N] [--threads M]
[--queues Q ...]`` runs a supervisor (``workflows/workers/supervisor.py``) that keeps N Dramatiq worker
processes running: each is this script again with ``--child``, which asks for ``broker`` — that wires
settings → database → broker → engine and declares the actors (lazily: importing this module for the
``yunshang`` CLI builds nothing) — imports the extra MODULEs and consumes until SIGTERM.
"""

from __future__ import annotations

import argparse
import importlib
import logging
import os
import sys

# Dramatiq's idle consumer backs off up to this many ms between polls (default 1,000): a lone message
# would wait that long. Set before dramatiq is imported; an explicit environment value wins.
os.environ.setdefault("dramatiq_worker_timeout", "100")
from typing import Any

import dramatiq

import actors
from workflows.cli.app import make_app
from workflows.cli.common import configure_logging
from workflows.errors import BadInput
from workflows.flows import dual_notification, grid_check, joint_inspection, toy
from workflows.plugins import FlowPlugin
from workflows.runtime import Runtime, build_runtime
from workflows.settings import Settings
from workflows.workers import child
from workflows.workers.supervisor import Supervisor

#: the flows this engine runs; a plug-in left out of this list is not run, not routed, not served
PLUGINS: tuple[FlowPlugin, ...] = (
    toy.PLUGIN,
    dual_notification.PLUGIN,
    grid_check.PLUGIN,
    joint_inspection.PLUGIN,
)

_runtime: Runtime | None = None


def deployed(settings: Settings) -> tuple[FlowPlugin, ...]:
    """The plug-ins of ``PLUGINS`` that ``YUNSHANG_FLOWS`` names, in ``PLUGINS``' order (all when it is
    unset). A name that is no plug-in is an error naming it and the known ones."""
    wanted = settings.flow_names
    if not wanted:
        return PLUGINS
    known = {plugin.name: plugin for plugin in PLUGINS}
    unknown = [name for name in wanted if name not in known]
    if unknown:
        raise BadInput(f"YUNSHANG_FLOWS: no flow plug-in {unknown[0]!r}; known: {', '.join(known)}")
    return tuple(plugin for plugin in PLUGINS if plugin.name in wanted)


def compose(settings: Settings, **kwargs: Any) -> Runtime:
    """Build a runtime of the deployed plug-ins (``deployed``; unless ``plugins=`` says otherwise) with
    every actor declared."""
    kwargs.setdefault("plugins", deployed(settings))
    return build_runtime(settings, declare=actors.declare, **kwargs)


def runtime() -> Runtime:
    """This process's runtime, built on first use from the environment's settings."""
    global _runtime
    if _runtime is None:
        _runtime = compose(Settings())
        dramatiq.set_broker(_runtime.broker)
    return _runtime


def __getattr__(name: str) -> Any:
    if name == "broker":  # asked for by the Dramatiq CLI in each worker process
        return runtime().broker
    raise AttributeError(name)


def main() -> None:
    """The ``yunshang`` console script."""
    make_app(compose, PLUGINS)()


WORKER_LOG_FORMAT = "%(asctime)s %(levelname)s [%(process)d] %(name)s: %(message)s"
log = logging.getLogger("yunshang.workers")


def _positive(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, not {value}")
    return value


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="worker.py", description="Run the engine's Dramatiq workers.")
    parser.add_argument("modules", nargs="*", help="extra modules each worker imports (more actors)")
    parser.add_argument(
        "-p", "--processes", type=_positive, default=os.cpu_count() or 1, help="worker processes"
    )
    parser.add_argument(
        "-t", "--threads", type=_positive, default=None, help="threads per process (YUNSHANG_WORKER_THREADS)"
    )
    parser.add_argument(
        "-Q", "--queues", nargs="+", action="extend", default=None, help="consume only these queues"
    )
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--parent", type=int, default=None, help=argparse.SUPPRESS)
    return parser


def run_workers(argv: list[str]) -> int:
    """Supervise ``--processes`` worker processes until SIGTERM/SIGINT (or, with ``--child``, be one)."""
    args = _parser().parse_args(argv)
    settings = Settings()
    configure_logging(settings.log_level, WORKER_LOG_FORMAT)
    # start, exit and replacement lines show at any level, like Dramatiq's own
    log.setLevel(min(logging.INFO, logging.getLogger().getEffectiveLevel()))
    if args.child:
        return _run_child(args)
    if settings.embedded_broker:
        log.error(
            "worker.py runs the production stack's workers: set YUNSHANG_BROKER=redis://…; "
            "the embedded stack runs its worker inside `yunshang serve`"
        )
        return 2
    threads = args.threads or settings.worker_threads
    command = [sys.executable, os.path.abspath(__file__), *args.modules, "--child"]
    command += ["--parent", str(os.getpid()), "--threads", str(threads)]
    command += ["--queues", *args.queues] if args.queues else []
    return Supervisor(command, args.processes).run()


def _run_child(args: argparse.Namespace) -> int:
    if args.parent is not None:
        child.die_with_parent(args.parent)
    if args.threads:  # the database pool is sized by the setting
        os.environ["YUNSHANG_WORKER_THREADS"] = str(args.threads)
    try:
        rt = runtime()
        for module in args.modules:
            importlib.import_module(module)
    except Exception:
        log.exception("worker %d could not start", os.getpid())
        return 3
    return child.serve(
        rt.broker,
        threads=rt.settings.worker_threads,
        queues=set(args.queues) if args.queues else None,
        worker_timeout=int(os.environ["dramatiq_worker_timeout"]),
        close=rt.close,
    )


if __name__ == "__main__":
    sys.exit(run_workers(sys.argv[1:]))
