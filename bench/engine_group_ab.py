"""One message per command, group commit on and off, interleaved (issue 17 part 2).

Each round runs ``engine_bench``'s PostgreSQL + Redis stack (``--processes`` worker processes ×
``--threads``, one ``toy.advance`` message per command) once per mode — ``YUNSHANG_GROUP_COMMIT=64``
(the default) and ``=1`` (each message in its own transaction) — in the order A, B then B, A, …; each
run measures the no-op actor before and after its transitions on the same worker processes, so its
ratio is the run's own. Besides ``engine_bench``'s figures each run records the load average before
and after, the other load during the saturation waves, and how many commands the saturation waves'
transactions carried (applied history rows ÷ distinct ``History.at``, which a transaction reads once).

``--profile`` adds, per mode, a py-spy record (``--py-spy``; all threads, idle ones included) of one
worker process during an extra saturation wave of ``--profile-instances`` decides; the samples are
summarised by ``bench.spy_summary`` into the result.

    python -m bench.engine_group_ab --rounds 3 --pg-database yunshang_x_bench --redis-db 10 \\
        --out bench/results/engine_group_ab.json [--profile --py-spy /path/to/py-spy]
"""

from __future__ import annotations

import argparse
import os
import shutil
import signal
import statistics
import subprocess
import tempfile
import time
from pathlib import Path
from typing import Any

from sqlalchemy import func, select

from bench import engine_stacks
from bench.common import REPO, descendants, log, machine_info, write_result
from bench.engine_bench import _stack, _worker_entry, parse_args, run_stack
from bench.engine_driver import Driver
from bench.engine_stacks import ServerStack
from bench.spy_summary import summarise
from workflows.store.models import History, Instance

GROUP = {"group commit on (64)": "64", "group commit off (1)": "1"}


def group_sizes(stack: ServerStack) -> dict[str, float]:
    """Commands per transaction in the saturation waves: applied rows ÷ distinct transaction times."""
    with stack.runtime.db.read() as s:
        rows, moments = s.execute(
            select(func.count(), func.count(func.distinct(History.at)))
            .join(Instance, Instance.id == History.instance_id)
            .where(
                Instance.business_key.like("%-sat-%"),
                History.trigger.in_(["decide", "archive"]),
                History.outcome == "applied",
            )
        ).one()
    return {"applied": rows, "transactions": moments, "per_transaction": round(rows / max(moments, 1), 2)}


