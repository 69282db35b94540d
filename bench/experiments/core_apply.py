"""The prototype once measured here as ``--experiment core`` (a Core-statement hot path for
``Engine.apply``, no pool pre-ping, no timer cancel for states without timers) has been ADOPTED into
``workflows/engine.py``; its results before adoption stay in ``results/engine_bench_core.json``.
``install`` now changes nothing, so ``--experiment core`` measures the shipped engine.
"""

from __future__ import annotations

from typing import Any

import dramatiq

from bench.noop import declare_noop
from workflows.runtime import Runtime


def install(runtime: Runtime) -> Runtime:
    """Nothing left to install: the engine ships the prototype's path."""
    return runtime


_runtime: Runtime | None = None


def _worker_runtime() -> Runtime:
    global _runtime
    if _runtime is None:
        try:
            import worker

            runtime = worker.runtime()
        except Exception:  # no rule deadlines for the toy flow: the bench composition
            from bench import workers

            runtime = workers.runtime()
        declare_noop(runtime.broker)
        dramatiq.set_broker(runtime.broker)
        _runtime = install(runtime)
    return _runtime


def __getattr__(name: str) -> Any:
    """``python -m dramatiq bench.experiments.core_apply:broker``: worker processes with the prototype."""
    if name == "broker":
        return _worker_runtime().broker
    raise AttributeError(name)
