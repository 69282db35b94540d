"""The operator's suspend and resume through the API: audited, shown on the instance, refusals with
the project's error body naming the field (``POST /instances/{id}/suspend`` and ``/resume``)."""

from __future__ import annotations

from datetime import datetime, timedelta

from tests.e2e.api.conftest import Api
from tests.e2e.api.test_operators import submit


def test_suspend_and_resume_through_the_api(api: Api) -> None:
    iid = submit(api, "clock")
    with api.client(api.operator) as c:
        armed = c.get(f"/instances/{iid}").json()
        assert armed["timers"][0]["status"] == "armed" and armed["next_due"] is not None
        wrong = c.post(f"/instances/{iid}/resume", json={"reason": "r"})
        assert wrong.status_code == 409
        assert wrong.json()["code"] == "timer_conflict"
        assert [e["field"] for e in wrong.json()["errors"]] == ["timer"]
        assert "armed, not suspended" in wrong.json()["detail"]
        unknown = c.post(f"/instances/{iid}/suspend", json={"reason": "r", "timer": "nope"})
        assert (unknown.status_code, [e["field"] for e in unknown.json()["errors"]]) == (422, ["timer"])
        missing = c.post(f"/instances/{iid}/suspend", json={})
        assert [e["field"] for e in missing.json()["errors"]] == ["body.reason"]
        assert c.post("/instances/999999/suspend", json={"reason": "r"}).status_code == 404

        headers = {"Idempotency-Key": "ext-1"}
        done = c.post(f"/instances/{iid}/suspend", json={"reason": "延期 approved"}, headers=headers)
        assert done.status_code == 200 and done.json()["status"] == "applied"
        again = c.post(f"/instances/{iid}/suspend", json={"reason": "延期 approved"}, headers=headers)
        assert again.json()["status"] == "duplicate"
        held = c.get(f"/instances/{iid}").json()
        (timer,) = held["timers"]
        assert (timer["status"], held["next_due"]) == ("suspended", None)
        assert timer["remaining"].startswith("1h 59m") or timer["remaining"] == "2h"

        assert c.post("/clock/advance", json={"by": "5h"}).status_code == 200
        back = c.post(f"/instances/{iid}/resume", json={"reason": "延期届满"})
        assert back.status_code == 200
        (resumed,) = back.json()["timers"]
        due = datetime.fromisoformat(resumed["due_at"])
        history = c.get(f"/instances/{iid}").json()["history"]
    now = api.stack.runtime.clock.now()
    assert now + timedelta(hours=1, minutes=58) < due <= now + timedelta(hours=2)
    ledger = [h for h in history if h["trigger"] in ("timer_suspended", "timer_resumed")]
    assert [(h["trigger"], h["cause"]["operator"], h["reason"]) for h in ledger] == [
        ("timer_suspended", "test-operator", "延期 approved"),
        ("timer_resumed", "test-operator", "延期届满"),
    ]
