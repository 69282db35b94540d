"""POST /events from the official CloudEvents SDK in both content modes, and the limits that protect
the front door from hostile bodies: size (413), nesting (422, the connection kept), extension values."""

from __future__ import annotations

import socket
import warnings
from typing import Any

import httpx
from cloudevents.core.bindings.http import to_binary_event, to_structured_event
from cloudevents.core.v1.event import CloudEvent
from sqlalchemy import select

from tests.e2e.api.conftest import Api
from tests.e2e.api.test_events import counts
from workflows.store.models import InboxEvent

SOURCE = "/registration"


def sdk_event(i: str, **attributes: Any) -> CloudEvent:
    base = {"type": "toy.submitted", "source": SOURCE, "id": i, "specversion": "1.0"}
    return CloudEvent({**base, "datacontenttype": "application/json", **attributes}, {"case": f"案件-{i}"})


def post(api: Api, headers: dict[str, str], body: bytes) -> httpx.Response:
    with api.client(api.admin) as c:
        return c.post("/events", content=body, headers=headers)


def test_the_sdk_in_binary_and_structured_mode_is_accepted_once_each(api: Api) -> None:
    binary = to_binary_event(sdk_event("b1", subject="中文主题", tenant="laoshan"))
    assert any(name.startswith("ce-") for name in binary.headers) and "ce-data" not in binary.headers
    first = post(api, dict(binary.headers), binary.body)
    again = post(api, dict(binary.headers), binary.body)
    assert (first.status_code, first.json()["status"], first.json()["result"]) == (202, "accepted", "started")
    assert (again.status_code, again.json()["status"]) == (202, "duplicate")
    structured = to_structured_event(sdk_event("s1"))
    assert structured.headers["content-type"] == "application/cloudevents+json"
    answer = post(api, dict(structured.headers), structured.body)
    assert (answer.status_code, answer.json()["status"]) == (202, "accepted")
    with api.stack.runtime.db.read() as s:
        stored = {e.event_id: e for e in s.execute(select(InboxEvent)).scalars()}
    assert set(stored) == {"b1", "s1"}
    assert stored["b1"].subject == "中文主题"  # percent-encoded in the header, decoded
    assert stored["b1"].data["case"] == "案件-b1"


def test_the_deprecated_v1_sdk_binary_mode_without_a_content_type_is_json(api: Api) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        from cloudevents.v1.http import CloudEvent as V1Event
        from cloudevents.v1.http import to_binary

        headers, body = to_binary(
            V1Event({"type": "toy.submitted", "source": SOURCE, "id": "v1"}, {"case": "v1"})
        )
    assert "content-type" not in {k.lower() for k in headers}
    answer = post(api, dict(headers), body)
    assert (answer.status_code, answer.json()["status"]) == (202, "accepted")


def test_binary_mode_with_non_json_data_or_a_ce_data_header_is_refused_and_nothing_stored(api: Api) -> None:
    before = counts(api)
    headers = {"ce-specversion": "1.0", "ce-id": "t1", "ce-source": SOURCE, "ce-type": "toy.submitted"}
    text = post(api, {**headers, "Content-Type": "text/plain"}, b"case=1")
    assert text.status_code == 415 and "binary-mode data is JSON" in text.json()["detail"]
    smuggled = post(api, {**headers, "ce-data": "{}", "Content-Type": "application/json"}, b"{}")
    assert smuggled.status_code == 422 and "ce-data" in smuggled.json()["detail"]
    assert counts(api) == before


def test_a_body_over_the_limit_is_refused_413_by_length_and_while_streaming(api: Api) -> None:
    limit = api.stack.runtime.settings.max_body_bytes
    before = counts(api)
    big = b'{"specversion": "1.0", "pad": "' + b"x" * limit + b'"}'
    declared = post(api, {"Content-Type": "application/json"}, big)
    assert declared.status_code == 413 and f"{limit:,}" in declared.json()["detail"]

    def chunks() -> Any:
        for _ in range(limit // 65536 + 2):
            yield b" " * 65536

    with api.client(api.admin) as c:
        streamed = c.post("/events", content=chunks(), headers={"Content-Type": "application/json"})
    assert streamed.status_code == 413
    assert counts(api) == before


def test_a_deeply_nested_body_is_refused_and_the_connection_serves_the_next_request(api: Api) -> None:
    before = counts(api)
    depth = api.stack.runtime.settings.max_json_depth
    hostile = b"[" * 10_000 + b"]" * 10_000
    ok_event = b'{"specversion":"1.0","id":"after","source":"/registration","type":"toy.submitted","data":{"case":"c"}}'
    host, port = api.url.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port))) as conn:  # one keep-alive connection for both
        conn.settimeout(10)
        for body in (hostile, ok_event):
            conn.sendall(
                b"POST /events HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                + f"Authorization: Bearer {api.admin}\r\nContent-Length: {len(body)}\r\n\r\n".encode()
                + body
            )
        reply = b""
        while reply.count(b"HTTP/1.1 ") < 2 or not reply.rstrip().endswith(b"}"):
            part = conn.recv(65536)
            if not part:
                break
            reply += part
    first, second = reply.split(b"HTTP/1.1 ")[1:3]
    assert first.startswith(b"422") and f"at most {depth}".encode() in first
    assert second.startswith(b"202") and b'"accepted"' in second
    assert counts(api)["inbox"] == before["inbox"] + 1


def test_an_extension_attribute_holding_an_object_is_refused_naming_it(api: Api) -> None:
    before = counts(api)
    event = {
        "specversion": "1.0",
        "id": "x1",
        "source": SOURCE,
        "type": "toy.submitted",
        "data": {"case": "c"},
    }
    with api.client(api.admin) as c:
        nested = c.post("/events", json={**event, "traceparent": {"a": 1}})
        scalar = c.post("/events", json={**event, "id": "x2", "traceparent": "00-abc-01", "priority": 3})
    assert nested.status_code == 422
    assert "extension attribute 'traceparent'" in nested.json()["errors"][0]["message"]
    assert scalar.status_code == 202
    assert counts(api)["inbox"] == before["inbox"] + 1


def test_too_many_or_too_large_headers_are_refused_431(api: Api) -> None:
    settings = api.stack.runtime.settings
    before = counts(api)
    event = {
        "specversion": "1.0",
        "id": "h1",
        "source": SOURCE,
        "type": "toy.submitted",
        "data": {"case": "c"},
    }
    with api.client(api.admin) as c:
        many = c.post(
            "/events", json=event, headers={f"x-pad-{i}": "1" for i in range(settings.max_header_count)}
        )
        large = c.post("/events", json=event, headers={"x-pad": "x" * settings.max_header_bytes})
        fine = c.post("/events", json=event, headers={"x-pad": "x" * 100})
    assert (many.status_code, many.json()["code"]) == (431, "headers_too_large")
    assert large.status_code == 431 and f"{settings.max_header_bytes:,} bytes" in large.json()["detail"]
    assert fine.status_code == 202
    assert counts(api)["inbox"] == before["inbox"] + 1
