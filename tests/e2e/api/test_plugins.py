"""The API serves what the plug-in list brings: a flow left out is neither routed nor served."""

from __future__ import annotations

from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import func, select

from tests.e2e.api.conftest import serve
from tests.support import running_stack
from workflows.flows import toy
from workflows.store.models import InboxEvent, Instance

LICENSE = {
    "specversion": "1.0",
    "id": "lic-1",
    "source": "/registration",
    "type": "license.issued",
    "data": {"uscc": "91370212MA3QK7T84W"},
}


def test_an_engine_without_the_dual_notification_plugin_refuses_its_events(
    stack_kind: str, tmp_path: Path
) -> None:
    with running_stack(stack_kind, tmp_path, plugins=(toy.PLUGIN,)) as stack:
        with contextmanager(serve)(stack) as api, api.client(api.admin) as client:
            refused = client.post("/events", json=LICENSE)
            schemas = client.get("/events/schemas").json()
            scorecard = client.get("/scorecard")
            accepted = client.post(
                "/events", json={**LICENSE, "id": "toy-1", "type": "toy.submitted", "data": {"case": "c1"}}
            )
        assert refused.status_code == 422
        assert refused.json()["errors"][0]["field"] == "type"
        assert "accepted: toy.decided, toy.submitted" in refused.json()["errors"][0]["message"]
        assert sorted(schemas) == ["toy.decided", "toy.submitted"]
        assert scorecard.status_code == 404  # the plug-in's own endpoint is not served either
        assert accepted.status_code == 202
        with stack.runtime.db.read() as s:
            assert s.execute(select(func.count()).select_from(InboxEvent)).scalar_one() == 1
            assert s.execute(select(Instance.flow)).scalars().all() == ["toy"]
