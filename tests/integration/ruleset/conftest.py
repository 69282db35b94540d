"""Fixtures for rules versions, hot reload and recompute: rule folders to edit, runtimes that follow."""

from __future__ import annotations

import shutil
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from dramatiq.brokers.stub import StubBroker

from rules import DEFAULT_DIRECTORY
from tests.support import Stack
from worker import PLUGINS
from workflows.runtime import Runtime, build_runtime

MakeRuntime = Callable[..., Runtime]


def copy_rules(target: Path, *, toy: str = "2h") -> Path:
    """The shipped rule files in ``target``, with the toy flow's review deadline set to ``toy``."""
    target.mkdir(parents=True, exist_ok=True)
    for source in DEFAULT_DIRECTORY.glob("*.yaml"):
        shutil.copy(source, target / source.name)
    return set_toy_deadline(target, toy)


def set_toy_deadline(directory: Path, duration: str) -> Path:
    return replace_line(
        directory, "deadlines.yaml", "      review_deadline:", f"      review_deadline: {duration}"
    )


def replace_line(directory: Path, file: str, start: str, line: str) -> Path:
    """Replace the one line of ``file`` that starts with ``start``."""
    path = directory / file
    lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
    hits = [i for i, text in enumerate(lines) if text.startswith(start)]
    assert len(hits) == 1, f"{start!r} in {file}: {len(hits)} lines"
    lines[hits[0]] = line + "\n"
    path.write_text("".join(lines), encoding="utf-8")
    return directory


@pytest.fixture
def rules_dir(tmp_path: Path) -> Path:
    return copy_rules(tmp_path / "rules")


@pytest.fixture
def runtimes(stack: Stack) -> Iterator[MakeRuntime]:
    """``runtimes(rules_dir, **settings)``: another process's runtime on the stack's database (its own
    ``Database`` and broker), following the rules. Closed at the end of the test."""
    built: list[Runtime] = []

    def make(rules_dir: Path, **overrides: Any) -> Runtime:
        values: dict[str, Any] = {
            "rules_dir": rules_dir,
            "rules_poll_interval": 0.05,
            "sweep_interval": 3600.0,  # only the rules job runs in these tests' schedulers
            "relay_interval": 3600.0,
            **overrides,
        }
        runtime = build_runtime(
            stack.runtime.settings.model_copy(update=values), plugins=PLUGINS, broker=StubBroker()
        )
        built.append(runtime)
        return runtime

    yield make
    for runtime in built:
        runtime.close()
