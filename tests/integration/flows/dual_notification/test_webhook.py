"""The webhook channel against a real local HTTP receiver: signed, retried with backoff, dead after N."""

from __future__ import annotations

from pathlib import Path

import dramatiq
import pytest

from tests.integration.flows.dual_notification.conftest import notice_stack
from tests.notices import deliveries, facts, start_notice
from tests.support import wait_until
from tests.webhook_receiver import receiver
from workflows.delivery.channels import DELIVERY_HEADER, SIGNATURE_HEADER, verify
from workflows.messaging.outbox import to_message
from workflows.store.models import Outbox
from workflows.store.rows import Pending

SECRET = "webhook-test-secret"


def webhook(url: str, attempts: int) -> dict[str, object]:
    return dict(
        webhook_url=url,
        webhook_secret=SECRET,
        webhook_max_attempts=attempts,
        webhook_min_backoff_ms=20,
        webhook_max_backoff_ms=100,
    )


@pytest.mark.parametrize("kind", ["embedded", pytest.param("production", marks=pytest.mark.production)])
def test_a_receiver_failing_twice_gets_exactly_one_signed_delivery(kind: str, tmp_path: Path) -> None:
    with receiver(failures=2) as hook, notice_stack(kind, tmp_path, **webhook(hook.url, 5)) as stack:
        outcome = start_notice(stack, facts())
        stack.settle()
        assert hook.requests == 3
        [(_, body, headers)] = hook.accepted
        assert verify(SECRET, body, headers[SIGNATURE_HEADER])
        [row] = deliveries(stack, outcome.instance_id)
        assert (row.channel, row.status, row.attempts, row.last_error) == ("webhook", "sent", 3, None)
        assert headers[DELIVERY_HEADER] == row.dedupe_key
        assert b'"kind":"notice"' in body and b"SCJG_YP" in body
        # redelivery of the same outbox message resumes the row: nothing is sent again
        with stack.runtime.db.read() as session:
            message = session.get(Outbox, row.dedupe_key)
            assert message is not None and message.done_at is not None
        stack.runtime.broker.enqueue(
            to_message(Pending(message.id, message.queue, message.actor, message.message))
        )
        stack.runtime.broker.join("deliveries", timeout=10_000)
        stack.worker.join()
        assert hook.requests == 3 and len(deliveries(stack)) == 1


@pytest.mark.parametrize("kind", ["embedded", pytest.param("production", marks=pytest.mark.production)])
def test_a_receiver_that_never_answers_well_makes_the_delivery_dead(kind: str, tmp_path: Path) -> None:
    with receiver(failures=1000) as hook, notice_stack(kind, tmp_path, **webhook(hook.url, 3)) as stack:
        outcome = start_notice(stack, facts())
        stack.settle()
        [row] = deliveries(stack, outcome.instance_id)
        assert (row.status, row.attempts) == ("dead", 3)
        assert "HTTP 500" in (row.last_error or "")
        assert hook.requests == 3


def test_an_unreachable_receiver_is_retried_then_dead(tmp_path: Path) -> None:
    with receiver(failures=0) as hook:
        url = hook.url  # the server is gone once the block ends: connections are refused
    with notice_stack("embedded", tmp_path, **webhook(url, 2)) as stack:
        outcome = start_notice(stack, facts())
        wait_until(lambda: [d.status for d in deliveries(stack, outcome.instance_id)] == ["dead"])
        [row] = deliveries(stack, outcome.instance_id)
        assert "ConnectError" in (row.last_error or "")


@pytest.mark.parametrize("kind", ["embedded", pytest.param("production", marks=pytest.mark.production)])
def test_a_webhook_push_is_recorded_by_the_transition_and_only_sent_by_the_actor(
    kind: str, tmp_path: Path
) -> None:
    with receiver(failures=0) as hook, notice_stack(kind, tmp_path, **webhook(hook.url, 5)) as stack:
        stack.worker.stop()  # nothing consumes: what exists now was written by the transition itself
        outcome = start_notice(stack, facts())
        [row] = deliveries(stack, outcome.instance_id)
        assert (row.channel, row.status, row.attempts, row.kind) == ("webhook", "pending", 0, "notice")
        with stack.runtime.db.read() as session:
            message = session.get(Outbox, row.dedupe_key)
            assert message is not None and message.actor == "deliveries.push" and message.done_at is None
        assert hook.requests == 0
        stack.worker = dramatiq.Worker(stack.runtime.broker, worker_threads=2, worker_timeout=100)
        stack.worker.start()
        stack.settle()
        [sent] = deliveries(stack, outcome.instance_id)
        assert (sent.id, sent.status, sent.attempts) == (row.id, "sent", 1)
        assert [delivery for delivery, _, _ in hook.accepted] == [row.dedupe_key]
