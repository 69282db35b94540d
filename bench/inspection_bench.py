"""The joint inspection's draw with its database (issue 13): from the plan to the stored receipt on
both stacks, and the dispatch of the drawn objects to the last officer's push.

Plan to receipt: the synthetic district (75,000 objects, 800 officers) is imported into a fresh
database; each round then freezes a plan as ``POST /inspections/plans`` does (the candidates read
from the database in USCC order, the exclusions, the snapshot hashed and stored with the commitment)
and draws it as ``POST /inspections/plans/{id}/draw`` does (the plan read back, the draw, the receipt
stored, one inspection command per drawn object written to the outbox), each in its own transaction,
in this process. The seed's case: 190 objects over the 4 risk classes, 2 departments × 2 officers in 5
groups (20 officers).

Dispatch (``--dispatch``): PostgreSQL + Redis with the API and ``worker.py --processes 2 --threads 8``
as subprocesses (``bench.grid_stack``); the plan and the draw are posted over HTTP and the clock runs
from the draw's POST to the last of the 760 pushes (190 objects × 4 officers) marked sent by the log
channel. Province scale (``--province 5000000``): the objects are made in PostgreSQL by
``generate_series`` and one plan is drawn over them.
``python -m bench.inspection_bench [--rounds 5] [--stacks embedded,postgresql] [--dispatch] [--province N]``
"""

from __future__ import annotations

import argparse
import hashlib
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx

from bench.common import ensure_pg_database, log, machine_info, pg_url, redis_url, truncate_all, write_result
from rules import RuleSet
from workflows.flows.joint_inspection.directory import replace_objects, replace_officers
from workflows.flows.joint_inspection.directory_parse import parse_objects, parse_officers
from workflows.flows.joint_inspection.directory_synthetic import (
    write_synthetic_objects,
    write_synthetic_officers,
)
from workflows.flows.joint_inspection.service import PlanBody, create_plan, draw_plan
from workflows.runtime import Runtime
from workflows.settings import Settings

QUOTAS = {"A": 60, "B": 60, "C": 40, "D": 30}
DEPARTMENTS = {"SCJG": ["药品经营", "食品经营"], "WJJ": ["公共场所卫生"]}
REVEALED = "福彩3D 2026-12-01 第2026320期 开奖号码 4 7 1"
PUSHES = sum(QUOTAS.values()) * 4


def plan_body(plan_id: str) -> dict[str, Any]:
    return {
        "id": plan_id,
        "departments": DEPARTMENTS,
        "quotas": QUOTAS,
        "per_department": 2,
        "groups": 5,
        "commitment": {"kind": "public_value"},
    }


def load_district(rt: Runtime, folder: Path) -> dict[str, int]:
    objects, officers = folder / "objects.csv", folder / "officers.csv"
    if not objects.exists():
        write_synthetic_objects(objects)
        write_synthetic_officers(officers)
    rules: RuleSet = rt.rules.ruleset("bench")
    parsed_objects = parse_objects(
        objects,
        {r.code for r in rules.sampling.risk_classes},
        {s.code for s in rules.organisation.streets},
        [r.code for r in rules.sampling.results],
    )
    parsed_officers = parse_officers(officers, {d.code for d in rules.organisation.departments})
    with rt.db.transaction() as session:
        replace_objects(session, parsed_objects, objects.name, at=rt.clock.now())
        replace_officers(session, parsed_officers, officers.name, at=rt.clock.now())
    return {"objects": len(parsed_objects.objects), "officers": len(parsed_officers.officers)}


