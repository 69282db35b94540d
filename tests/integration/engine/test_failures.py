"""Bad input, transient failures, dead letters and crash recovery, on both stacks."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select, text
from typer.testing import CliRunner

from tests.support import (
    ENGINE_STACKS,
    SERVER_STACKS,
    TOY_DEADLINES,
    Stack,
    TableLock,
    running_stack,
    settings_for,
    wait_until,
)
from worker import PLUGINS, compose
from workflows.cli.app import build_app
from workflows.engine.commands import Cause
from workflows.engine.deadlines import StaticDeadlines
from workflows.errors import BadInput, InvalidPayload, NaiveDatetime, UnknownFlow, UnknownTrigger
from workflows.messaging.deadletters import DeadLetterView, list_dead, requeue
from workflows.runtime import Runtime
from workflows.services import EmbeddedStack
from workflows.store.models import Base, Outbox
from workflows.store.rows import pending


def snapshot(stack: Stack) -> dict[str, Any]:
    counts: dict[str, Any] = {}
    with stack.runtime.db.transaction() as s:
        for table in Base.metadata.sorted_tables:
            counts[table.name] = s.execute(select(func.count()).select_from(table)).scalar_one()
        counts["states"] = s.execute(text("SELECT id, state, version FROM instances ORDER BY id")).all()
    return counts


@pytest.mark.parametrize(
    ("flow", "trigger", "payload", "error", "message"),
    [
        ("nope", "decide", {}, UnknownFlow, "unknown flow 'nope'; known flows: "),
        ("toy", "approve", {}, UnknownTrigger, "flow 'toy' has no trigger 'approve'"),
        ("toy", "decide", {"decision": "maybe"}, InvalidPayload, "payload.decision: String should match"),
        ("toy", "decide", {}, InvalidPayload, "payload.decision: Field required"),
        ("toy", "decide", {"decision": "approve", "extra": 1}, InvalidPayload, "payload.extra: Extra inputs"),
        ("toy", "archive", {"x": 1}, InvalidPayload, "this trigger takes no payload"),
        (
            "toy",
            "decide",
            {"decision": "approve", "decided_at": "2026-01-05T09:00:00"},
            NaiveDatetime,
            "payload.decided_at: datetime has no timezone",
        ),
        (
            "toy",
            "note",
            {"text": "x", "when": datetime(2026, 1, 5)},
            NaiveDatetime,
            "payload.when: datetime has no timezone",
        ),
    ],
)
def test_bad_input_is_refused_at_the_edge_and_changes_nothing(
    stack: Stack, flow: str, trigger: str, payload: dict[str, Any], error: type[BadInput], message: str
) -> None:
    iid = stack.start_toy("bad-1")
    before = snapshot(stack)
    with pytest.raises(error) as caught:
        stack.runtime.engine.command(
            flow, trigger, cause=Cause(kind="event", id="e"), dedupe_key="e", payload=payload, instance_id=iid
        )
    assert message in str(caught.value)
    assert snapshot(stack) == before


def test_trigger_invalid_in_state_changes_nothing_but_the_audit(stack: Stack) -> None:
    iid = stack.start_toy("bad-2")
    before = snapshot(stack)
    stack.send(iid, "archive", "evt-a")
    stack.settle()
    after = snapshot(stack)
    assert after["states"] == before["states"]
    assert after["timers"] == before["timers"]
    assert after["history"] == before["history"] + 1  # the rejected attempt, visible to operators


def dead_letter_for_a_case_not_started(stack: Stack, key: str, case: str) -> DeadLetterView:
    """A ``decide`` for a toy case nobody started: not transient, so dead-lettered at once."""
    engine = stack.runtime.engine
    command = engine.command(
        "toy",
        "decide",
        cause=Cause(kind="event", id=key),
        dedupe_key=key,
        payload={"decision": "approve"},
        business_key=case,
    )
    with stack.runtime.transaction() as session:
        engine.enqueue(session, command)
    wait_until(lambda: len(list_dead(stack.runtime.db)) == 1, what="the dead letter")
    (dead,) = list_dead(stack.runtime.db)
    return dead


def test_a_message_that_cannot_be_applied_is_dead_lettered_with_its_error_and_requeued(stack: Stack) -> None:
    dead = dead_letter_for_a_case_not_started(stack, "late-1", "not-started-yet")
    assert dead.actor == "toy.advance"
    assert dead.attempts == 1  # not a transient error: never retried
    assert "no toy instance with business key 'not-started-yet'" in dead.error_line
    stack.start_toy("not-started-yet")
    requeue(stack.runtime.db, stack.runtime.relay, stack.runtime.clock, dead.id)
    stack.settle()
    with stack.runtime.db.transaction() as s:
        state = s.execute(text("SELECT state FROM instances WHERE business_key = 'not-started-yet'")).scalar()
    assert state == "decided"
    assert list_dead(stack.runtime.db) == []
    with pytest.raises(BadInput.__mro__[1]) as again:  # YunshangError: already requeued
        requeue(stack.runtime.db, stack.runtime.relay, stack.runtime.clock, dead.id)
    assert "no dead letter" in str(again.value)


@pytest.mark.parametrize("kind", ENGINE_STACKS)
def test_transient_database_failure_is_retried_then_applied_once(
    kind: str, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    with running_stack(kind, tmp_path, lock_timeout=0.2, max_retries=50) as stack:
        iid = stack.start_toy("locked-1")
        engine = stack.runtime.engine
        command = engine.command(
            "toy",
            "decide",
            cause=Cause(kind="event", id="locked-1"),
            dedupe_key="locked-1",
            payload={"decision": "approve"},
            instance_id=iid,
        )
        with stack.runtime.db.transaction() as session:  # committed, not yet sent
            engine.enqueue(session, command)
            (row,) = pending(session)
        lock = TableLock(stack, tmp_path, "instances")
        try:
            with caplog.at_level("INFO"):
                stack.runtime.relay.send([row])
                wait_until(lambda: "Retrying message" in caplog.text, what="a retry after the lock timeout")
        finally:
            lock.release()
        stack.settle()
        assert stack.instance(iid).state == "decided"
        assert [h.dedupe_key for h in stack.history(iid)].count("locked-1") == 1
        assert list_dead(stack.runtime.db) == []


@pytest.mark.parametrize("kind", SERVER_STACKS)
def test_transient_failure_that_outlasts_the_retries_is_dead_lettered(kind: str, tmp_path: Path) -> None:
    with running_stack(kind, tmp_path, lock_timeout=0.1, max_retries=2) as stack:
        iid = stack.start_toy("locked-2")
        lock = TableLock(stack, tmp_path, "instances")
        try:
            stack.send(iid, "decide", "locked-2", {"decision": "approve"})
            wait_until(lambda: len(list_dead(stack.runtime.db)) == 1, what="the dead letter")
        finally:
            lock.release()
        (dead,) = list_dead(stack.runtime.db)
        assert dead.attempts == 3  # the first try and two retries
        assert "lock timeout" in dead.error
        assert stack.instance(iid).state == "awaiting_review"
        requeue(stack.runtime.db, stack.runtime.relay, stack.runtime.clock, dead.id)
        stack.settle()
        assert stack.instance(iid).state == "decided"


def test_crash_between_commit_and_send_loses_nothing(stack: Stack) -> None:
    iid = stack.start_toy("crash-1")
    engine = stack.runtime.engine
    command = engine.command(
        "toy",
        "decide",
        cause=Cause(kind="event", id="c1"),
        dedupe_key="c1",
        payload={"decision": "reject"},
        instance_id=iid,
    )
    with stack.runtime.db.transaction() as session:  # the process "dies" right after this commit
        engine.enqueue(session, command)
    assert stack.instance(iid).state == "awaiting_review"
    assert stack.runtime.recovery.resend() == (1, 0)
    stack.settle()
    assert stack.instance(iid).state == "decided"
    assert stack.runtime.recovery.resend() == (0, 0)


def test_embedded_restart_redispatches_unfinished_messages(tmp_path: Path) -> None:
    with running_stack("embedded", tmp_path) as first:
        first.worker.stop()  # the process dies with messages in its (memory-only) broker
        iid = first.start_toy("restart-1")
        first.send(iid, "decide", "r1", {"decision": "approve"})
        first.send(iid, "note", "r2", {"text": "after the decision"})
        with first.runtime.db.transaction() as s:
            assert s.execute(select(func.count()).where(Outbox.done_at.is_(None))).scalar_one() == 2
    settings = settings_for("embedded", tmp_path)
    runtime = compose(settings, deadlines=StaticDeadlines(TOY_DEADLINES))
    embedded = EmbeddedStack(runtime, threads=2)
    embedded.start()  # start-up re-dispatches what no consumer finished
    try:
        second = Stack("embedded", runtime, embedded.worker, embedded)
        second.settle()
        assert second.instance(iid).state == "decided"
        assert second.instance(iid).context["notes"] == ["after the decision"]
        assert [h.dedupe_key for h in second.history(iid)] == ["start", "r1", "r2"] or [
            h.dedupe_key for h in second.history(iid)
        ] == ["start", "r2", "r1"]
    finally:
        embedded.stop()
        runtime.close()


def test_the_cli_requeues_with_who_and_why_and_lists_the_audit(
    stack: Stack, monkeypatch: pytest.MonkeyPatch
) -> None:
    dead = dead_letter_for_a_case_not_started(stack, "cli-late", "cli-not-yet")
    settings = stack.runtime.settings
    monkeypatch.setenv("YUNSHANG_DATABASE_URL", settings.database_url)
    monkeypatch.setenv("YUNSHANG_BROKER", settings.broker)
    monkeypatch.setenv("YUNSHANG_CLOCK", settings.clock)
    runner = CliRunner()
    made: list[Runtime] = []

    def composing(settings: Any, **kwargs: Any) -> Runtime:
        made.append(compose(settings, **kwargs))
        return made[-1]

    def cli(*args: str) -> Any:
        return runner.invoke(build_app(composing, PLUGINS), list(args))

    try:
        stack.start_toy("cli-not-yet")  # the requeued message now applies: it cannot die again meanwhile
        done = cli(
            "deadletters", "requeue", str(dead.id), "--reason", "case arrived", "--operator", "wang.fang"
        )
        assert done.exit_code == 0, done.output
        assert f"requeued #{dead.id}" in done.output
        again = cli("deadletters", "requeue", str(dead.id), "--reason", "twice")
        assert again.exit_code == 1 and "no dead letter" in again.output
        listed = cli("deadletters", "list", "--requeued", "--json")
        assert listed.exit_code == 0, listed.output
        [row] = json.loads(listed.output[listed.output.index("[") :])
        assert (row["id"], row["requeued_by"], row["requeue_reason"]) == (
            dead.id,
            "wang.fang",
            "case arrived",
        )
        waiting = cli("deadletters", "list", "--json")
        assert json.loads(waiting.output[waiting.output.index("[") :]) == []
    finally:
        for runtime in made:  # a CLI process would exit here; the test closes what each command opened
            runtime.close()
