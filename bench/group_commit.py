"""The apply path of single-command messages, alone and in groups (issue 17): where the time goes.

In one process, on PostgreSQL (no broker, no worker threads: the path a worker thread runs for one
message): ``--instances`` toy instances are started, then each gets its ``decide`` command, applied
either alone (``Runtime.execute``, one transaction per command: lock, dedupe read, write, commit) or
in groups of ``--group`` (``Runtime.execute_group``, what ``GroupCommit`` does when that many worker
threads hold a message at once). The rounds interleave the two. Reported per mode: commands/s (wall)
and this process's CPU per command (``time.process_time``), min / median / max over the rounds;
``--profile`` adds a pyinstrument profile of one round of each mode.
``python -m bench.group_commit [--instances 2000] [--group 8] [--rounds 3]``
"""

from __future__ import annotations

import argparse
import statistics
import time
from pathlib import Path
from typing import Any

from bench.common import ensure_pg_database, log, machine_info, pg_url, truncate_all, write_result


def _round(rt: Any, k: int, group: int, tag: str, profile: bool) -> tuple[float, float, str]:
    from workflows.engine.commands import Cause

    with rt.transaction() as s:
        ids = [
            rt.engine.start(
                s, "toy", f"{tag}-{i}", subject=None, context={}, cause=Cause(kind="system")
            ).instance_id
            for i in range(k)
        ]
    commands = [
        rt.engine.command(
            "toy",
            "decide",
            cause=Cause(kind="event", id=f"{tag}-d{iid}"),
            dedupe_key=f"{tag}-d{iid}",
            payload={"decision": "approve"},
            instance_id=iid,
        )
        for iid in ids
    ]
    profiler = None
    if profile:
        from pyinstrument import Profiler

        profiler = Profiler(interval=0.0005)
        profiler.start()
    wall0, cpu0 = time.perf_counter(), time.process_time()
    if group == 1:
        for command in commands:
            rt.execute(command, None)
    else:
        for j in range(0, k, group):
            part = commands[j : j + group]
            rt.execute_group(part, [None] * len(part))
    wall, cpu = time.perf_counter() - wall0, time.process_time() - cpu0
    text = ""
    if profiler is not None:
        profiler.stop()
        text = profiler.output_text(unicode=False, color=False)
    return k / wall, 1000 * cpu / k, text


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--instances", "-k", type=int, default=2000)
    parser.add_argument("--group", type=int, default=8)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--profile", action="store_true")
    parser.add_argument("--out", default=None)
    args = parser.parse_args()

    from worker import compose
    from workflows.engine.deadlines import StaticDeadlines
    from workflows.settings import Settings
    from workflows.store.migrate import upgrade

    url = pg_url(None, "yunshang_bench_group")
    ensure_pg_database(url)
    settings = Settings(database_url=url, broker="embedded", clock="system", rules_poll_interval=0)
    rt = compose(settings, deadlines=StaticDeadlines({"toy.awaiting_review.review_deadline": "2h"}, "b"))
    upgrade(rt.db)
    truncate_all(rt.db)
    modes = {"alone": 1, f"groups of {args.group}": args.group}
    seen: dict[str, dict[str, list[float]]] = {m: {"per_s": [], "cpu_ms": []} for m in modes}
    profiles: dict[str, str] = {}
    for r in range(args.rounds):
        for mode, group in modes.items():
            rate, cpu, text = _round(rt, args.instances, group, f"r{r}g{group}", args.profile and r == 0)
            seen[mode]["per_s"].append(rate)
            seen[mode]["cpu_ms"].append(cpu)
            if text:
                profiles[mode] = text
            log(f"round {r + 1} {mode:<12} {rate:7.0f} commands/s  {cpu:.3f} ms CPU per command")
    summary: dict[str, Any] = {}
    for mode, values in seen.items():
        summary[mode] = {
            key: {"min": round(min(v), 3), "median": round(statistics.median(v), 3), "max": round(max(v), 3)}
            for key, v in values.items()
        }
    alone, grouped = (statistics.median(seen[m]["cpu_ms"]) for m in modes)
    summary["cpu_ratio_alone_to_grouped"] = round(alone / grouped, 2)
    result = {
        "benchmark": "group_commit",
        "machine": machine_info(pg=url),
        "instances": args.instances,
        "group": args.group,
        "rounds": args.rounds,
        "modes": summary,
        "profiles": profiles,
    }
    rt.close()
    log(f"wrote {write_result('group_commit', result, Path(args.out) if args.out else None)}")


if __name__ == "__main__":
    main()
