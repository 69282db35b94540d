"""A batch of department events (``application/cloudevents-batch+json``): the plug-in's prefetch loads
the notices the batch names by id in one query, and every event still gets what it would get alone —
its notice claimed, or a refusal naming ``data.notice`` that leaves nothing while the others apply."""

from __future__ import annotations

from typing import Any

from tests.e2e.flows.dual_notification.conftest import E2E, cloudevent, event_id
from tests.support import statements
from workflows import uscc

BATCH = {"Content-Type": "application/cloudevents-batch+json"}


def _post(e2e: E2E, events: list[dict[str, Any]]) -> list[dict[str, Any]]:
    response = e2e.http.post("/events", json=events, headers=BATCH)
    assert response.status_code == 202, response.text
    answer: list[dict[str, Any]] = response.json()
    return answer


def _claim(e2e: E2E, notice: int) -> dict[str, Any]:
    data = {"notice": notice, "officer": "王伟", "claimed_at": e2e.now().isoformat()}
    return cloudevent("notice.claimed", data, id=event_id("claim"), source="/departments/app")


def test_a_batch_of_claims_loads_its_notices_in_one_query_and_each_is_claimed(e2e: E2E) -> None:
    codes = [uscc.make(f"9137021200002{n:03d}X") for n in range(6)]
    for n, code in enumerate(codes):
        e2e.license(code, f"青岛崂山{n}餐饮管理有限公司", "餐饮服务")
    e2e.stack.settle()
    notices = [item["id"] for item in e2e.instances(flow="dual_notification", state="awaiting_claim")]
    assert len(notices) == len(codes)

    with statements(e2e.stack) as sql:
        answers = _post(e2e, [_claim(e2e, n) for n in notices[:4]])
    assert [a["status"] for a in answers] == ["accepted"] * 4
    # the batch's notices in one query, none asked for one by one (the embedded stack's in-process
    # worker may already lock the claimed notices meanwhile: its statement names business keys too)
    loads = [s for s in sql if "FROM instances" in s and "business_key IN" not in s]
    assert len(loads) == 1 and "instances.id IN" in loads[0], loads
    e2e.stack.settle()
    assert [e2e.instance(n)["state"] for n in notices[:4]] == ["claimed"] * 4

    # a refused claim in a batch: named, nothing of it kept, the others still claimed
    registration = e2e.instances(flow="license_registration")[0]["id"]  # an instance, not a notice
    before = e2e.instance(registration)
    refused = _post(e2e, [_claim(e2e, notices[4]), _claim(e2e, 999999), _claim(e2e, registration)])
    assert [a["status"] for a in refused] == ["accepted", "rejected", "rejected"]
    assert [a["errors"][0]["field"] for a in refused[1:]] == ["data.notice", "data.notice"]
    e2e.stack.settle()
    assert e2e.instance(notices[4])["state"] == "claimed"
    assert e2e.instance(notices[5])["state"] == "awaiting_claim"
    after = e2e.instance(registration)
    assert (after["state"], after["history"]) == (before["state"], before["history"])
