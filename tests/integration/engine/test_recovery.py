"""Recovery: outbox rows lost by the broker are re-sent (and applied once), dead letters the database
could not take are drained from the broker, rows sent too often are dead-lettered, and a failing
sent-stamp does not turn into a re-send storm."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import dramatiq
import pytest
from dramatiq.brokers.redis import RedisBroker
from sqlalchemy import create_engine, select, text
from typer.testing import CliRunner

from tests.support import PG_URL, SERVER_STACKS, Stack, TableLock, running_stack, wait_until
from worker import PLUGINS, compose
from workflows.cli.app import build_app
from workflows.engine.commands import Cause
from workflows.messaging.broker_view import BlindView, view_of
from workflows.messaging.deadletters import list_dead, requeue
from workflows.messaging.recovery import Recovery
from workflows.queries.reconcile import reconcile
from workflows.runtime import Runtime
from workflows.store.models import Outbox
from workflows.store.rows import Pending

SECONDS = 1 / 3600  # Stack.advance takes hours


def _restart_worker(stack: Stack) -> None:
    stack.worker = dramatiq.Worker(stack.runtime.broker, worker_threads=4, worker_timeout=100)
    stack.worker.start()


def _decide_all(stack: Stack, keys: list[str]) -> list[int]:
    ids = [stack.start_toy(key) for key in keys]
    for iid, key in zip(ids, keys, strict=True):
        stack.send(iid, "decide", f"decide-{key}", {"decision": "approve"})
    stack.runtime.relay.flush()
    return ids


def _redis(stack: Stack) -> Any:
    assert isinstance(stack.runtime.broker, RedisBroker)
    return stack.runtime.broker.client


def _sends(stack: Stack) -> list[int]:
    with stack.runtime.db.read() as s:
        return [int(n) for n in s.execute(select(Outbox.sends).order_by(Outbox.created_at)).scalars()]


@pytest.mark.production
def test_messages_lost_with_the_brokers_data_are_resent_and_applied_once(tmp_path: Path) -> None:
    with running_stack("production", tmp_path) as stack:
        stack.worker.stop()  # the messages wait in Redis
        ids = _decide_all(stack, [f"lost-{i}" for i in range(5)])
        recovery = stack.runtime.recovery
        stack.advance(10 * SECONDS)
        assert recovery.resend() == (0, 0)  # Redis holds every one: nothing is sent twice
        _redis(stack).flushdb()  # Redis loses its data (no persistence)
        assert recovery.resend() == (5, 0)
        assert recovery.resend() == (0, 0)  # held again
        _restart_worker(stack)
        stack.settle()
        for iid in ids:
            assert stack.instance(iid).state == "decided"
            assert [h.trigger for h in stack.history(iid)].count("decide") == 1
        assert _sends(stack) == [2] * 5


@pytest.mark.production
def test_a_row_sent_max_sends_times_is_dead_lettered_with_the_reason(tmp_path: Path) -> None:
    with running_stack("production", tmp_path, max_sends=2) as stack:
        stack.worker.stop()
        (iid,) = _decide_all(stack, ["spent"])
        recovery = stack.runtime.recovery
        for expected in [(1, 0), (0, 1), (0, 0)]:
            _redis(stack).flushdb()
            stack.advance(10 * SECONDS)
            assert recovery.resend() == expected
        (dead,) = list_dead(stack.runtime.db)
        assert dead.actor == "toy.advance" and dead.attempts == 2
        assert dead.error == "sent 2 times and no consumer finished it"
        assert stack.instance(iid).state == "awaiting_review"  # nothing applied behind the operator's back
        requeue(stack.runtime.db, stack.runtime.relay, stack.runtime.clock, dead.id)
        _restart_worker(stack)
        stack.settle()
        assert stack.instance(iid).state == "decided"


class _RowLock:
    """Holds every outbox row FOR UPDATE from another connection (the sent-stamp waits, then fails)."""

    def __init__(self) -> None:
        self.engine = create_engine(PG_URL)
        self.conn = self.engine.connect()
        self.tx = self.conn.begin()
        self.conn.execute(text("SELECT id FROM outbox FOR UPDATE"))

    def release(self) -> None:
        self.tx.rollback()
        self.conn.close()
        self.engine.dispose()


@pytest.mark.production
def test_a_failing_sent_stamp_does_not_become_a_resend_storm(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    with running_stack("production", tmp_path, lock_timeout=0.3, relay_grace=1.0) as stack:
        stack.worker.stop()
        iid = stack.start_toy("stamp")
        command = stack.runtime.engine.command(
            "toy",
            "decide",
            cause=Cause(kind="event", id="stamp"),
            dedupe_key="stamp",
            payload={"decision": "approve"},
            instance_id=iid,
        )
        with stack.runtime.db.transaction() as session:  # committed, never sent (a crash)
            stack.runtime.engine.enqueue(session, command)
        stack.advance(2 * SECONDS)
        recovery = stack.runtime.recovery
        lock = _RowLock()
        try:
            with caplog.at_level("ERROR"):
                assert recovery.resend() == (1, 0)
            assert "could not stamp 1 outbox rows as sent" in caplog.text
            for _ in range(3):  # still unstamped: Redis holds it, and its backoff has not run out
                stack.advance(2 * SECONDS)
                assert recovery.resend() == (0, 0)
        finally:
            lock.release()
        assert _redis(stack).hlen("dramatiq:toy.msgs") == 1
        _restart_worker(stack)
        stack.settle()
        assert [h.trigger for h in stack.history(iid)].count("decide") == 1


MALFORMED = {"flow": "toy", "trigger": "decide", "instance_id": 1, "cause": {"kind": "event", "id": "m"}}


def _write_malformed(rt: Runtime, message_id: str) -> None:
    with rt.transaction() as session:
        rt.engine.write_messages(session, [Pending(message_id, "toy", "toy.advance", MALFORMED)])


def _die_unrecorded(
    stack: Stack, tmp_path: Path, send: Callable[[], object], caplog: pytest.LogCaptureFixture
) -> None:
    """Send a message that can never succeed and let it die while dead_letters is unwritable."""
    view = view_of(stack.runtime.broker)
    before = view.dead_count()
    stack.worker.stop()
    send()
    lock = TableLock(stack, tmp_path, "dead_letters", "ACCESS EXCLUSIVE")
    try:
        with caplog.at_level("ERROR"):
            _restart_worker(stack)
            wait_until(lambda: view.dead_count() == before + 1, what="the broker's dead letter")
            wait_until(lambda: "could not record dead letter" in caplog.text, what="the failed record")
    finally:
        lock.release()


def test_a_dead_letter_the_database_could_not_take_is_drained_from_the_broker(
    stack_kind: str, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    message_id = "00000000-0000-4000-8000-00000000dead"
    with running_stack(stack_kind, tmp_path, lock_timeout=0.3, max_retries=0) as stack:
        rt = stack.runtime
        _die_unrecorded(stack, tmp_path, lambda: _write_malformed(rt, message_id), caplog)
        assert list_dead(rt.db) == []  # only in the broker
        for _ in range(2):  # looking leaves it in the broker
            seen = reconcile(rt.db, rt.recovery.view, rt.clock.now())
            assert (seen.dead_letters, seen.dead_in_broker) == (0, 1)
        assert rt.recovery.drain_dead() == 1
        (dead,) = list_dead(rt.db)
        assert (dead.message_id, dead.actor, dead.message["args"][0]) == (
            message_id,
            "toy.advance",
            MALFORMED,
        )
        assert "while the database was unreachable" in dead.error
        assert view_of(rt.broker).dead_count() == 0
        assert rt.recovery.drain_dead() == 0  # recorded once
        stack.advance(60 * SECONDS)
        assert rt.recovery.resend() == (0, 0)  # a dead row is not re-sent

        # requeued, it dies again (it is still malformed) while the table is unwritable: recorded again
        caplog.clear()
        _die_unrecorded(
            stack, tmp_path, lambda: requeue(rt.db, rt.relay, rt.clock, dead.id, reason="again"), caplog
        )
        assert list_dead(rt.db) == []  # requeued; its second death is not recorded yet
        assert rt.recovery.drain_dead() == 1
        (again,) = list_dead(rt.db)
        assert again.id == dead.id and again.requeued_at is None


def test_a_broker_that_cannot_tell_gets_sent_rows_again_on_a_doubling_timetable(tmp_path: Path) -> None:
    with running_stack("embedded", tmp_path) as stack:
        stack.worker.stop()
        _decide_all(stack, ["blind"])
        rt = stack.runtime
        recovery = Recovery(
            rt.db, rt.relay, BlindView(), rt.clock, unsent_grace=0, redeliver_after=5, max_sends=2
        )
        schedule = [(4, 0), (2, 1), (9, 0), (2, 1), (19, 0), (2, 1)]  # due after 5 s, then 10 s, 20 s
        for seconds, resent in schedule:
            stack.advance(seconds * SECONDS)
            assert recovery.resend() == (resent, 0), (seconds, resent)
        assert _sends(stack) == [4]
        assert list_dead(rt.db) == []  # past max_sends, but such a broker may hold it still
        _restart_worker(stack)
        stack.settle()


def test_the_embedded_broker_never_gets_a_sent_row_again(tmp_path: Path) -> None:
    with running_stack("embedded", tmp_path) as stack:
        stack.worker.stop()  # the message waits in the process's broker
        _decide_all(stack, ["in-process"])
        stack.advance(3600 * SECONDS)
        assert stack.runtime.recovery.resend() == (0, 0)
        assert _sends(stack) == [1]


@pytest.mark.parametrize("kind", SERVER_STACKS)
def test_deadletters_list_shows_one_still_only_in_the_broker(
    kind: str, tmp_path: Path, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    message_id = "00000000-0000-4000-8000-0000000dead2"
    with running_stack(kind, tmp_path, lock_timeout=0.3, max_retries=0) as stack:
        rt = stack.runtime
        _die_unrecorded(stack, tmp_path, lambda: _write_malformed(rt, message_id), caplog)
        assert list_dead(rt.db) == []
        monkeypatch.setenv("YUNSHANG_DATABASE_URL", rt.settings.database_url)
        monkeypatch.setenv("YUNSHANG_BROKER", rt.settings.broker)
        made: list[Runtime] = []

        def composing(settings: Any, **kwargs: Any) -> Runtime:
            made.append(compose(settings, **kwargs))
            return made[-1]

        try:
            result = CliRunner().invoke(build_app(composing, PLUGINS), ["deadletters", "list", "--json"])
        finally:
            for runtime in made:
                runtime.close()
        assert result.exit_code == 0, result.output
        listed = json.loads(result.stdout)
        assert [d["message_id"] for d in listed] == [message_id]
        assert "recorded 1 dead letters that were only in the broker" in result.stderr
        assert view_of(rt.broker).dead_count() == 0
