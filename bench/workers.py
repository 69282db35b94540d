"""A Dramatiq worker entry point for benchmarks: ``python -m dramatiq bench.workers:broker``.

The same composition as ``worker.py`` (settings from ``YUNSHANG_*`` environment variables, every actor
declared) with two differences: deadlines come from a static table (``StaticDeadlines``) instead of the
rule files, and the no-op benchmark actor is declared too. The engine bench uses it when ``worker.py``
cannot build its runtime (no rule-based deadlines for the toy flow yet).
"""

from __future__ import annotations

from typing import Any

import dramatiq

from bench.noop import declare_noop
from workflows.engine.deadlines import StaticDeadlines
from workflows.runtime import Runtime
from workflows.settings import Settings

TOY_DEADLINES = {"toy.awaiting_review.review_deadline": "2h"}

_runtime: Runtime | None = None


def runtime() -> Runtime:
    global _runtime
    if _runtime is None:
        from worker import compose

        _runtime = compose(Settings(), deadlines=StaticDeadlines(TOY_DEADLINES, version="bench"))
        declare_noop(_runtime.broker)
        dramatiq.set_broker(_runtime.broker)
    return _runtime


def __getattr__(name: str) -> Any:
    if name == "broker":
        return runtime().broker
    raise AttributeError(name)
