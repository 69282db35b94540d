"""The verifiable draw's computation (issue 13): the seed's case and the province scale, in memory.

The seed's case: 190 of 75,000 objects in 4 risk strata, 20 officers of 2 departments drawn into 5
groups, matched, with the receipt written (the snapshot hashed, the seed derived, the draw, the
result hash) — and a verify. The province scale: the same over 5,000,000 objects. Candidates are built
in USCC order, as the database read gives them (this measures the draw, not the read); figures are the
min / median / max of ``--rounds`` runs. ``python -m bench.draw_bench [--rounds 5] [--province N]``.
"""

from __future__ import annotations

import argparse
import statistics
import time
from typing import Any

from bench.common import log, machine_info, write_result
from workflows.flows.joint_inspection.draw import Candidate, DrawPlan, Officer, Snapshot
from workflows.flows.joint_inspection.receipt import build_receipt, commit, verify
from workflows.flows.joint_inspection.stream import Stream

CLASSES = (("A", 0.40), ("B", 0.35), ("C", 0.20), ("D", 0.05))
DEPARTMENTS = ("SCJG", "WJJ", "GAFJ", "WLJ", "YJJ", "JTJ", "XFJY", "YCJ", "RSJ", "CGJ", "NYJ", "STHJ", "XCB")
PLAN = DrawPlan("bench-2026", ("SCJG", "WJJ"), {"A": 30, "B": 50, "C": 60, "D": 50}, 2, 5)
REVEALED = "beacon round 4242"


def candidates(n: int) -> list[Candidate]:
    """``n`` objects in USCC order (a counter in positions 11-17 keeps the order without a sort)."""
    stream, out = Stream(b"bench-classes"), []
    bounds = [sum(share for _, share in CLASSES[: i + 1]) for i in range(len(CLASSES))]
    for i in range(n):
        u = stream.word() / 2**64
        risk = next(c for (c, _), b in zip(CLASSES, bounds, strict=True) if u < b or c == "D")
        out.append(Candidate(f"91370212MA{i:07d}X", risk))
    return out


def officers(n: int = 800) -> list[Officer]:
    made = [
        Officer(f"{DEPARTMENTS[i % len(DEPARTMENTS)]}-{i:04d}", DEPARTMENTS[i % len(DEPARTMENTS)])
        for i in range(n)
    ]
    return sorted(made, key=lambda o: o.officer_id)


def timed(rounds: int, fn: Any) -> tuple[dict[str, float], Any]:
    seconds, value = [], None
    for _ in range(rounds):
        started = time.perf_counter()
        value = fn()
        seconds.append(time.perf_counter() - started)
    ms = [s * 1000 for s in seconds]
    return {
        "min_ms": round(min(ms), 2),
        "median_ms": round(statistics.median(ms), 2),
        "max_ms": round(max(ms), 2),
    }, value


def case(n: int, rounds: int) -> dict[str, Any]:
    objects, staff = candidates(n), officers()
    log(f"{n:,} objects, {len(staff)} officers: drawing {sum(PLAN.quotas.values())} × {rounds}")
    commitment = commit("public_value", REVEALED)
    receipt_time, receipt = timed(
        rounds, lambda: build_receipt(PLAN, Snapshot(objects, staff), commitment, REVEALED, [])
    )
    verify_time, differs = timed(rounds, lambda: verify(receipt, Snapshot(objects, staff), []))
    assert differs == [], differs
    return {
        "objects": n,
        "officers": len(staff),
        "drawn": len(receipt["result"]["objects"]),
        "groups": len(receipt["result"]["groups"]),
        "receipt": receipt_time,
        "verify": verify_time,
        "result_sha256": receipt["result_sha256"],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--seed-case", type=int, default=75_000)
    parser.add_argument("--province", type=int, default=5_000_000)
    args = parser.parse_args()
    data: dict[str, Any] = {
        "machine": machine_info(),
        "plan": {"quotas": dict(PLAN.quotas), "groups": PLAN.groups},
    }
    data["seed_case"] = case(args.seed_case, args.rounds)
    data["province"] = case(args.province, max(1, args.rounds // 2)) if args.province else None
    path = write_result("draw", data)
    log(f"wrote {path}")
    for name in ("seed_case", "province"):
        if data[name]:
            d = data[name]
            log(
                f"{name}: receipt {d['receipt']['median_ms']} ms, "
                f"verify {d['verify']['median_ms']} ms (median)"
            )


if __name__ == "__main__":
    main()
