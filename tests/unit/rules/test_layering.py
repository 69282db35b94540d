"""The rules package imports only the standard library, pydantic and PyYAML."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]
FORBIDDEN = (
    "sqlalchemy",
    "dramatiq",
    "fastapi",
    "typer",
    "apscheduler",
    "redis",
    "pika",
    "workflows",
    "actors",
)


def test_rules_imports_nothing_of_the_engine() -> None:
    code = (
        "import sys, rules, rules.loader, rules.matching, rules.diff\n"
        f"bad = sorted(m for m in sys.modules if m.split('.')[0] in {FORBIDDEN!r})\n"
        "print(','.join(bad))\n"
    )
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True)
    assert done.stdout.strip() == ""


def test_no_source_file_names_a_forbidden_package() -> None:
    for source in (ROOT / "rules").rglob("*.py"):
        for line in source.read_text(encoding="utf-8").splitlines():
            if line.startswith(("import ", "from ")):
                assert line.split()[1].split(".")[0] not in FORBIDDEN, f"{source}: {line}"
