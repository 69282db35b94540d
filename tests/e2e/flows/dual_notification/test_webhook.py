"""The webhook channel end to end: a receiver on 127.0.0.1 that answers 500 twice to every push, then
200, gets each push exactly once, signed with HMAC-SHA256 over the exact body."""

from __future__ import annotations

import hashlib
import hmac
import json
from pathlib import Path

from tests.e2e.flows.dual_notification.conftest import NOTICE_PLUGINS, PHARMACY, e2e_stack
from tests.webhook_receiver import receiver

SECRET = "e2e-webhook-secret-双告知"


def signature(body: bytes) -> str:
    return "sha256=" + hmac.new(SECRET.encode(), body, hashlib.sha256).hexdigest()


def test_a_receiver_failing_twice_then_succeeding_gets_each_push_exactly_once(
    stack_kind: str, tmp_path: Path
) -> None:
    settings = dict(
        webhook_secret=SECRET, webhook_max_attempts=5, webhook_min_backoff_ms=10, webhook_max_backoff_ms=50
    )
    with (
        receiver() as hook,
        e2e_stack(stack_kind, tmp_path, plugins=NOTICE_PLUGINS, webhook_url=hook.url, **settings) as e2e,
    ):
        e2e.license(PHARMACY, "青岛崂山仁心大药房有限公司", "药品零售")
        e2e.stack.settle()

        rows = e2e.deliveries()
        assert sorted((d.kind, d.recipient) for d in rows) == [
            ("notice", "SCJG_YP/notice_handler"),
            ("reminder", f"enterprise/{PHARMACY}"),
        ]
        for row in rows:
            assert (row.channel, row.status, row.attempts, row.last_error) == ("webhook", "sent", 3, None)
            assert row.sent_at is not None
        assert dict(hook.attempts) == {row.dedupe_key: 3 for row in rows}
        assert sorted(d for d, _, _ in hook.accepted) == sorted(row.dedupe_key for row in rows)

        by_id = {row.dedupe_key: row for row in rows}
        for delivery, body, headers in hook.accepted:
            signed = headers["X-Yunshang-Signature"]
            assert hmac.compare_digest(signed, signature(body))
            assert not hmac.compare_digest(
                signed, "sha256=" + hmac.new(b"wrong", body, hashlib.sha256).hexdigest()
            )
            message = json.loads(body)
            assert message == by_id[delivery].payload  # what was recorded is what was sent
            assert (message["id"], message["instance_id"]) == (delivery, by_id[delivery].instance_id)
        [notice] = [json.loads(b) for _, b, _ in hook.accepted if json.loads(b)["kind"] == "notice"]
        assert (notice["recipient"]["code"], notice["recipient"]["role"], notice["data"]["permit"]) == (
            "SCJG_YP",
            "notice_handler",
            "DRUG_RETAIL",
        )
        assert notice["flow"] == "dual_notification"