def profile(stack: ServerStack, args: argparse.Namespace, out: Path) -> dict[str, Any]:
    """py-spy one worker process during a saturation wave of decides; summarise its samples."""
    driver = Driver(stack.runtime, f"prof{os.getpid()}", together=args.enqueue == "together")
    ids, _ = driver.start_instances(args.profile_instances, "prof")
    children = sorted(descendants(stack.proc.pid) - {stack.proc.pid})
    target = children[-1]  # a worker child (the supervisor is the root)
    spy = subprocess.Popen(
        [args.py_spy, "record", "--pid", str(target), "--rate", "200", "--idle", "--threads",
         "--nonblocking", "--format", "raw", "--output", str(out)],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    time.sleep(1.0)
    wave = driver.wave("decide", driver.commands(ids, "decide", {"decision": "approve"}), None, 300)
    spy.send_signal(signal.SIGINT)
    spy.wait(30)
    return {
        "pid": target,
        "instances": args.profile_instances,
        "transitions_per_s": round(wave.applied / wave.seconds_db, 1),
        "samples": summarise(out.read_text(encoding="utf-8")) if out.exists() else None,
    }


def main() -> int:
    extra = argparse.ArgumentParser(add_help=False)
    extra.add_argument("--rounds", type=int, default=3)
    extra.add_argument("--profile", action="store_true")
    extra.add_argument("--profile-instances", type=int, default=6000)
    extra.add_argument("--py-spy", default=shutil.which("py-spy") or "py-spy")
    extra.add_argument(
        "--checkout",
        action="append",
        default=[],
        metavar="LABEL=PATH",
        help="run the worker processes of a checkout too (repeatable; default: this one, as 'this')",
    )
    mine, rest = extra.parse_known_args()
    checkouts = dict(c.split("=", 1) for c in mine.checkout) or {"this": str(engine_stacks.WORKER_REPO)}
    modes = {
        f"{label}, {name}" if len(checkouts) > 1 else name: (path, value)
        for label, path in checkouts.items()
        for name, value in GROUP.items()
    }
    args = parse_args(["--stacks", "pg", "--processes", "2", *rest])
    for key, value in vars(mine).items():
        setattr(args, key, value)
    from bench.common import pg_url, redis_url

    args.pg = pg_url(args.pg_url, args.pg_database)
    args.redis = redis_url(args.redis_url, args.redis_db)
    notes = _worker_entry(args)
    processes = int(args.processes.split(",")[0])
    machine = machine_info(args.pg, args.redis)
    runs: list[dict[str, Any]] = []
    profiles: dict[str, Any] = {}
    workdir = Path(tempfile.mkdtemp(prefix="yunshang-group-ab-"))
    before = os.environ.get("YUNSHANG_GROUP_COMMIT")
    try:
        for r in range(args.rounds):
            order = list(modes.items()) if r % 2 == 0 else list(reversed(modes.items()))
            for mode, (checkout, value) in order:
                os.environ["YUNSHANG_GROUP_COMMIT"] = value  # the worker processes inherit it
                engine_stacks.WORKER_REPO = Path(checkout)  # where the worker processes run from
                load0 = list(os.getloadavg())
                with _stack("pg", processes, args, workdir) as stack:
                    assert isinstance(stack, ServerStack)
                    run = run_stack(stack, args)
                    run["groups"] = group_sizes(stack)
                    if args.profile and value != "1" and mode not in profiles:
                        profiles[mode] = profile(stack, args, workdir / f"spy-{value}.txt")
                cpu = run["cpu_seconds_saturation"]
                run |= {
                    "mode": mode,
                    "checkout": checkout,
                    "round": r + 1,
                    "group_commit": int(value),
                    "load_avg_before": load0,
                    "load_avg_after": list(os.getloadavg()),
                    "other_load_cores": round(cpu.get("other", 0.0) / cpu["wall"], 2),
                }
                runs.append(run)
                log(
                    f"round {r + 1} {mode}: {run['transitions_per_s']:.0f}/s, "
                    f"no-op {run['noop_msgs_per_s']:.0f}, ratio {run['ratio_to_noop']:.1%}, "
                    f"{run['groups']['per_transaction']} per transaction, "
                    f"other load {run['other_load_cores']}"
                )
    finally:
        engine_stacks.WORKER_REPO = REPO
        if before is None:
            os.environ.pop("YUNSHANG_GROUP_COMMIT", None)
        else:
            os.environ["YUNSHANG_GROUP_COMMIT"] = before
        shutil.rmtree(workdir, ignore_errors=True)
    summary: dict[str, Any] = {}
    for mode in modes:
        mine_runs = [run for run in runs if run["mode"] == mode]
        summary[mode] = {
            key: _spread([float(_dig(run, key)) for run in mine_runs])
            for key in (
                "transitions_per_s",
                "noop_msgs_per_s",
                "ratio_to_noop",
                "own_cpu_ms_per_transition",
                "cpu_ms_per_transition.workers",
                "cpu_ms_per_transition.postgresql",
                "cpu_ms_per_transition.driver",
                "groups.per_transaction",
                "other_load_cores",
            )
        }
    result = {
        "benchmark": "engine_group_ab",
        "machine": machine,
        "parameters": {
            k: str(v) if isinstance(v, Path) else v
            for k, v in vars(args).items()
            if k not in {"pg_url", "redis_url"}
        },
        "summary": summary,
        "profiles": profiles,
        "runs": runs,
        "notes": notes,
    }
    path = write_result("engine_group_ab", result, args.out)
    log(f"wrote {path}")
    for mode, figures in summary.items():
        print(f"{mode:<24} " + "  ".join(f"{k} {v['median']}" for k, v in figures.items()), flush=True)
    return 0 if all(run["checks"]["ok"] for run in runs) else 1


def _dig(data: dict[str, Any], dotted: str) -> Any:
    for part in dotted.split("."):
        data = data[part]
    return data


def _spread(values: list[float]) -> dict[str, float]:
    return {
        "min": round(min(values), 3),
        "median": round(statistics.median(values), 3),
        "max": round(max(values), 3),
    }


if __name__ == "__main__":
    raise SystemExit(main())
