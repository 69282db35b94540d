"""Fixtures for the rules tests: the shipped rule set, and copies of it to break."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path

import pytest

from rules import DEFAULT_DIRECTORY, RuleSet, load_rules

BROKEN = Path(__file__).parent / "broken"


def copy_defaults(target: Path) -> Path:
    """A copy of the shipped rule files (YAML only) in ``target``."""
    target.mkdir(parents=True, exist_ok=True)
    for source in DEFAULT_DIRECTORY.glob("*.yaml"):
        shutil.copy(source, target / source.name)
    return target


def layered(case: str, target: Path) -> Path:
    """The defaults with the files of ``broken/<case>/`` laid over them (and ``remove.txt`` removed)."""
    copy_defaults(target)
    case_dir = BROKEN / case
    for source in case_dir.glob("*.yaml"):
        shutil.copy(source, target / source.name)
    removals = case_dir / "remove.txt"
    if removals.exists():
        for name in removals.read_text().split():
            (target / name).unlink()
    return target


@pytest.fixture(scope="session")
def defaults() -> RuleSet:
    return load_rules(DEFAULT_DIRECTORY)


@pytest.fixture
def rules_copy(tmp_path: Path) -> Path:
    return copy_defaults(tmp_path / "rules")


@pytest.fixture
def edit(rules_copy: Path) -> Callable[[str, str, str], Path]:
    """``edit(file, old, new)`` replaces text once in the copy and returns the directory."""

    def apply(file: str, old: str, new: str) -> Path:
        path = rules_copy / file
        text = path.read_text(encoding="utf-8")
        assert old in text, f"{old!r} not in {file}"
        path.write_text(text.replace(old, new, 1), encoding="utf-8")
        return rules_copy

    return apply
