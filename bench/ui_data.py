"""A million instances for the dashboard benchmark, generated in PostgreSQL itself.

Instances of every flow the plug-ins run, in proportions like the district's (notices most, grid
checks next, inspections few), with real state names from the flows' definitions; a fifth still open,
each open one with an armed timer of its state (every other one its first deadline timer, the others
its first timer, often a warning; due from a day ago to four days ahead, so some are overdue, some
past a warning and some due within 24 h); contexts with department, street, grid and an enterprise name;
a day of pushes. ``generate(db, n, now)``: the rows are written by ``INSERT … SELECT generate_series``
(about 25 s for 1,000,000 here), then ``VACUUM ANALYZE`` (the steady state autovacuum keeps).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import text

from state_machines.base import Flow
from workflows.store.db import Database

DEPARTMENTS = (
    "SCJG", "SCJG_SP", "WJJ", "GAFJ", "WLJ", "YJJ", "JTJ", "XFJY", "YCJ",
    "RSJ", "CGJ", "NYJ", "STHJ", "XCB", "ZJJ", "JYJ", "SWJ",
)  # fmt: skip
STREETS = ("ZHONGHAN", "SHAZIKOU", "WANGGEZHUANG", "BEIZHAI", "JINJIALING")
#: the share of instances per flow (the rest of the flows get none)
SHARES = {
    "dual_notification": 6,
    "grid_check": 3,
    "joint_inspection": 1,
}


def _states(flow: Flow) -> tuple[list[str], list[tuple[str, str, str]]]:
    """The final states, and the open states with timers: (state, its first timer, its first deadline
    timer — a warning's passing makes nothing overdue, a deadline's does)."""
    final = [str(s.name) for s in flow.states if s.final]
    timed = []
    for s in flow.states:
        if s.timers and not s.final:
            deadlines = [t for t in s.timers if str(getattr(t, "kind", "deadline")) != "warning"]
            timed.append((str(s.name), str(s.timers[0].name), str((deadlines or s.timers)[0].name)))
    return final, timed


def generate(db: Database, n: int, now: datetime, flows: dict[str, Flow]) -> dict[str, Any]:
    """Replace every instance, timer and delivery by ``n`` synthetic instances (PostgreSQL)."""
    assert db.is_postgres, "the dashboard benchmark runs on PostgreSQL"
    total = sum(SHARES.values())
    spans, start = [], 0
    for name, share in SHARES.items():
        final, timed = _states(flows[name])
        spans.append((name, start, start + share, final, timed))
        start += share
    with db.engine.begin() as conn:
        conn.execute(text("TRUNCATE instances, history, timers, deliveries, outbox RESTART IDENTITY CASCADE"))
        for name, lo, hi, final, timed in spans:
            params = {
                "flow": name,
                "lo": lo,
                "hi": hi,
                "total": total,
                "n": n,
                "now": now,
                "final": final,
                "open": [s for s, _, _ in timed],
                "deps": list(DEPARTMENTS),
                "streets": list(STREETS),
            }
            conn.execute(text(INSTANCES), params)
        for name, _, _, _, timed in spans:
            conn.execute(
                text(TIMERS),
                {
                    "flow": name,
                    "states": [s for s, _, _ in timed],
                    "names": [t for _, t, _ in timed],
                    "deadlines": [d for _, _, d in timed],
                    "now": now,
                },
            )
        conn.execute(text(DELIVERIES), {"now": now})
        counts = conn.execute(
            text(
                "SELECT (SELECT count(*) FROM instances), (SELECT count(*) FROM instances WHERE closed_at"
                " IS NULL), (SELECT count(*) FROM timers), (SELECT count(*) FROM timers WHERE status ="
                " 'armed' AND due_at < :now)"
            ),
            {"now": now},
        ).one()
    # the steady state autovacuum keeps: statistics, and visibility maps for index-only scans
    with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        for table in ("instances", "timers", "deliveries"):
            conn.execute(text(f"VACUUM ANALYZE {table}"))
    return {"instances": counts[0], "open": counts[1], "timers": counts[2], "overdue_timers": counts[3]}


# g runs over the whole range; a flow takes the g whose (g % total) falls in its share. An open
# instance (g % 5 = 0) is in one of the flow's timed states; the others are in a final state.
INSTANCES = """
INSERT INTO instances (flow, flow_version, business_key, subject, state, context, rules_version, version,
                       created_at, updated_at, closed_at)
SELECT CAST(:flow AS text), 1, CAST(:flow AS text) || ':' || g,
       '91370212MA' || lpad((g % 9999999)::text, 7, '0') || 'X',
       CASE WHEN g % 5 = 0 THEN (CAST(:open AS text[]))[1 + (g / 5) % cardinality(CAST(:open AS text[]))]
            ELSE (CAST(:final AS text[]))[1 + g % cardinality(CAST(:final AS text[]))] END,
       json_build_object(
           'department', (CAST(:deps AS text[]))[1 + (g / 7) % cardinality(CAST(:deps AS text[]))],
           'street', (CAST(:streets AS text[]))[1 + (g / 3) % 5],
           'grid', 'G' || lpad(((g / 3) % 654)::text, 3, '0'),
           'name', '青岛崂山企业' || g || '有限公司'),
       'bench', 1,
       CAST(:now AS timestamptz) - make_interval(mins => (n_minus_g % 525600)::int),
       CAST(:now AS timestamptz) - make_interval(mins => (n_minus_g % 525600)::int / 2),
       CASE WHEN g % 5 = 0 THEN NULL
            ELSE CAST(:now AS timestamptz) - make_interval(mins => (n_minus_g % 525600)::int / 3) END
FROM (SELECT g, :n - g AS n_minus_g FROM generate_series(1, :n) AS g) AS s
WHERE g % :total >= :lo AND g % :total < :hi
"""

TIMERS = """
INSERT INTO timers (instance_id, name, trigger, state, due_at, provisional, status, created_at)
SELECT i.id, t.name, t.name || '_passed', i.state,
       CAST(:now AS timestamptz) + make_interval(hours => (i.id % 120)::int - 24),
       false, 'armed', i.created_at
FROM instances AS i,
     LATERAL (SELECT (CASE WHEN i.id % 2 = 0 THEN CAST(:names AS text[]) ELSE CAST(:deadlines AS text[]) END)
                     [array_position(CAST(:states AS text[]), i.state)] AS name) AS t
WHERE i.flow = :flow AND i.closed_at IS NULL
"""

DELIVERIES = """
INSERT INTO deliveries (dedupe_key, instance_id, kind, channel, recipient, payload, status, attempts,
                        created_at, sent_at)
SELECT 'bench:' || g, g * 5, 'notice', 'webhook', 'SCJG/notice_handler', '{}'::json, 'sent', 1,
       CAST(:now AS timestamptz) - make_interval(mins => g % 600), CAST(:now AS timestamptz)
FROM generate_series(1, 2000) AS g
"""
