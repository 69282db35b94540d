"""The rows a transition writes, built from plain values: history, instance, timers, outbox.

Pure functions of their arguments (the calendar and the rules in force are passed in), shared by the
engine's start, apply and in-transaction fan-out paths.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime
from functools import lru_cache
from typing import Any

from state_machines.base import Emit, Flow
from workflows.engine.commands import Cause, Command, StartSpec
from workflows.engine.deadlines import DeadlineSource
from workflows.store.rows import HistoryRow, NewInstance, NewTimer, OutboxRow, Pending
from workflows.time.calendar import Duration, WorkCalendar


def advance_actor(flow: str) -> str:
    return f"{flow}.advance"


def batch_actor(flow: str) -> str:
    """The actor that applies a message of many commands of ``flow`` in one transaction."""
    return f"{flow}.advance_many"


def command_message(message_id: str, flow: str, commands: Sequence[Command]) -> Pending:
    """One message carrying ``commands`` (of ``flow``): a plain ``<flow>.advance`` message for one,
    a ``<flow>.advance_many`` message (applied in one transaction) for several."""
    if len(commands) == 1:
        return Pending(message_id, flow, advance_actor(flow), commands[0].model_dump(mode="json"))
    body = {"commands": [c.model_dump(mode="json") for c in commands]}
    return Pending(message_id, flow, batch_actor(flow), body)


def command_messages(commands: Sequence[Command], batch: int) -> list[tuple[Pending, list[int]]]:
    """The messages that carry ``commands``: the commands of one flow go out in messages of up to
    ``batch`` (in their order). Each message with the positions (in ``commands``) of the commands it
    carries."""
    by_flow: dict[str, list[int]] = {}
    for i, command in enumerate(commands):
        by_flow.setdefault(command.flow, []).append(i)
    out: list[tuple[Pending, list[int]]] = []
    for flow, positions in by_flow.items():
        for first in range(0, len(positions), batch):
            part = positions[first : first + batch]
            message = command_message(str(uuid.uuid4()), flow, [commands[i] for i in part])
            out.append((message, part))
    return out


class Gathered:
    """Commands enqueued inside ``Engine.batching``: each is told at once the id of the message it
    will travel in (messages of up to ``batch`` commands per flow), written when the block ends."""

    def __init__(self, batch: int) -> None:
        self.batch = batch
        self.groups: list[tuple[str, str, list[Command]]] = []  # (message id, flow, commands)
        self._open: dict[str, tuple[str, str, list[Command]]] = {}

    def add(self, command: Command) -> str:
        group = self._open.get(command.flow)
        if group is None or len(group[2]) >= self.batch:
            group = (str(uuid.uuid4()), command.flow, [])
            self._open[command.flow] = group
            self.groups.append(group)
        group[2].append(command)
        return group[0]

    def messages(self) -> list[Pending]:
        return [command_message(message_id, flow, commands) for message_id, flow, commands in self.groups]


def commands_in(message: dict[str, Any]) -> list[dict[str, Any]]:
    """The commands an engine message carries (one, or a batch's)."""
    commands: list[dict[str, Any]] = message.get("commands", [message])
    return commands


@lru_cache(maxsize=256)
def _duration(text: str) -> Duration:
    return Duration.parse(text)


def new_instance(
    flow: Flow,
    business_key: str,
    subject: str | None,
    context: dict[str, Any],
    cause: Cause,
    rules: DeadlineSource,
    now: datetime,
) -> NewInstance:
    """A new instance in its flow's initial state, with its start history row."""
    history = HistoryRow(
        instance_id=0,
        from_state=None,
        to_state=flow.initial,
        trigger="start",
        outcome="applied",
        reason=cause.reason,
        cause_kind=cause.kind,
        cause_id=cause.id,
        operator=cause.operator,
        payload={},
        at=now,
        dedupe_key="start",
        rules_version=rules.version,
    )
    return NewInstance(
        flow=flow.name,
        flow_version=flow.version,
        business_key=business_key,
        subject=subject,
        state=flow.initial,
        context=context,
        rules_version=rules.version,
        created_at=now,
        history=history,
    )


def history_row(
    instance_id: int,
    command: Command,
    source: str,
    dest: str | None,
    outcome: str,
    now: datetime,
    reason: str | None,
    rules_version: str | None = None,
) -> HistoryRow:
    """The history row of an applied or rejected trigger (under rules ``rules_version``)."""
    return HistoryRow(
        instance_id=instance_id,
        from_state=source,
        to_state=dest,
        trigger=command.trigger,
        outcome=outcome,
        reason=reason or command.cause.reason,
        cause_kind=command.cause.kind,
        cause_id=command.cause.id,
        operator=command.cause.operator,
        payload=command.payload,
        at=now,
        dedupe_key=command.dedupe_key,
        rules_version=rules_version,
    )


def timer_rows(
    calendar: WorkCalendar, rules: DeadlineSource, flow: Flow, state: str, now: datetime
) -> list[NewTimer]:
    """The timers entering ``state`` arms, due by the rules in force."""
    rows = []
    for timer in flow.state(state).timers:
        deadline = calendar.add(now, _duration(rules.deadline(flow.name, state, timer.name)))
        rows.append(
            NewTimer(
                name=timer.name,
                trigger=timer.trigger,
                state=state,
                due_at=deadline.due_at,
                provisional=deadline.provisional,
                created_at=now,
            )
        )
    return rows


def emit_row(instance_id: int, flow_name: str, emit: Emit, now: datetime) -> tuple[OutboxRow, Pending]:
    """An outbox row (and the message to send after commit) for one emit. A target without
    a dot is a flow (deployed or not yet: the message waits in the outbox until some process
    declares ``<flow>.advance``); any other target is a side-effect actor."""
    if "." not in emit.target:
        message_id = str(uuid.uuid4())
        command = Command(
            flow=emit.target,
            trigger=emit.trigger,
            business_key=emit.business_key,
            payload=dict(emit.payload),
            cause=Cause(kind="message", id=f"{flow_name}#{instance_id}"),
            dedupe_key=f"outbox:{message_id}",
            start=StartSpec(subject=emit.subject) if emit.start else None,
        )
        message = Pending(
            message_id, emit.target, advance_actor(emit.target), command.model_dump(mode="json")
        )
    else:
        body = {"instance_id": instance_id, "flow": flow_name, "payload": dict(emit.payload)}
        message = Pending(str(uuid.uuid4()), emit.target.split(".")[0], emit.target, body)
    return OutboxRow.of(message, now), message
