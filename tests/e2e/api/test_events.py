"""POST /events on both stacks: acceptance, duplicates (also concurrent), batches, bad input."""

from __future__ import annotations

import json
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from sqlalchemy import func, select

from tests.e2e.api.conftest import Api
from workflows.engine.rows import commands_in
from workflows.store.models import Base, InboxEvent, Instance, Outbox

BATCH = {"Content-Type": "application/cloudevents-batch+json"}


def event(i: str, etype: str = "toy.submitted", **data: Any) -> dict[str, Any]:
    return {
        "specversion": "1.0",
        "id": i,
        "source": "/registration",
        "type": etype,
        "data": data or {"case": f"case-{i}"},
    }


def counts(api: Api) -> dict[str, int]:
    with api.stack.runtime.db.read() as s:
        return {
            t.name: s.execute(select(func.count()).select_from(t)).scalar_one()
            for t in Base.metadata.sorted_tables
        }


def test_an_event_is_accepted_once_and_a_duplicate_has_no_second_effect(api: Api) -> None:
    with api.client(api.admin) as c:
        first = c.post("/events", json=event("e1"), headers={"Content-Type": "application/cloudevents+json"})
        again = c.post("/events", json=event("e1"))
    assert first.status_code == 202
    assert first.json()["status"] == "accepted"
    assert first.json()["result"] == "started"
    assert again.status_code == 202
    assert again.json()["status"] == "duplicate"
    with api.stack.runtime.db.read() as s:
        assert s.execute(select(func.count()).select_from(Instance)).scalar_one() == 1
        assert s.execute(select(func.count()).select_from(InboxEvent)).scalar_one() == 1


def test_twenty_concurrent_copies_make_one_effect(api: Api) -> None:
    def post(_: int) -> str:
        with api.client(api.admin) as c:
            return str(c.post("/events", json=event("same", case="racing")).json()["status"])

    with ThreadPoolExecutor(20) as pool:
        statuses = sorted(pool.map(post, range(20)))
    assert statuses.count("accepted") == 1
    assert statuses.count("duplicate") == 19
    with api.stack.runtime.db.read() as s:
        assert s.execute(select(func.count()).select_from(Instance)).scalar_one() == 1
        assert s.execute(select(func.count()).select_from(InboxEvent)).scalar_one() == 1


def test_a_batch_reports_each_event_and_applies_only_the_good_ones(api: Api) -> None:
    with api.client(api.admin) as c:
        assert c.post("/events", json=event("old")).json()["status"] == "accepted"
        before = counts(api)
        batch = [
            event("b1"),
            event("b2", "toy.decided", case="case-old", decision="maybe"),  # invalid data
            event("old"),  # duplicate
            {"specversion": "0.3", "id": "b4", "source": "/registration", "type": "toy.submitted"},
            event("b5", "toy.decided", case="no-such-case", decision="approve"),  # unknown case
            event("b6", "no.such.type"),
            event("b7", "toy.decided", case="case-old", decision="approve"),
            "not an object",
        ]
        response = c.post("/events", json=batch, headers=BATCH)
    assert response.status_code == 202
    results = response.json()
    assert [r["status"] for r in results] == [
        "accepted",
        "rejected",
        "duplicate",
        "rejected",
        "rejected",
        "rejected",
        "accepted",
        "rejected",
    ]
    assert results[1]["errors"][0]["field"] == "data.decision"
    assert results[3]["errors"][0]["field"] == "specversion"
    assert results[4]["errors"] == [
        {"field": "data.case", "message": "no toy case 'no-such-case'; send toy.submitted first"}
    ]
    assert results[5]["errors"][0]["field"] == "type"
    assert "unknown event type 'no.such.type'" in results[5]["errors"][0]["message"]
    assert results[7]["errors"][0]["field"] == "event"
    after = counts(api)
    assert after["inbox"] == before["inbox"] + 2  # b1 and b7 only
    assert after["instances"] == before["instances"] + 1
    api.stack.settle()
    with api.stack.runtime.db.read() as s:
        state = s.execute(select(Instance.state).where(Instance.business_key == "case-old")).scalar_one()
    assert state == "decided"


def test_invalid_single_events_name_the_field_and_change_nothing(api: Api) -> None:
    with api.client(api.admin) as c:
        before = counts(api)
        cases = [
            (event("u1", uscc="91370212MA3QK7T84", case="x"), "data.uscc", "18 characters"),
            (event("u2", uscc="91370212MA3QK7T84I", case="x"), "data.uscc", "found 'I'"),
            (event("u3", case=""), "data.case", "at least 1 character"),
            (event("u4", case="x", extra=1), "data.extra", "Extra inputs"),
            ({"specversion": "1.0", "source": "/s", "type": "toy.submitted"}, "id", "Field required"),
        ]
        for body, field, words in cases:
            r = c.post("/events", json=body)
            assert r.status_code == 422, body
            (error,) = r.json()["errors"]
            assert error["field"] == field
            assert words in error["message"]
        bad_json = c.post("/events", content=b"{not json", headers={"Content-Type": "application/json"})
        assert bad_json.status_code == 422
        assert "not JSON" in bad_json.json()["detail"]
        for constant in ("NaN", "Infinity", "-Infinity"):  # Python's parser takes them; JSON does not
            text = json.dumps(event(f"n-{constant}", case="x")).replace('"x"', constant)
            r = c.post("/events", content=text.encode(), headers={"Content-Type": "application/json"})
            assert r.status_code == 422, constant
            assert f"{constant} is not a JSON number" in r.json()["detail"]
    assert counts(api) == before


