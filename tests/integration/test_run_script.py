"""``scripts/run status`` after the demo reads the demo's database (a new user's tenth stumble)."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

from tests.support import running_stack

ROOT = Path(__file__).resolve().parents[2]


def test_a_reading_command_reads_the_demos_database(tmp_path: Path) -> None:
    var = tmp_path / "var"
    var.mkdir()
    with running_stack("embedded", tmp_path, database_url=f"sqlite:///{var}/demo.db") as stack:
        stack.start_toy("from-the-demo")
        stack.settle()
    env = {k: v for k, v in os.environ.items() if not k.startswith("YUNSHANG_")}
    env["YUNSHANG_VAR"] = str(var)
    done = subprocess.run(
        [str(ROOT / "scripts/run"), "status"], env=env, capture_output=True, text=True, timeout=300
    )
    assert done.returncode == 0, done.stderr
    assert f"reading the demo's database {var}/demo.db" in done.stderr
    assert "toy:" in done.stdout and "awaiting_review" in done.stdout
    elsewhere = {**env, "YUNSHANG_DATABASE_URL": f"sqlite:///{tmp_path}/other.db"}
    other = subprocess.run(
        [str(ROOT / "scripts/run"), "status"], env=elsewhere, capture_output=True, text=True
    )
    assert "reading the demo's database" not in other.stderr  # the URL given wins
