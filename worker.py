"""Composition root and worker entry point.

``PLUGINS`` lists the business flows this engine runs, one flow plug-in each (``workflows/flows/``):
adding a flow is one line here. ``python worker.py [--processes N] [--threads M]`` runs Dramatiq
worker processes — the same as ``dramatiq worker:broker``. Each worker process imports this module and
asks for ``broker``, which wires settings → database → broker → engine and declares the actors
(lazily: importing this module for the ``yunshang`` CLI builds nothing).
"""

from __future__ import annotations

import os
import sys

# Dramatiq's idle consumer backs off up to this many ms between polls (default 1,000): a lone message
# would wait that long. Set before dramatiq is imported; an explicit environment value wins.
os.environ.setdefault("dramatiq_worker_timeout", "100")
from typing import Any

import dramatiq

import actors
from workflows.cli.app import make_app
from workflows.flows import dual_notification, toy
from workflows.plugins import FlowPlugin
from workflows.runtime import Runtime, build_runtime
from workflows.settings import Settings

#: the flows this engine runs; a plug-in left out of this list is not run, not routed, not served
PLUGINS: tuple[FlowPlugin, ...] = (toy.PLUGIN, dual_notification.PLUGIN)

_runtime: Runtime | None = None


def compose(settings: Settings, **kwargs: Any) -> Runtime:
    """Build a runtime of ``PLUGINS`` (unless ``plugins=`` says otherwise) with every actor declared."""
    kwargs.setdefault("plugins", PLUGINS)
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


def run_workers(argv: list[str]) -> int:
    """Start Dramatiq worker processes for this module's broker."""
    from dramatiq.cli import main as dramatiq_main
    from dramatiq.cli import make_argument_parser

    args = make_argument_parser().parse_args(["worker:broker", *argv])  # type: ignore[no-untyped-call]
    return int(dramatiq_main(args) or 0)  # type: ignore[no-untyped-call]


if __name__ == "__main__":
    sys.exit(run_workers(sys.argv[1:]))