def test_a_failed_check_character_is_a_warning_recorded_on_the_event(api: Api) -> None:
    with api.client(api.admin) as c:
        r = c.post("/events", json=event("w1", case="w", uscc="91370212MA3QK7T84X"))
    assert r.status_code == 202
    assert r.json()["warnings"] == [
        "data.uscc: USCC 91370212MA3QK7T84X fails its check character (expected W, found X)"
    ]
    with api.stack.runtime.db.read() as s:
        stored = s.execute(select(InboxEvent.warnings)).scalar_one()
    assert stored == r.json()["warnings"]
    # and on the instance the event started, with the event record
    api.stack.settle()
    with api.client(api.operator) as c:
        [item] = c.get("/instances", params={"flow": "toy"}).json()["items"]
        detail = c.get(f"/instances/{item['id']}").json()
    assert detail["warnings"] == r.json()["warnings"]
    [record] = detail["events"]
    assert (record["source"], record["id"], record["warnings"]) == (
        "/registration",
        "w1",
        r.json()["warnings"],
    )


def test_a_batch_over_the_limit_is_refused_whole(api: Api) -> None:
    with api.client(api.admin) as c:
        r = c.post("/events", json=[event(f"x{i}") for i in range(1001)], headers=BATCH)
    assert r.status_code == 422
    assert "at most 1000 events" in r.json()["detail"]
    assert counts(api)["inbox"] == 0


def test_the_same_event_twice_in_one_batch_applies_once(api: Api) -> None:
    with api.client(api.admin) as c:
        r = c.post("/events", json=[event("twin"), event("twin"), event("other")], headers=BATCH)
    assert [s["status"] for s in r.json()] == ["accepted", "duplicate", "accepted"]
    assert counts(api)["inbox"] == 2
    assert counts(api)["instances"] == 2


def test_nul_characters_are_refused_with_the_place_named_and_nothing_stored(api: Api) -> None:
    before = counts(api)
    with api.client(api.admin) as c:
        in_query = c.get("/instances", params={"flow": "toy\x00"})
        in_path = c.get("/instances/1%00")
        in_data = c.post("/events", json=event("nul-1", case="a\x00b"))
        clean = c.get("/instances", params={"flow": "toy"})
    assert (in_query.status_code, in_query.json()["code"]) == (422, "bad_input")
    assert "NUL" in in_query.json()["detail"]
    assert in_path.status_code == 422 and "NUL" in in_path.json()["detail"]
    assert in_data.status_code == 422
    assert in_data.json()["errors"] == [
        {"field": "data.case", "message": "NUL characters (\\u0000) are not allowed"}
    ]
    assert clean.status_code == 200  # the check passes ordinary requests through
    assert counts(api) == before


def test_a_batch_of_events_sends_its_commands_in_one_message_per_flow(api: Api) -> None:
    with api.client(api.admin) as c:
        c.post("/events", json=[event(f"s{i}") for i in range(3)], headers=BATCH)
        decided = [event(f"d{i}", "toy.decided", case=f"case-s{i}", decision="approve") for i in range(3)]
        response = c.post("/events", json=decided, headers=BATCH)
    assert [r["status"] for r in response.json()] == ["accepted"] * 3
    api.stack.settle()
    with api.stack.runtime.db.read() as s:
        messages = s.execute(select(Outbox).where(Outbox.queue == "toy")).scalars().all()
        states = s.execute(select(Instance.business_key, Instance.state).order_by(Instance.id)).all()
    (message,) = messages  # three commands, one message, one worker transaction
    assert message.actor == "toy.advance_many" and message.done_at is not None
    assert [c["dedupe_key"] for c in commands_in(message.message)] == [
        f"event:/registration#d{i}" for i in range(3)
    ]
    assert [tuple(row) for row in states] == [(f"case-s{i}", "decided") for i in range(3)]


def test_a_body_in_another_media_type_or_none_is_refused_415_and_nothing_stored(api: Api) -> None:
    before = counts(api)
    body = json.dumps(event("m1")).encode()
    with api.client(api.admin) as c:
        for headers in ({"Content-Type": "text/plain"}, {}, {"Content-Type": "application/xml"}):
            r = c.post("/events", content=body, headers=headers)
            assert r.status_code == 415, headers
            assert r.json()["code"] == "unsupported_media_type"
            assert "application/cloudevents+json" in r.json()["detail"]
        assert "no Content-Type" in c.post("/events", content=body).json()["detail"]
        # with parameters and in any case, the accepted types are accepted
        ok = c.post(
            "/events", content=body, headers={"Content-Type": "Application/CloudEvents+JSON; charset=utf-8"}
        )
        assert ok.status_code == 202
    after = counts(api)
    assert after["inbox"] == before["inbox"] + 1  # only the last one


def test_an_array_in_structured_mode_and_an_empty_batch_are_refused_naming_why(api: Api) -> None:
    before = counts(api)
    with api.client(api.admin) as c:
        r = c.post("/events", json=[event("a1")], headers={"Content-Type": "application/cloudevents+json"})
        assert r.status_code == 422
        assert r.json()["code"] == "bad_event"
        assert "application/cloudevents-batch+json" in r.json()["detail"]
        empty = c.post("/events", json=[], headers=BATCH)
        assert empty.status_code == 422
        assert empty.json() == {"code": "bad_batch", "detail": "the batch is empty: send 1 to 1,000 events"}
    assert counts(api) == before
