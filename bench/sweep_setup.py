"""The timer sweep benchmark's setup: a runtime, a million timers written in bulk, a clean slate."""

from __future__ import annotations

import time
from datetime import datetime

from sqlalchemy import bindparam, text

from bench.common import TOY_DEADLINES, flush_redis, truncate_all
from workflows.engine.deadlines import StaticDeadlines
from workflows.runtime import Runtime
from workflows.settings import Settings
from workflows.store.models import UtcDateTime


def bench_runtime(database_url: str, broker: str, *, migrate: bool, batch: int | None = None) -> Runtime:
    from worker import compose

    settings = Settings(database_url=database_url, broker=broker, clock="system", log_level="WARNING")
    runtime = compose(settings, deadlines=StaticDeadlines(TOY_DEADLINES, version="bench"), migrate=migrate)
    if batch is not None:
        runtime.sweeper.batch = batch
    return runtime


def insert_timers(runtime: Runtime, count: int, due: datetime, spread_ms: int = 0) -> float:
    """``count`` instances of the toy flow, each with one armed timer due at ``due`` (bulk inserts)."""
    db = runtime.db
    now = runtime.clock.now()
    t0 = time.perf_counter()
    params = {"n": count, "now": now, "due": due}
    types = [bindparam("now", type_=UtcDateTime()), bindparam("due", type_=UtcDateTime())]
    with db.engine.begin() as conn:
        if db.is_postgres:
            conn.execute(
                text(
                    "INSERT INTO instances (flow, flow_version, business_key, state, context, rules_version,"
                    " version, created_at, updated_at)"
                    " SELECT 'toy', 1, 'sweep-' || g, 'awaiting_review', '{}'::json, 'bench', 1, :now, :now"
                    " FROM generate_series(1, :n) AS g"
                ).bindparams(*types[:1]),
                {"n": count, "now": now},
            )
            conn.execute(
                text(
                    "INSERT INTO timers (instance_id, name, trigger, state, due_at, provisional, status,"
                    " created_at)"
                    " SELECT id, 'review_deadline', 'review_deadline_passed', 'awaiting_review',"
                    " :due + (id % 1000) * (:spread * interval '1 millisecond'), false, 'armed', :now"
                    " FROM instances"
                ).bindparams(*types),
                {**params, "spread": spread_ms},
            )
        else:
            conn.execute(
                text(
                    "WITH RECURSIVE g(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM g WHERE x < :n)"
                    " INSERT INTO instances (flow, flow_version, business_key, state, context, rules_version,"
                    " version, created_at, updated_at)"
                    " SELECT 'toy', 1, 'sweep-' || x, 'awaiting_review', '{}', 'bench', 1, :now, :now FROM g"
                ).bindparams(*types[:1]),
                {"n": count, "now": now},
            )
            conn.execute(
                text(
                    "INSERT INTO timers (instance_id, name, trigger, state, due_at, provisional, status,"
                    " created_at)"
                    " SELECT id, 'review_deadline', 'review_deadline_passed', 'awaiting_review', :due, 0,"
                    " 'armed', :now FROM instances"
                ).bindparams(*types),
                params,
            )
    return time.perf_counter() - t0


def analyze(runtime: Runtime) -> None:
    with runtime.db.engine.begin() as conn:
        conn.execute(text("ANALYZE"))


def reset(runtime: Runtime, redis: str | None) -> None:
    truncate_all(runtime.db)
    if redis:
        flush_redis(redis)