def plan_to_receipt(rt: Runtime, rounds: int) -> dict[str, Any]:
    ruleset = rt.rules.ruleset("bench")
    plan_s, draw_s, total_s, hashes = [], [], [], set()
    for n in range(rounds):
        plan_id = f"bench-{n}-{time.time_ns()}"
        spec = PlanBody.model_validate(plan_body(plan_id))
        t0 = time.perf_counter()
        with rt.transaction() as session:
            plan = create_plan(session, spec, ruleset, rt.clock.now(), "bench")
            candidates = plan.snapshot["counts"]["objects"]
        t1 = time.perf_counter()
        with rt.transaction() as session:
            drawn = draw_plan(session, rt.engine, plan_id, REVEALED, rt.clock.now(), "bench")
            objects = len(drawn.receipt["result"]["objects"])
        t2 = time.perf_counter()
        plan_s.append(t1 - t0)
        draw_s.append(t2 - t1)
        total_s.append(t2 - t0)
        hashes.add(drawn.receipt["snapshot"]["hash"])
        log(f"  round {n}: plan {1000 * (t1 - t0):.0f} ms + draw {1000 * (t2 - t1):.0f} ms ({objects} drawn)")
    return {
        "candidates": candidates,
        "drawn": objects,
        "plan_ms": _ms(plan_s),
        "draw_ms": _ms(draw_s),
        "total_ms": _ms(total_s),
        "snapshot_hashes": len(hashes),
    }


def _ms(seconds: list[float]) -> dict[str, float]:
    ms = [1000 * s for s in seconds]
    return {"min": round(min(ms), 1), "median": round(statistics.median(ms), 1), "max": round(max(ms), 1)}


def stack_case(kind: str, rounds: int, folder: Path) -> dict[str, Any]:
    from worker import compose

    if kind == "embedded":
        settings = Settings(
            database_url=f"sqlite:///{folder}/draw.db", broker="embedded", rules_poll_interval=0
        )
    else:
        url = pg_url(None, "yunshang_bench_draw")
        ensure_pg_database(url)
        settings = Settings(database_url=url, broker=redis_url(None, 11), rules_poll_interval=0)
    rt = compose(settings)
    try:
        truncate_all(rt.db)
        district = load_district(rt, folder)
        log(f"{kind}: {district['objects']:,} objects, {district['officers']} officers; {rounds} rounds")
        return {"stack": kind, **district, **plan_to_receipt(rt, rounds)}
    finally:
        rt.close()


def province_case(n: int, folder: Path) -> dict[str, Any]:
    """Plan → stored receipt over ``n`` objects in PostgreSQL (made by ``generate_series``: a CSV of
    5,000,000 rows would take longer to write and check than to draw), one round."""
    from sqlalchemy import text

    from worker import compose

    url = pg_url(None, "yunshang_bench_draw")
    ensure_pg_database(url)
    rt = compose(Settings(database_url=url, broker=redis_url(None, 11), rules_poll_interval=0))
    try:
        truncate_all(rt.db)
        load_district(rt, folder)  # the officers (and 75,000 objects, replaced below)
        started = time.perf_counter()
        with rt.db.engine.begin() as conn:
            conn.execute(text("DELETE FROM inspection_objects"))
            conn.execute(
                text(
                    "INSERT INTO inspection_objects (uscc, name, type, industry, street, grid, risk_class, "
                    "risk_as_of, last_inspected_at, last_result, last_inspectors) "
                    "SELECT '91370212MA' || lpad(i::text, 7, '0') || 'X', 'object ' || i, 'enterprise', "
                    "'5251', 'ZHONGHAN', 'ZH-001', (ARRAY['A','A','A','A','A','A','A','A','B','B','B','B',"
                    "'B','B','B','C','C','C','C','D'])[1 + i % 20], DATE '2026-01-01', "
                    "CASE WHEN i % 9 = 0 THEN DATE '2026-06-01' END, CASE WHEN i % 9 = 0 THEN "
                    "(CASE WHEN i % 27 = 0 THEN 'follow_up' ELSE 'no_problem' END) END, "
                    "CASE WHEN i % 9 = 0 THEN '[\"SCJG-0001\", \"WJJ-0002\"]'::json ELSE '[]'::json END "
                    "FROM generate_series(0, :n - 1) AS i"
                ),
                {"n": n},
            )
            conn.execute(text("ANALYZE inspection_objects"))
        loaded = time.perf_counter() - started
        log(f"province: {n:,} objects inserted in {loaded:.1f} s")
        return {"stack": "postgresql", "objects": n, "insert_s": round(loaded, 1), **plan_to_receipt(rt, 1)}
    finally:
        rt.close()


