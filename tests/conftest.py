"""Fixtures every tier shares: the stack kind (each stack test runs on both stacks) and a toy stack."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from rules import RuleSet, load_rules
from tests.support import STACKS, Stack, running_stack
from workflows.settings import RULES_DIR


@pytest.fixture(params=STACKS)
def stack_kind(request: pytest.FixtureRequest) -> str:
    """``embedded`` (SQLite + in-process worker) or ``production`` (PostgreSQL + Redis)."""
    return str(request.param)


@pytest.fixture
def stack(stack_kind: str, tmp_path: Path) -> Iterator[Stack]:
    with running_stack(stack_kind, tmp_path) as s:
        yield s


@pytest.fixture(scope="session")
def ruleset() -> RuleSet:
    """The district's default rule set (``rules/``)."""
    return load_rules(RULES_DIR)
