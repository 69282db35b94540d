"""The no-op Dramatiq actor every engine benchmark measures the engine against.

``declare_noop(broker)`` registers it on a broker; importing :mod:`bench.noop_actor` registers it on
the process's global broker (for ``python worker.py bench.noop_actor ...``).
"""

from __future__ import annotations

from typing import Any

import dramatiq

NOOP_ACTOR = "bench.noop"
NOOP_QUEUE = "bench_noop"


def _noop(*args: Any, **kwargs: Any) -> None:
    """Does nothing: the cost of a Dramatiq message on this broker and worker, and nothing else."""


def declare_noop(broker: dramatiq.Broker) -> None:
    if NOOP_ACTOR in broker.actors:
        return
    dramatiq.Actor(_noop, broker=broker, actor_name=NOOP_ACTOR, queue_name=NOOP_QUEUE, priority=0, options={})


def noop_message() -> dramatiq.Message[Any]:
    return dramatiq.Message(queue_name=NOOP_QUEUE, actor_name=NOOP_ACTOR, args=(), kwargs={}, options={})
