"""Bulk actions through the JSON API: the dry run freezes the matching ids, the apply acts on that set
once (409 after), a blank reason names the field and changes nothing, a scoped token is refused."""

from __future__ import annotations

from tests.e2e.api.conftest import Api
from tests.e2e.api.test_operators import submit
from workflows.intake import tokens


def test_dry_run_then_apply_once_through_the_api(api: Api) -> None:
    frozen = [submit(api, f"bulk-{n}") for n in range(3)]
    with api.client(api.operator) as c:
        blank = c.post("/bulk", json={"action": "cancel", "flow": "toy", "reason": "  "})
        assert blank.status_code == 422
        assert [e["field"] for e in blank.json()["errors"]] == ["reason"]
        unknown = c.post("/bulk", json={"action": "cancel", "flow": "nope", "reason": "r"})
        assert [e["field"] for e in unknown.json()["errors"]] == ["flow"]
        made = c.post("/bulk", json={"action": "cancel", "flow": "toy", "reason": "duplicates"})
        assert made.status_code == 201, made.text
        chosen = made.json()
        assert (chosen["id"], chosen["count"], chosen["instance_ids"]) == (1, 3, frozen)
        assert chosen["applied_at"] is None and chosen["created_by"] == "test-operator"
        newcomer = submit(api, "bulk-late")
        assert c.post("/bulk/1/apply", json={"reason": " "}).status_code == 422
        assert c.get("/bulk/1").json()["applied_at"] is None
        done = c.post("/bulk/1/apply", json={"reason": "duplicates, confirmed"})
        assert done.status_code == 200, done.text
        result = done.json()["result"]
        assert (result["applied"], result["skipped"]) == (3, 0)
        assert [i["id"] for i in result["items"]] == frozen
        again = c.post("/bulk/1/apply", json={"reason": "twice"})
        assert again.status_code == 409
        assert again.json()["code"] == "bulk_already_applied"
        for iid in frozen:
            (cancel,) = [h for h in c.get(f"/instances/{iid}").json()["history"] if h["trigger"] == "cancel"]
            assert (cancel["cause"]["operator"], cancel["reason"]) == (
                "test-operator",
                "duplicates, confirmed",
            )
        assert c.get(f"/instances/{newcomer}").json()["state"] == "awaiting_review"
        assert c.get("/bulk/2").status_code == 404
    rt = api.stack.runtime
    scoped = tokens.create(rt.db, rt.clock, "bulk-wjj", "operator", department="WJJ")
    with api.client(scoped) as c:
        refused = c.post("/bulk", json={"action": "cancel", "flow": "toy", "reason": "mine"})
        assert refused.status_code == 403
        assert "scoped to department WJJ" in refused.json()["detail"]


def test_bulk_suspend_and_resume_the_clocks(api: Api) -> None:
    ids = [submit(api, f"clock-{n}") for n in range(2)]
    with api.client(api.operator) as c:
        assert c.post(f"/instances/{ids[1]}/suspend", json={"reason": "one already"}).status_code == 200
        made = c.post("/bulk", json={"action": "suspend", "flow": "toy", "reason": "延期 approved"}).json()
        result = c.post(f"/bulk/{made['id']}/apply", json={"reason": "延期 approved"}).json()["result"]
        assert (result["applied"], result["skipped"]) == (1, 1)
        (skipped,) = [i for i in result["items"] if i["status"] == "skipped"]
        assert skipped["id"] == ids[1] and "suspended already" in skipped["detail"]
        timers = c.get(f"/instances/{ids[0]}").json()["timers"]
        assert [t["status"] for t in timers] == ["suspended"]
        made = c.post("/bulk", json={"action": "resume", "flow": "toy", "reason": "extension over"}).json()
        result = c.post(f"/bulk/{made['id']}/apply", json={"reason": "extension over"}).json()["result"]
        assert (result["applied"], result["skipped"]) == (2, 0)
        history = c.get(f"/instances/{ids[0]}").json()["history"]
    entries = [
        (h["trigger"], h["cause"]["operator"], h["reason"])
        for h in history
        if h["cause"]["kind"] == "operator"
    ]
    assert entries == [
        ("timer_suspended", "test-operator", "延期 approved"),
        ("timer_resumed", "test-operator", "extension over"),
    ]


