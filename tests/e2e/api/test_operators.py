"""Tokens on every endpoint; operator queries and audited actions; health and metrics."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from sqlalchemy import select

from tests.e2e.api.conftest import Api, serve
from tests.support import running_stack
from workflows.api.app import create_app
from workflows.intake import tokens
from workflows.store.models import InboxEvent, Outbox

PUBLIC = {"/healthz", "/readyz", "/metrics", "/events/schemas"}


def protected_routes(api: Api) -> list[tuple[str, str]]:
    paths = create_app(api.stack.runtime).openapi()["paths"]
    return [
        (method.upper(), path.replace("{instance_id}", "1").replace("{dead_id}", "1"))
        for path, methods in paths.items()
        if path not in PUBLIC
        for method in methods
    ]


def test_every_endpoint_refuses_missing_revoked_and_out_of_scope_tokens(api: Api) -> None:
    routes = protected_routes(api)
    assert len(routes) >= 10
    rt = api.stack.runtime
    revoked = tokens.create(rt.db, rt.clock, "gone", "admin", ["*"])
    tokens.revoke(rt.db, rt.clock, "gone")
    for method, path in routes:
        for token, expected in ((None, 401), ("ys_wrong", 401), (revoked, 401)):
            with api.client(token) as c:
                assert c.request(method, path, json={}).status_code == expected, (method, path, token)
        if path != "/events":  # a source token is not an operator
            with api.client(api.source) as c:
                assert c.request(method, path, json={}).status_code == 403, (method, path)
    with api.client(api.source) as c:
        ok = c.post(
            "/events",
            json={
                "specversion": "1.0",
                "id": "s1",
                "source": "/s",
                "type": "toy.submitted",
                "data": {"case": "c"},
            },
        )
        denied = c.post(
            "/events",
            json={
                "specversion": "1.0",
                "id": "s2",
                "source": "/s",
                "type": "toy.decided",
                "data": {"case": "c", "decision": "approve"},
            },
        )
        elsewhere = c.post(  # another system's source: its event ids are not this token's to take
            "/events",
            json={
                "specversion": "1.0",
                "id": "s1",
                "source": "/registration",
                "type": "toy.submitted",
                "data": {"case": "c"},
            },
        )
    assert ok.status_code == 202
    assert denied.status_code == 403
    assert "may not emit 'toy.decided'" in denied.json()["errors"][0]["message"]
    assert elsewhere.status_code == 403
    [error] = elsewhere.json()["errors"]
    assert error == {
        "field": "source",
        "message": "token 'test-source' posts as source /s, not '/registration'",
    }
    with api.stack.runtime.db.read() as s:
        stored = [(e.source, e.event_id) for e in s.execute(select(InboxEvent)).scalars()]
    assert stored == [("/s", "s1")]
    with api.client(api.operator) as c:  # an operator token queries but does not emit
        assert c.get("/instances").status_code == 200
        assert (
            c.post(
                "/events",
                json={
                    "specversion": "1.0",
                    "id": "o1",
                    "source": "/s",
                    "type": "toy.submitted",
                    "data": {"case": "o"},
                },
            ).status_code
            == 403
        )


def submit(api: Api, case: str, uscc: str | None = None) -> int:
    data = {"case": case, **({"uscc": uscc} if uscc else {})}
    with api.client(api.admin) as c:
        r = c.post(
            "/events",
            json={"specversion": "1.0", "id": case, "source": "/t", "type": "toy.submitted", "data": data},
        )
    return int(r.json()["instances"][0])


def test_queries_filter_paginate_and_show_the_full_history(api: Api) -> None:
    ids = [submit(api, f"q{i}", "91370212MA3QK7T84W" if i == 0 else None) for i in range(5)]
    with api.client(api.operator) as c:
        page1 = c.get("/instances", params={"flow": "toy", "limit": 2}).json()
        page2 = c.get("/instances", params={"flow": "toy", "limit": 2, "cursor": page1["next_cursor"]}).json()
        page3 = c.get("/instances", params={"flow": "toy", "limit": 2, "cursor": page2["next_cursor"]}).json()
        assert [i["id"] for i in page1["items"] + page2["items"] + page3["items"]] == ids
        assert page3["next_cursor"] is None
        by_subject = c.get("/instances", params={"subject": "91370212MA3QK7T84W"}).json()["items"]
        assert [i["id"] for i in by_subject] == [ids[0]]
        assert c.get("/instances", params={"overdue": True}).json()["items"] == []
        api.stack.advance(3)
        api.stack.runtime.sweeper.sweep()
        api.stack.settle()
        overdue = c.get("/instances", params={"state": "escalated"}).json()["items"]
        assert len(overdue) == 5
        detail = c.get(f"/instances/{ids[0]}").json()
        assert detail["state"] == "escalated"
        assert [h["trigger"] for h in detail["history"]] == ["start", "review_deadline_passed"]
        assert detail["history"][1]["cause"]["kind"] == "timer"
        assert detail["timers"][0]["status"] == "fired"
        assert c.get("/instances/999999").status_code == 404
        naive = c.get("/instances", params={"due_before": "2026-01-01T00:00:00"})
        assert naive.status_code == 422
        tasks = c.get("/tasks", params={"flow": "toy"}).json()["items"]
        assert len(tasks) == 5


def test_operator_actions_are_audited_and_refusals_explained(api: Api) -> None:
    iid = submit(api, "act")
    with api.client(api.operator) as c:
        missing = c.post(f"/instances/{iid}/cancel", json={})
        assert missing.status_code == 422
        assert missing.json()["code"] == "bad_input"  # the project's error body, not FastAPI's
        assert [e["field"] for e in missing.json()["errors"]] == ["body.reason"]
        done = c.post(f"/instances/{iid}/cancel", json={"reason": "duplicate registration"})
        assert done.json() == {"status": "applied", "state": "cancelled"}
        again = c.post(f"/instances/{iid}/cancel", json={"reason": "twice"})
        assert again.status_code == 409
        assert set(again.json()) == {"code", "detail", "errors"}
        assert again.json()["code"] == "rejected"
        for named in ("not allowed in state 'cancelled'", f"#{iid}", "'cancel'"):  # reason, id, trigger
            assert named in again.json()["detail"]
        reroute = c.post(f"/instances/{iid}/reroute", json={"reason": "r", "department": "WJW"})
        assert reroute.status_code == 422  # the toy flow has no reroute trigger
        history = c.get(f"/instances/{iid}").json()["history"]
    cancel = [h for h in history if h["trigger"] == "cancel"]
    assert cancel[0]["cause"] == {"kind": "operator", "id": None, "operator": "test-operator"}
    assert cancel[0]["reason"] == "duplicate registration"
    assert cancel[1]["outcome"] == "rejected"


def test_clock_advance_and_dead_letters_through_the_api(api: Api) -> None:
    with api.client(api.operator) as c:
        assert c.post("/clock/advance", json={"by": "49h"}).status_code == 200
        assert c.post("/clock/advance", json={"by": "soon"}).status_code == 422
        engine = api.stack.runtime.engine
        from workflows.engine.commands import Cause

        with api.stack.runtime.transaction() as session:
            engine.enqueue(
                session,
                engine.command(
                    "toy",
                    "decide",
                    cause=Cause(kind="event", id="x"),
                    dedupe_key="x",
                    payload={"decision": "approve"},
                    business_key="later",
                ),
            )
        from tests.support import wait_until

        wait_until(lambda: len(c.get("/deadletters").json()) == 1, what="a dead letter")
        (dead,) = c.get("/deadletters").json()
        assert "no toy instance with business key 'later'" in dead["error"]
        submit(api, "later")
        assert (
            c.post(f"/deadletters/{dead['id']}/requeue", json={"reason": "case arrived"}).status_code == 200
        )
        api.stack.settle()
        assert c.get("/deadletters").json() == []
        (audited,) = c.get("/deadletters", params={"include_requeued": "true"}).json()
        assert (audited["id"], audited["requeued_by"], audited["requeue_reason"]) == (
            dead["id"],
            "test-operator",
            "case arrived",
        )
        assert audited["requeued_at"] >= dead["failed_at"]
        assert c.post(f"/deadletters/{dead['id']}/requeue", json={"reason": "again"}).status_code == 404
        (still,) = c.get("/deadletters", params={"include_requeued": "true"}).json()
        assert still["requeue_reason"] == "case arrived"  # a refused second requeue changes nothing
    with api.stack.runtime.db.read() as s:
        assert s.get(Outbox, dead["message_id"]).done_at is not None  # type: ignore[union-attr]


def test_clock_advance_refused_on_the_system_clock(tmp_path: Path) -> None:
    with running_stack("embedded", tmp_path, clock="system") as stack:
        for api in serve(stack):
            with api.client(api.operator) as c:
                r = c.post("/clock/advance", json={"by": "1h"})
            assert r.status_code == 409
            assert "YUNSHANG_CLOCK=simulated" in r.json()["detail"]


def test_metrics_label_values_are_only_known_types_and_bound_sources(api: Api) -> None:
    event = {"specversion": "1.0", "id": "k1", "source": "/s", "type": "toy.submitted", "data": {"case": "k"}}
    with api.client(api.source) as c:
        assert c.post("/events", json=event).status_code == 202
    with api.client(api.admin) as c:
        for i in range(5):
            odd = {**event, "id": f"odd-{i}", "source": f"/random/{i}", "type": f"made.up.{i}"}
            assert c.post("/events", json=odd).status_code == 422
    with api.client(None) as c:
        text = c.get("/metrics").text
    lines = [line for line in text.splitlines() if line.startswith("yunshang_events_total{")]
    assert 'yunshang_events_total{source="/s",status="accepted",type="toy.submitted"} 1.0' in lines
    assert 'yunshang_events_total{source="other",status="rejected",type="other"} 5.0' in lines
    assert not any("/random/" in line or "made.up" in line for line in lines)


def test_health_readiness_and_metrics(api: Api) -> None:
    submit(api, "m1")
    with api.client(None) as c:
        assert c.get("/healthz").json() == {"status": "alive"}
        ready = c.get("/readyz")
        assert ready.status_code == 200
        body = ready.json()
        assert {k: body[k] for k in ("ready", "status", "database", "broker", "stale")} == {
            "ready": True,
            "status": "ok",
            "database": "ok",
            "broker": "ok",
            "stale": [],
        }
        assert body["reconciliation"]["events_without_effect"]["count"] == 0  # the start was applied
        text = c.get("/metrics").text
        # label values are known ones only: the admin's ad-hoc source, an unknown type → other
        assert 'yunshang_events_total{source="other",status="accepted",type="toy.submitted"} 1.0' in text
        assert 'yunshang_transitions_total{flow="toy",outcome="applied",trigger="start"} 1.0' in text
        assert 'yunshang_timers{status="armed"} 1.0' in text
        assert "yunshang_outbox_lag_seconds" in text
        assert "yunshang_dead_letters 0.0" in text
        schemas = c.get("/events/schemas").json()
        assert set(schemas) >= {"toy.submitted", "toy.decided"}
        assert schemas["toy.decided"]["properties"]["decision"]["pattern"] == "^(approve|reject)$"


@pytest.mark.parametrize("path", ["/docs", "/openapi.json"])
def test_openapi_is_served(api: Api, path: str) -> None:
    with api.client(None) as c:
        assert c.get(path).status_code == 200


@pytest.mark.parametrize("path", ["/docs", "/redoc"])
def test_the_docs_pages_load_only_local_assets(api: Api, path: str) -> None:
    with api.client(None) as c:
        page = c.get(path)
        assert page.status_code == 200
        assets = re.findall(r'(?:src|href)="([^"]+)"', page.text)
        assert assets and all(a.startswith("/static/") for a in assets), assets
        assert "cdn" not in page.text and "fonts.googleapis" not in page.text
        for asset in assets:
            served = c.get(asset)
            assert served.status_code == 200 and len(served.content) > 500, asset
