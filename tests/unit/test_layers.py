"""Dependencies point one way: state_machines and rules import no I/O libraries; workflows never
imports actors; nothing creates a broker or settings at import time."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
IO_LIBS = {"sqlalchemy", "redis", "pika", "dramatiq", "apscheduler", "fastapi", "psycopg", "alembic", "typer"}


def imports(package: str) -> dict[str, set[str]]:
    found: dict[str, set[str]] = {}
    for path in sorted((ROOT / package).rglob("*.py")):
        names: set[str] = set()
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                names.update(alias.name.split(".")[0] for alias in node.names)
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                names.add(node.module.split(".")[0])
        found[str(path.relative_to(ROOT))] = names
    return found


@pytest.mark.parametrize(
    ("package", "forbidden"),
    [
        ("state_machines", IO_LIBS | {"workflows", "actors", "rules", "worker"}),
        ("rules", IO_LIBS | {"workflows", "actors", "state_machines", "worker"}),
        ("workflows", {"actors", "worker"}),
        ("actors", {"worker"}),
    ],
)
def test_layers(package: str, forbidden: set[str]) -> None:
    offenders = {f: sorted(n & forbidden) for f, n in imports(package).items() if n & forbidden}
    assert offenders == {}
    assert imports(package), f"no modules found under {package}/"


def test_no_broker_or_settings_at_import_time() -> None:
    calls = ("RedisBroker(", "RabbitmqBroker(", "StubBroker(", "Settings(", "set_broker(")
    offenders = []
    for package in ("state_machines", "rules", "workflows", "actors"):
        for path in (ROOT / package).rglob("*.py"):
            tree = ast.parse(path.read_text(encoding="utf-8"))
            for node in tree.body:  # module level statements only
                if isinstance(node, ast.Assign | ast.Expr | ast.AnnAssign):
                    src = ast.get_source_segment(path.read_text(encoding="utf-8"), node) or ""
                    offenders += [f"{path.name}: {src}" for c in calls if c in src]
    assert offenders == []
