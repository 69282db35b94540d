"""Summarise a py-spy ``--format raw --threads`` record of a worker process: where its threads are.

Each line of the record is ``frame;frame;…;leaf count`` (the first frame names the thread). A worker
thread's sample is put in one *state* by its frames:

- ``waiting for a message`` — in Dramatiq's ``Queue.get`` (its consumer has handed it nothing);
- ``waiting for the group's leader`` — a thread whose command another thread applies (``GroupCommit``);
- ``database round trip`` — psycopg waiting for the server's answer;
- ``Redis round trip`` — redis-py waiting for Redis (the ack, an enqueue);
- ``python`` — running Python, or waiting for the GIL to do so (py-spy cannot tell them apart unless
  it samples only the GIL holder, ``--gil``).

``inclusive`` gives, for the frames of our code, Dramatiq, SQLAlchemy and psycopg, the share of the
worker threads' *non-idle* samples (all states but the first two) that have the frame on the stack.

    python -m bench.spy_summary RECORD.txt
"""

from __future__ import annotations

import re
import sys
from collections import Counter
from pathlib import Path
from typing import Any

_LINE = re.compile(r"^(.*) (\d+)$")
_FRAME = re.compile(r"^(?P<fn>.+?) \((?P<file>[^:()]+)(?::\d+)?\)$")
_OURS = ("workflows/", "actors/", "dramatiq/", "sqlalchemy/", "psycopg/", "redis/", "transitions/")
IDLE = ("waiting for a message", "waiting for the group's leader")


def state(frames: list[str]) -> str:
    text = ";".join(frames)
    if "GroupCommit.execute" in text and "GroupCommit._lead" not in text:
        if frames[-1].startswith(("Condition.wait", "Event.wait")):
            return "waiting for the group's leader"
    if "Queue.get (queue.py" in text and "process_message" not in text:
        return "waiting for a message"
    leaf = frames[-1]
    if ("(psycopg/" in leaf and ".wait" in leaf) or "waiting.py" in leaf:
        return "database round trip"
    if "_read_from_socket" in leaf or "send_packed_command" in leaf:
        return "Redis round trip"
    return "python"


def summarise(record: str, top: int = 30) -> dict[str, Any]:
    roles: Counter[str] = Counter()
    states: Counter[str] = Counter()
    inclusive: Counter[str] = Counter()
    leaves: Counter[str] = Counter()
    busy = 0
    for line in record.splitlines():
        match = _LINE.match(line.strip())
        if not match:
            continue
        frames, count = match.group(1).split(";"), int(match.group(2))
        text = match.group(1)
        role = (
            "worker threads"
            if "WorkerThread.run" in text
            else "consumer threads"
            if "ConsumerThread.run" in text
            else "other threads"
        )
        roles[role] += count
        if role != "worker threads":
            continue
        st = state(frames)
        states[st] += count
        if st in IDLE:
            continue
        busy += count
        seen: set[str] = set()
        for frame in frames[1:]:
            m = _FRAME.match(frame)
            if m and m.group("file").startswith(_OURS):
                seen.add(f"{m.group('fn')} ({m.group('file')})")
        for name in seen:
            inclusive[name] += count
        leaf = _FRAME.match(frames[-1])
        leaves[leaf.group("file").split("/")[0] if leaf else frames[-1]] += count
    workers = roles["worker threads"] or 1
    return {
        "samples": dict(roles),
        "worker_states_pct": {k: round(100 * v / workers, 1) for k, v in states.most_common()},
        "busy_samples": busy,
        "inclusive_pct_of_busy": {k: round(100 * v / max(busy, 1), 1) for k, v in inclusive.most_common(top)},
        "leaf_package_pct_of_busy": {k: round(100 * v / max(busy, 1), 1) for k, v in leaves.most_common(12)},
    }


def main(argv: list[str]) -> int:
    import json

    for path in argv:
        print(json.dumps(summarise(Path(path).read_text(encoding="utf-8")), indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
