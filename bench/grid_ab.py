"""A/B of the grid first check's throughput: two source trees run in turn (A B / B A / …) at N tasks.

Each run is ``python -m bench.grid_check --phases throughput`` with cwd and ``PYTHONPATH`` = the tree
(e.g. ``git archive <commit> | tar -x -C /tmp/a``, so that editing a work tree during the A/B changes
nothing), its own database and Redis db; a run that fails (e.g. a stack not healthy) is retried once.
The figure to compare is own CPU ms per task (push and ack + check), robust to the machine's other load;
each row keeps the load average before it and the other load the bench measured.

    .venv/bin/python -m bench.grid_ab --a /tmp/a --b /tmp/b --rounds 3 --tasks 20000 --out /tmp/ab.json
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any


def run(tree: Path, label: str, round_: int, args: argparse.Namespace) -> dict[str, Any]:
    result = Path(args.out).with_suffix(f".{label}{round_}.json")
    load = Path("/proc/loadavg").read_text().split()[:3]
    command = [
        sys.executable, "-m", "bench.grid_check", "--tasks", str(args.tasks), "--phases", "throughput",
        "--apis", str(args.apis), "--clients", str(args.clients), "--database", args.database,
        "--redis-db", str(args.redis_db), "--port", str(args.port), "--out", str(result),
        *(["--pg-url", args.pg_url] if args.pg_url else []),
        *(["--redis-url", args.redis_url] if args.redis_url else []),
    ]  # fmt: skip
    started = time.gmtime()
    done = subprocess.run(
        command, cwd=tree, env={**os.environ, "PYTHONPATH": str(tree)}, capture_output=True, text=True
    )
    if done.returncode != 0:
        return {"label": label, "round": round_, "ok": False, "error": (done.stderr + done.stdout)[-1500:]}
    throughput = json.loads(result.read_text())["runs"]["throughput"]
    push, drive = throughput["push"], throughput["drive"]
    return {
        "label": label,
        "tree": str(tree),
        "round": round_,
        "ok": bool(throughput["checks"]["ok"]),
        "started": time.strftime("%H:%M:%S", started),
        "load_before": load,
        "push_ms": push["cpu_ms_per_task"],
        "drive_ms": drive["cpu_ms_per_task"],
        "push_s": push["seconds"],
        "drive_s": drive["seconds"],
        "total_s": throughput["total_seconds"],
        "other_cores_push": round(push["cpu_seconds"]["other"] / push["cpu_seconds"]["wall"], 2),
        "other_cores_drive": round(drive["cpu_seconds"]["other"] / drive["cpu_seconds"]["wall"], 2),
    }


def main() -> None:
    raw = argparse.RawDescriptionHelpFormatter
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=raw)
    parser.add_argument("--a", type=Path, required=True, help="source tree A")
    parser.add_argument("--b", type=Path, required=True, help="source tree B")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--tasks", type=int, default=20000)
    parser.add_argument("--apis", type=int, default=2)
    parser.add_argument("--clients", type=int, default=2)
    parser.add_argument("--pg-url", default=None)
    parser.add_argument("--database", default="yunshang_bench_grid")
    parser.add_argument("--redis-url", default=None)
    parser.add_argument("--redis-db", type=int, default=10)
    parser.add_argument("--port", type=int, default=18451)
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args()
    trees, rows = {"A": args.a, "B": args.b}, []
    for round_ in range(args.rounds):
        for label in ("A", "B") if round_ % 2 == 0 else ("B", "A"):
            row = run(trees[label], label, round_, args)
            if not row["ok"]:
                print(f"retrying {label} {round_}: {row.get('error', 'checks failed')}", flush=True)
                row = run(trees[label], label, round_, args)
            rows.append(row)
            print(json.dumps(row), flush=True)
            args.out.write_text(json.dumps(rows, indent=1))


if __name__ == "__main__":
    main()
