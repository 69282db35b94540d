"""Loss made visible: accepted events without their effect and unfinished outbox rows, by age, in
/status, /metrics, /readyz and `yunshang status`; the database away gives 503 with Retry-After and
a one-line CLI error."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import dramatiq
import pytest
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url
from typer.testing import CliRunner

from tests.e2e.api.conftest import serve
from tests.support import PG_URL, REDIS_URL, running_stack
from worker import PLUGINS, compose
from workflows.cli.app import build_app


def _event(event_id: str, type_: str, data: dict[str, Any]) -> dict[str, Any]:
    return {"specversion": "1.0", "id": event_id, "source": "/t", "type": type_, "data": data}


def _gauges(text_: str) -> dict[tuple[str, str], float]:
    found: dict[tuple[str, str], float] = {}
    for family in text_string_to_metric_families(text_):
        for sample in family.samples:
            found[(sample.name, sample.labels.get("age", ""))] = sample.value
    return found


def test_an_event_waiting_for_its_effect_is_counted_by_age_and_degrades_readiness(
    stack_kind: str, tmp_path: Path
) -> None:
    with running_stack(stack_kind, tmp_path, stale_after=120) as stack:
        for api in serve(stack):
            with api.client(api.admin) as c:
                assert (
                    c.post("/events", json=_event("s1", "toy.submitted", {"case": "r1"})).status_code == 202
                )
                stack.worker.stop()  # the decision waits in the broker
                r = c.post("/events", json=_event("d1", "toy.decided", {"case": "r1", "decision": "approve"}))
                assert r.status_code == 202
                stack.runtime.relay.flush()
                stack.advance(5 / 60)  # 5 minutes
                status = c.get("/status").json()["reconciliation"]
                assert status["events_without_effect"]["count"] == 1
                assert status["events_without_effect"]["by_age"] == {
                    "under_1m": 0,
                    "1m_to_10m": 1,
                    "over_10m": 0,
                }
                assert status["outbox_unfinished"]["count"] == 1
                assert status["outbox_unsent"]["count"] == 0
                ready = c.get("/readyz")
                assert ready.status_code == 503
                assert ready.json()["status"] == "degraded"
                assert ready.json()["stale"] == ["events_without_effect", "outbox_unfinished"]
                gauges = _gauges(c.get("/metrics").text)
                assert gauges[("yunshang_events_without_effect", "1m_to_10m")] == 1.0
                assert gauges[("yunshang_outbox_unfinished", "1m_to_10m")] == 1.0
                assert gauges[("yunshang_outbox_unfinished_oldest_seconds", "")] >= 300
                assert gauges[("yunshang_dead_letters_in_broker", "")] == 0.0

                stack.worker = dramatiq.Worker(stack.runtime.broker, worker_threads=2, worker_timeout=100)
                stack.worker.start()
                stack.settle()
                status = c.get("/status").json()["reconciliation"]
                assert status["events_without_effect"]["count"] == 0
                assert status["outbox_unfinished"]["count"] == 0
                assert c.get("/readyz").status_code == 200


@contextmanager
def _database_refusing_connections(url: str) -> Iterator[None]:
    """PostgreSQL stops taking connections to the test database and ends the open ones: to a client
    the database is down."""
    name = make_url(url).database
    admin = create_engine(make_url(url).set(database="postgres"), isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            conn.execute(text(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS false'))
            conn.execute(
                text("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = :n"), {"n": name}
            )
        yield
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS true'))
        admin.dispose()


@pytest.mark.production
def test_with_the_database_down_events_get_503_and_status_one_line(tmp_path: Path) -> None:
    with running_stack("production", tmp_path, clock="system") as stack:
        for api in serve(stack):
            env = {"YUNSHANG_DATABASE_URL": PG_URL, "YUNSHANG_BROKER": REDIS_URL}
            with _database_refusing_connections(PG_URL):
                with api.client(api.admin) as c:
                    r = c.post("/events", json=_event("down-1", "toy.submitted", {"case": "down"}))
                assert r.status_code == 503
                assert r.headers["Retry-After"] == "5"
                assert r.json()["code"] == "unavailable"
                result = CliRunner().invoke(
                    build_app(compose, PLUGINS), ["status"], env={**os.environ, **env}
                )
                assert result.exit_code == 1
                lines = [line for line in result.output.splitlines() if line.strip()]
                assert len(lines) == 1, result.output
                assert lines[0].startswith("error: the database is unreachable (postgresql+psycopg://")
                assert "Traceback" not in result.output
            with api.client(api.admin) as c:  # back: the same event is accepted, once
                r = c.post("/events", json=_event("down-1", "toy.submitted", {"case": "down"}))
                assert r.status_code == 202 and r.json()["status"] == "accepted"
