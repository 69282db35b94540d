"""A small fixed district for the draw tests: 40 objects in four risk classes, 16 officers of three
departments (one with a conflict, one object inspected last round by an officer)."""

from __future__ import annotations

from workflows import uscc
from workflows.flows.joint_inspection.draw import Candidate, DrawPlan, Officer, Snapshot

CLASSES = "AAAAAAAAAAAAAAAABBBBBBBBBBBBCCCCCCCCDDDD"  # 16 A, 12 B, 8 C, 4 D


def objects() -> list[Candidate]:
    made = [
        Candidate(uscc.make(f"91370212MA{n:07d}"), risk, ("SCJG-003",) if n == 7 else ())
        for n, risk in enumerate(CLASSES)
    ]
    return sorted(made, key=lambda c: c.uscc)


def officers() -> list[Officer]:
    made = [Officer(f"SCJG-{n:03d}", "SCJG") for n in range(6)]
    made += [Officer(f"WJJ-{n:03d}", "WJJ") for n in range(5)]
    made += [
        Officer(f"GAFJ-{n:03d}", "GAFJ", frozenset({objects()[0].uscc} if n == 0 else ())) for n in range(5)
    ]
    return sorted(made, key=lambda o: o.officer_id)


def snapshot() -> Snapshot:
    return Snapshot(objects(), officers())


PLAN = DrawPlan("plan-2026-12", ("SCJG", "WJJ", "GAFJ"), {"A": 3, "B": 2, "C": 2, "D": 1}, 2, 2)
REVEALED = "福彩3D 2026-12-01 第2026320期 开奖号码 4 7 1"
