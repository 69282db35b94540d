"""Stacks for the dual-notification tests: the default rule set's deadlines, the deliveries actor."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import dramatiq
import pytest
from dramatiq.brokers.redis import RedisBroker

import actors
from actors.deliveries import declare_deliveries
from rules import RuleSet, load_rules
from tests.support import PG_URL, Stack, ensure_pg_database, reset_pg, settings_for
from workflows.rules_adapter import RuleDeadlines
from workflows.runtime import Runtime, build_runtime
from workflows.services import EmbeddedStack
from workflows.settings import RULES_DIR

STACKS = ["embedded", pytest.param("production", marks=pytest.mark.production)]


def declare_all(runtime: Runtime) -> None:
    actors.declare(runtime)
    declare_deliveries(runtime)


@contextmanager
def notice_stack(kind: str, tmp_path: Path, **overrides: Any) -> Iterator[Stack]:
    """``tests.support.running_stack`` with the default rules' deadlines and ``deliveries.push``."""
    settings = settings_for(kind, tmp_path, **overrides)
    if kind == "production":
        ensure_pg_database(PG_URL)
    runtime = build_runtime(settings, deadlines=RuleDeadlines.load(RULES_DIR), declare=declare_all)
    if kind == "production":
        reset_pg(PG_URL)
        assert isinstance(runtime.broker, RedisBroker)
        runtime.broker.client.flushdb()
    if kind == "embedded":
        embedded = EmbeddedStack(runtime, threads=4)
        embedded.worker.start()
        stack = Stack(kind, runtime, embedded.worker, embedded)
    else:
        worker = dramatiq.Worker(runtime.broker, worker_threads=4, worker_timeout=100)
        worker.start()
        stack = Stack(kind, runtime, worker)
    try:
        yield stack
    finally:
        stack.worker.stop()
        runtime.close()


@pytest.fixture(params=STACKS)
def stack_kind(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def nstack(stack_kind: str, tmp_path: Path) -> Iterator[Stack]:
    with notice_stack(stack_kind, tmp_path) as s:
        yield s


@pytest.fixture(scope="session")
def ruleset() -> RuleSet:
    return load_rules(RULES_DIR)