def test_a_nul_character_in_any_text_is_a_422_naming_the_field_and_writes_nothing(api: Api) -> None:
    """PostgreSQL keeps no NUL in a text column: once a 500 from `POST /bulk` (found by schemathesis)."""
    iid = submit(api, "nul-1")
    with api.client(api.operator) as c:
        for path, body, field in (
            ("/bulk", {"action": "suspend", "flow": "toy", "reason": "a\x00b"}, "reason"),
            ("/bulk", {"action": "cancel", "street": "中韩\x00", "reason": "r"}, "street"),
            (f"/instances/{iid}/cancel", {"reason": "\x00"}, "reason"),
            (f"/instances/{iid}/suspend", {"reason": "ok", "timer": "t\x00"}, "timer"),
        ):
            refused = c.post(path, json=body)
            assert refused.status_code == 422, (path, refused.text)
            assert [e["field"] for e in refused.json()["errors"]] == [f"body.{field}"], refused.json()
            assert "NUL characters" in refused.json()["errors"][0]["message"]
        assert c.get("/bulk/1").status_code == 404  # no selection was frozen
        detail = c.get(f"/instances/{iid}").json()
        assert detail["state"] == "awaiting_review"
        assert [h["trigger"] for h in detail["history"] if h["trigger"] in ("cancel", "suspend")] == []


def test_an_interrupted_apply_is_resumed_and_does_nothing_twice(api: Api) -> None:
    from datetime import timedelta

    from workflows.queries.bulk import STALE, claim, record_result
    from workflows.queries.bulk_apply import _Action

    rt = api.stack.runtime
    ids = [submit(api, f"resume-{n}") for n in range(3)]
    with api.client(api.operator) as c:
        made = c.post("/bulk", json={"action": "cancel", "flow": "toy", "reason": "duplicates"}).json()
        # the first apply claims the selection, cancels the first instance, and its process dies
        chosen, resumed = claim(rt.db, rt.clock, made["id"], "first-operator")
        assert resumed is None
        (done,) = _Action(rt, chosen, "first-operator", "duplicates").chunk(ids[:1])
        assert done.status == "applied"
        busy = c.post(f"/bulk/{made['id']}/apply", json={"reason": "finish it"})
        assert busy.status_code == 409 and "is being applied" in busy.json()["detail"]
        api.stack.clock.advance(STALE + timedelta(seconds=1))
        finished = c.post(f"/bulk/{made['id']}/apply", json={"reason": "finish it"})
        assert finished.status_code == 200, finished.text
        result = finished.json()["result"]
        assert chosen.applied_at is not None
        assert result["resumed_from"] == chosen.applied_at.isoformat()
        assert (result["applied"], result["skipped"]) == (2, 1)
        assert [(i["id"], i["status"]) for i in result["items"]] == [
            (ids[0], "skipped"),
            (ids[1], "applied"),
            (ids[2], "applied"),
        ]
        assert "already done" in result["items"][0]["detail"]
        for iid in ids:  # each cancelled exactly once
            history = c.get(f"/instances/{iid}").json()["history"]
            assert [h["trigger"] for h in history].count("cancel") == 1
        again = c.post(f"/bulk/{made['id']}/apply", json={"reason": "thrice"})
        assert again.status_code == 409 and "applied already" in again.json()["detail"]
        # an apply that stopped on an error (the database went away) may be resumed at once
        late = submit(api, "resume-late")
        other = c.post("/bulk", json={"action": "cancel", "flow": "toy", "open_only": True, "reason": "r"})
        assert other.json()["instance_ids"] == [late]
        taken, _ = claim(rt.db, rt.clock, other.json()["id"], "first-operator")
        record_result(rt.db, taken.id, {"applied": 0, "skipped": 0, "items": [], "error": "stopped"})
        resumed_now = c.post(f"/bulk/{taken.id}/apply", json={"reason": "again"})
        assert resumed_now.status_code == 200, resumed_now.text
        assert resumed_now.json()["result"]["applied"] == 1
        assert c.get(f"/instances/{late}").json()["state"] == "cancelled"
