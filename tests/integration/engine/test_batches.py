"""A message of many commands is applied in one transaction, each command with the outcome it would
get alone; a batch that cannot be applied is split so that only its bad command fails. Both stacks."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import func, select

from tests.support import Stack, running_stack, wait_until
from workflows.engine.commands import Cause, Command, StartSpec
from workflows.engine.rows import commands_in
from workflows.messaging.deadletters import list_dead
from workflows.store.models import History, Instance, Outbox, TimerRow
from workflows.store.rows import Pending


def _command(stack: Stack, iid: int | None, trigger: str, key: str, **extra: object) -> Command:
    payload = {"decide": {"decision": "approve"}, "note": {"text": key}}.get(trigger)
    return stack.runtime.engine.command(
        "toy",
        trigger,
        cause=Cause(kind="event", id=key),
        dedupe_key=key,
        payload=payload,
        instance_id=iid,
        **extra,  # type: ignore[arg-type]
    )


def _outbox_count(stack: Stack, actor: str) -> int:
    with stack.runtime.db.read() as s:
        return int(
            s.execute(select(func.count()).select_from(Outbox).where(Outbox.actor == actor)).scalar_one()
        )


def test_a_batch_applies_each_command_as_alone_in_one_transaction(stack_kind: str, tmp_path: Path) -> None:
    with running_stack(stack_kind, tmp_path) as stack:
        a, b, c = (stack.start_toy(f"batch-{n}") for n in "abc")
        stack.send(
            a, "note", "before", {"text": "before"}
        )  # applied alone first: the batch's copy is a duplicate
        stack.settle()
        commands = [
            _command(stack, a, "decide", "a-decide"),
            _command(stack, b, "decide", "b-decide"),
            _command(stack, a, "note", "a-note"),  # a second command on ``a``: applied after the first
            _command(stack, c, "archive", "c-archive"),  # not allowed before a decision: rejected
            _command(stack, a, "archive", "a-archive"),
            _command(stack, a, "note", "before"),  # seen already
            _command(stack, b, "decide", "b-decide"),  # the same key twice in one batch
        ]
        outcomes = stack.runtime.execute_many(commands)
        assert [(o.status, o.instance_id, o.state) for o in outcomes] == [
            ("applied", a, "decided"),
            ("applied", b, "decided"),
            ("applied", a, "decided"),
            ("rejected", c, "awaiting_review"),
            ("applied", a, "archived"),
            ("duplicate", a, "archived"),
            ("duplicate", b, "decided"),
        ]
        assert "'archive' is not allowed in state 'awaiting_review'" in (outcomes[3].reason or "")
        history = stack.history(a)
        assert [(h.trigger, h.from_state, h.to_state) for h in history] == [
            ("start", None, "awaiting_review"),
            ("note", "awaiting_review", "awaiting_review"),
            ("decide", "awaiting_review", "decided"),
            ("note", "decided", "decided"),
            ("archive", "decided", "archived"),
        ]
        assert len({h.at for h in history[2:]}) == 1  # one transaction, one clock reading
        row = stack.instance(a)
        assert (row.state, row.version, row.context["notes"], row.context["decision"]) == (
            "archived",
            5,
            ["before", "a-note"],
            "approve",
        )
        assert row.closed_at is not None
        assert [(t.state, t.status) for t in stack.timers(a)] == [("awaiting_review", "cancelled")]
        assert [(t.state, t.status) for t in stack.timers(c)] == [("awaiting_review", "armed")]
        assert [(h.trigger, h.outcome) for h in stack.history(c)] == [
            ("start", "applied"),
            ("archive", "rejected"),
        ]

        again = stack.runtime.execute_many(commands)  # a redelivered batch changes nothing
        assert {o.status for o in again} == {"duplicate"}
        assert len(stack.history(a)) == 5 and stack.instance(a).version == 5


def test_a_batch_message_goes_through_the_outbox_and_one_worker_transaction(
    stack_kind: str, tmp_path: Path
) -> None:
    with running_stack(stack_kind, tmp_path) as stack:
        ids = [stack.start_toy(f"msg-{n}") for n in range(7)]
        engine = stack.runtime.engine
        with stack.runtime.transaction() as session:
            sent = engine.enqueue_many(
                session, [_command(stack, iid, "decide", f"d-{iid}") for iid in ids], batch=3
            )
        assert len(sent) == 7 and len(set(sent)) == 3  # 3 + 3 + 1 commands
        stack.settle()
        assert {stack.instance(iid).state for iid in ids} == {"decided"}
        with stack.runtime.db.read() as s:
            rows = s.execute(select(Outbox)).scalars().all()
            assert sorted((row.actor, len(commands_in(row.message))) for row in rows) == [
                ("toy.advance", 1),  # the seventh alone: a plain message
                ("toy.advance_many", 3),
                ("toy.advance_many", 3),
            ]
            assert all(row.done_at is not None for row in rows)
            carried = sorted(
                ([c["instance_id"] for c in commands_in(row.message)] for row in rows), key=lambda ids: ids[0]
            )
            assert carried == [ids[0:3], ids[3:6], ids[6:]]  # in order
            ats = s.execute(
                select(History.at).where(History.trigger == "decide").order_by(History.instance_id)
            ).scalars()
            assert len(set(ats)) == 3  # one transaction per message


def test_timers_in_a_batch_fire_unless_stale_and_emits_are_sent(stack_kind: str, tmp_path: Path) -> None:
    with running_stack(stack_kind, tmp_path) as stack:
        late, decided = stack.start_toy("timer-late"), stack.start_toy("timer-decided")
        stale = stack.timers(decided)[0]
        stack.send(decided, "decide", "decided-first", {"decision": "approve"})
        stack.settle()
        current = stack.timers(late)[0]
        commands = [
            stack.runtime.engine.command(
                "toy",
                "review_deadline_passed",
                cause=Cause(kind="timer", id=str(timer.id)),
                dedupe_key=f"timer:{timer.id}",
                instance_id=iid,
            )
            for iid, timer in ((late, current), (decided, stale))
        ]
        outcomes = stack.runtime.execute_many(commands)
        assert [(o.status, o.state) for o in outcomes] == [
            ("applied", "escalated"),
            ("stale_timer", "decided"),
        ]
        assert len(outcomes[0].outbox) == 1  # the escalation's log.notify, written in the batch
        stack.settle()
        assert _outbox_count(stack, "log.notify") == 1
        assert "escalated_at" in stack.instance(late).context
        assert [h.trigger for h in stack.history(decided)] == ["start", "decide"]


def test_a_batch_starts_instances_it_names_by_business_key(stack_kind: str, tmp_path: Path) -> None:
    with running_stack(stack_kind, tmp_path) as stack:
        existing = stack.start_toy("key-old")
        commands = [
            _command(stack, None, "decide", f"{key}-decide", business_key=key, start=StartSpec(subject=None))
            for key in ("key-new", "key-old")
        ] + [_command(stack, None, "archive", "new-archive", business_key="key-new")]
        outcomes = stack.runtime.execute_many(commands)
        assert [(o.status, o.state) for o in outcomes] == [
            ("applied", "decided"),
            ("applied", "decided"),
            ("applied", "archived"),
        ]
        assert outcomes[1].instance_id == existing
        with stack.runtime.db.read() as s:
            new = s.execute(select(Instance).where(Instance.business_key == "key-new")).scalar_one()
        assert [h.trigger for h in stack.history(new.id)] == ["start", "decide", "archive"]


def test_a_bad_command_is_split_out_and_fails_alone(stack_kind: str, tmp_path: Path) -> None:
    with running_stack(stack_kind, tmp_path) as stack:
        good = [stack.start_toy(f"split-{n}") for n in range(3)]
        commands = [_command(stack, iid, "decide", f"split-{iid}") for iid in good]
        commands.insert(1, _command(stack, 999_999, "decide", "no-such-instance"))
        with stack.runtime.transaction() as session:
            (batch_id, *_) = stack.runtime.engine.enqueue_many(session, commands, batch=10)
        wait_until(lambda: len(list_dead(stack.runtime.db)) == 1, what="the bad command's dead letter")
        wait_until(
            lambda: {stack.instance(iid).state for iid in good} == {"decided"}, what="the good commands"
        )
        (dead,) = list_dead(stack.runtime.db)
        assert dead.actor == "toy.advance" and "no toy instance with id 999999" in dead.error_line
        assert dead.message["args"][0]["dedupe_key"] == "no-such-instance"
        assert _outbox_count(stack, "toy.advance") == 4  # the batch, re-sent as single messages
        with stack.runtime.db.read() as s:
            batch = s.get(Outbox, batch_id)
            assert batch is not None and batch.done_at is not None
            armed = s.execute(
                select(func.count()).select_from(TimerRow).where(TimerRow.status == "armed")
            ).scalar_one()
        assert armed == 0


def test_a_batch_of_mixed_flows_is_refused_and_writes_nothing(stack_kind: str, tmp_path: Path) -> None:
    with running_stack(stack_kind, tmp_path) as stack:
        iid = stack.start_toy("mixed")
        toy = _command(stack, iid, "decide", "mixed-decide")
        other = toy.model_copy(update={"flow": "dual_notification"})
        with pytest.raises(ValueError, match="a batch is of one flow"):
            stack.runtime.execute_many([toy, other])
        assert stack.instance(iid).state == "awaiting_review"
        assert [h.trigger for h in stack.history(iid)] == ["start"]


def test_commands_enqueued_while_batching_share_messages_and_vanish_with_an_error(
    stack_kind: str, tmp_path: Path
) -> None:
    with running_stack(stack_kind, tmp_path) as stack:
        ids = [stack.start_toy(f"gather-{n}") for n in range(5)]
        engine = stack.runtime.engine
        with pytest.raises(RuntimeError, match="refused halfway"):
            with stack.runtime.transaction() as session, engine.batching(session, 2):
                engine.enqueue(session, _command(stack, ids[0], "decide", "lost-0"))
                raise RuntimeError("refused halfway")
        assert _outbox_count(stack, "toy.advance") + _outbox_count(stack, "toy.advance_many") == 0
        with stack.runtime.transaction() as session, engine.batching(session, 2):
            sent = [engine.enqueue(session, _command(stack, iid, "decide", f"g-{iid}")) for iid in ids]
            with engine.batching(session, 2):  # nested: the outer block writes
                sent.append(engine.enqueue(session, _command(stack, ids[0], "note", "g-note")))
        assert sent[0] == sent[1] != sent[2] == sent[3] != sent[4] == sent[5]
        stack.settle()
        assert {stack.instance(iid).state for iid in ids} == {"decided"}
        assert stack.instance(ids[0]).context["notes"] == ["g-note"]
        assert (_outbox_count(stack, "toy.advance_many"), _outbox_count(stack, "toy.advance")) == (3, 0)


def test_a_sweep_sends_due_timers_in_batches_and_fires_them_all(stack_kind: str, tmp_path: Path) -> None:
    with running_stack(stack_kind, tmp_path) as stack:
        sweeper = stack.runtime.sweeper
        sweeper.batch, sweeper.message_batch = 40, 7  # two claims of 40 and 32; messages of 7
        ids = [stack.start_toy(f"due-{n}") for n in range(72)]
        stack.advance(2.5)
        result = sweeper.sweep()
        assert result.fired == 72  # every due timer in one call, counted as timers, not messages
        stack.settle()
        assert {stack.instance(iid).state for iid in ids} == {"escalated"}
        with stack.runtime.db.read() as s:
            sizes = sorted(
                len(commands_in(m))
                for m in s.execute(select(Outbox.message).where(Outbox.queue == "toy")).scalars()
            )
        assert sizes == [4, 5] + [7] * 9  # 40 = 5×7 + 5, then 32 = 4×7 + 4


def test_a_malformed_command_in_a_batch_is_dead_lettered_alone(stack_kind: str, tmp_path: Path) -> None:
    with running_stack(stack_kind, tmp_path) as stack:
        iid = stack.start_toy("malformed-neighbour")
        good = _command(stack, iid, "decide", "good-decide").model_dump(mode="json")
        bad = {"flow": "toy", "trigger": "decide", "instance_id": iid}  # no cause, no dedupe key
        batch = Pending(
            "00000000-0000-4000-8000-00000000b47c", "toy", "toy.advance_many", {"commands": [bad, good]}
        )
        with stack.runtime.transaction() as session:
            stack.runtime.engine.write_messages(session, [batch])
        wait_until(lambda: len(list_dead(stack.runtime.db)) == 1, what="the malformed command's dead letter")
        wait_until(lambda: stack.instance(iid).state == "decided", what="the good command")
        (dead,) = list_dead(stack.runtime.db)
        assert dead.actor == "toy.advance" and dead.message["args"][0] == bad
        assert "dedupe_key" in dead.error and "Field required" in dead.error
        assert [h.trigger for h in stack.history(iid)] == ["start", "decide"]