def dispatch_case(folder: Path) -> dict[str, Any]:
    from bench.grid_stack import TOKEN, GridStack
    from worker import compose

    pg, redis = pg_url(None, "yunshang_bench_dispatch"), redis_url(None, 12)
    (folder / "dispatch").mkdir(exist_ok=True)
    stack = GridStack(folder / "dispatch", pg, redis, port=8765, processes=2, threads=8, scheduler=False)
    rt = compose(Settings(database_url=pg, broker=redis, rules_poll_interval=0))
    try:
        load_district(rt, folder)
    finally:
        rt.close()
    stack.start()
    try:
        headers = {"Authorization": f"Bearer {TOKEN}"}
        api = httpx.Client(base_url="http://127.0.0.1:8765", headers=headers, timeout=60)
        created = api.post("/inspections/plans", json=plan_body("bench-dispatch"))
        created.raise_for_status()
        t0 = time.time()
        drawn = api.post("/inspections/plans/bench-dispatch/draw", json={"revealed": REVEALED})
        drawn.raise_for_status()
        t1 = time.time()
        sql = (
            "SELECT count(*) FILTER (WHERE d.status = 'sent'), extract(epoch FROM max(d.sent_at)) "
            "FROM deliveries d JOIN instances i ON i.id = d.instance_id "
            "WHERE i.flow = 'joint_inspection' AND d.kind = 'inspection'"
        )
        deadline = time.time() + 300
        while True:
            sent, last = stack.rows(sql)[0]
            if int(sent) >= PUSHES or time.time() > deadline:
                break
            time.sleep(0.05)
        if int(sent) < PUSHES:
            raise RuntimeError(f"only {sent} of {PUSHES} pushes were sent in 300 s")
        return {
            "objects": len(drawn.json()["result"]["objects"]),
            "pushes": int(sent),
            "draw_post_ms": round(1000 * (t1 - t0), 1),
            "draw_to_last_push_ms": round(1000 * (float(last) - t0), 1),
            "receipt_sha256": hashlib.sha256(drawn.content).hexdigest()[:16],
        }
    finally:
        stack.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--stacks", default="embedded,postgresql")
    parser.add_argument("--dispatch", action="store_true")
    parser.add_argument(
        "--province", type=int, default=0, help="also plan → receipt over N objects (PostgreSQL)"
    )
    args = parser.parse_args()
    data: dict[str, Any] = {
        "machine": machine_info(pg=pg_url(None, "postgres"), redis=redis_url(None, 0)),
        "plan": {"quotas": QUOTAS, "departments": sorted(DEPARTMENTS), "per_department": 2, "groups": 5},
    }
    with tempfile.TemporaryDirectory(prefix="yunshang-draw-") as tmp:
        folder = Path(tmp)
        data["plan_to_receipt"] = [stack_case(k, args.rounds, folder) for k in args.stacks.split(",") if k]
        data["dispatch"] = dispatch_case(folder) if args.dispatch else None
        data["province"] = province_case(args.province, folder) if args.province else None
    only_province = args.province and not data["plan_to_receipt"] and not data["dispatch"]
    path = write_result("inspection_province" if only_province else "inspection", data)
    for case in data["plan_to_receipt"]:
        log(f"{case['stack']}: plan → stored receipt {case['total_ms']['median']} ms (median)")
    if data["province"]:
        log(f"province: plan → stored receipt {data['province']['total_ms']['median']} ms")
    if data["dispatch"]:
        log(f"dispatch: draw → last of {PUSHES} pushes {data['dispatch']['draw_to_last_push_ms']} ms")
    log(f"wrote {path}")


if __name__ == "__main__":
    main()
