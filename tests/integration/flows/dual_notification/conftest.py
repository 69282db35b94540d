"""Stacks for the dual-notification tests: the default rule set's deadlines, the deliveries actor."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

from tests.support import Stack, running_stack
from workflows.ruleset.adapter import RuleDeadlines
from workflows.settings import RULES_DIR


@contextmanager
def notice_stack(kind: str, tmp_path: Path, **overrides: Any) -> Iterator[Stack]:
    """``tests.support.running_stack`` with the default rules' deadlines (``deliveries.push`` is among
    the actors ``worker.compose`` declares)."""
    with running_stack(kind, tmp_path, deadlines=RuleDeadlines.load(RULES_DIR), **overrides) as stack:
        yield stack


@pytest.fixture
def nstack(stack_kind: str, tmp_path: Path) -> Iterator[Stack]:
    with notice_stack(stack_kind, tmp_path) as s:
        yield s
