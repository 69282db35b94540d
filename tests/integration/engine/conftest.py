"""The engine suite runs on every stack: embedded, PostgreSQL + Redis and PostgreSQL + RabbitMQ."""

from __future__ import annotations

import pytest

from tests.support import ENGINE_STACKS


@pytest.fixture(params=ENGINE_STACKS)
def stack_kind(request: pytest.FixtureRequest) -> str:
    """``embedded``, ``production`` (PostgreSQL + Redis) or ``rabbitmq`` (PostgreSQL + RabbitMQ);
    overrides the two-stack fixture of ``tests/conftest.py`` here (``stack`` uses it too)."""
    return str(request.param)
