"""Instances an effect starts are started and fired inside the emitting transaction, all or nothing;
an emit naming an instance that exists already goes out as a message instead. Both stacks."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

from pydantic import BaseModel
from sqlalchemy import func, select

from state_machines.base import Context, Effect, Emit, Flow, Payload, State, Timer, Trigger, transition
from tests.support import TOY_DEADLINES, running_stack, wait_until
from worker import PLUGINS
from workflows.engine.commands import Cause
from workflows.engine.deadlines import StaticDeadlines
from workflows.messaging.deadletters import list_dead
from workflows.plugins import FlowPlugin
from workflows.store.models import History, Instance, Outbox, TimerRow


class FanOut(BaseModel):
    children: list[str]


class Open(BaseModel):
    key: str


def _open(ctx: Context, payload: Payload, now: datetime) -> Effect:
    return Effect(
        context={"children": list(payload["children"])},
        emits=tuple(
            Emit(target="child", trigger="open", business_key=key, start=True, payload={"key": key})
            for key in payload["children"]
        ),
    )


def _child_opened(ctx: Context, payload: Payload, now: datetime) -> Effect:
    if payload["key"] == "explodes":
        raise RuntimeError("a bug in the child's effect")
    return Effect(context={"key": payload["key"]}, emits=(Emit(target="log.notify"),))


PARENT = Flow(
    name="parent",
    version=1,
    initial="new",
    states=(State("new"), State("fanned_out")),
    triggers=(Trigger("fan_out", FanOut),),
    transitions=(transition("fan_out", "new", "fanned_out", effect=_open),),
)
CHILD = Flow(
    name="child",
    version=1,
    initial="created",
    states=(State("created"), State("open", timers=(Timer("reminder", "remind"),)), State("reminded")),
    triggers=(Trigger("open", Open), Trigger("remind")),
    transitions=(
        transition("open", "created", "open", effect=_child_opened),
        transition("remind", "open", "reminded"),
    ),
)
PLUGINS_HERE = (*PLUGINS, FlowPlugin("fan_out_test", flows=(PARENT, CHILD)))
DEADLINES = StaticDeadlines({**TOY_DEADLINES, "child.open.reminder": "2h"}, version="test")


def _fan_out(stack: object, key: str, children: list[str]) -> int:
    from tests.support import Stack

    assert isinstance(stack, Stack)
    with stack.runtime.transaction() as session:
        parent = stack.runtime.engine.start(
            session, "parent", key, subject=None, context={}, cause=Cause(kind="system")
        )
    stack.send(parent.instance_id, "fan_out", f"fan-{key}", {"children": children}, flow="parent")
    stack.settle()
    return parent.instance_id


def test_children_are_started_and_fired_in_the_parents_transaction(stack_kind: str, tmp_path: Path) -> None:
    with running_stack(stack_kind, tmp_path, deadlines=DEADLINES, plugins=PLUGINS_HERE) as stack:
        parent = _fan_out(stack, "p1", ["a", "b"])
        assert stack.instance(parent).state == "fanned_out"
        with stack.runtime.db.read() as s:
            children = (
                s.execute(select(Instance).where(Instance.flow == "child").order_by(Instance.id))
                .scalars()
                .all()
            )
            assert [(c.business_key, c.state, c.context) for c in children] == [
                ("a", "open", {"key": "a"}),
                ("b", "open", {"key": "b"}),
            ]
            fanned = stack.history(parent)[-1]
            for child in children:
                rows = stack.history(child.id)
                assert [(h.trigger, h.to_state, h.cause_kind, h.cause_id) for h in rows] == [
                    ("start", "created", "message", f"parent#{parent}"),
                    ("open", "open", "message", f"parent#{parent}"),
                ]
                assert {h.at for h in rows} == {fanned.at}  # one transaction, one clock reading
                timers = s.execute(select(TimerRow).where(TimerRow.instance_id == child.id)).scalars().all()
                assert [(t.name, t.status) for t in timers] == [("reminder", "armed")]
            actors = s.execute(select(Outbox.actor).order_by(Outbox.created_at)).scalars().all()
        # the fan-out command itself, then one log.notify per child: no message started a child
        assert actors.count("child.advance") == 0
        assert actors.count("log.notify") == 2


def test_a_child_that_fails_leaves_nothing_of_the_parents_transition(stack_kind: str, tmp_path: Path) -> None:
    with running_stack(stack_kind, tmp_path, deadlines=DEADLINES, plugins=PLUGINS_HERE) as stack:
        with stack.runtime.transaction() as session:
            parent = stack.runtime.engine.start(
                session, "parent", "p2", subject=None, context={}, cause=Cause(kind="system")
            )
        stack.send(parent.instance_id, "fan_out", "fan-p2", {"children": ["fine", "explodes"]}, flow="parent")
        wait_until(lambda: len(list_dead(stack.runtime.db)) == 1, what="the dead letter")
        (dead,) = list_dead(stack.runtime.db)
        assert "a bug in the child's effect" in dead.error_line
        assert stack.instance(parent.instance_id).state == "new"
        assert [h.trigger for h in stack.history(parent.instance_id)] == ["start"]
        with stack.runtime.db.read() as s:
            assert (
                s.execute(
                    select(func.count()).select_from(Instance).where(Instance.flow == "child")
                ).scalar_one()
                == 0
            )
            assert s.execute(select(func.count()).select_from(TimerRow)).scalar_one() == 0


def test_an_existing_child_gets_a_message_of_its_own(stack_kind: str, tmp_path: Path) -> None:
    with running_stack(stack_kind, tmp_path, deadlines=DEADLINES, plugins=PLUGINS_HERE) as stack:
        with stack.runtime.transaction() as session:
            existing = stack.runtime.engine.start(
                session, "child", "old", subject=None, context={}, cause=Cause(kind="system")
            )
        parent = _fan_out(stack, "p3", ["old", "new"])
        assert stack.instance(parent).state == "fanned_out"
        assert stack.instance(existing.instance_id).state == "open"
        with stack.runtime.db.read() as s:
            opened = s.execute(
                select(History).where(History.instance_id == existing.instance_id, History.trigger == "open")
            ).scalar_one()
            assert opened.dedupe_key.startswith("outbox:")  # it came as a message, in its own transaction
            messages = s.execute(
                select(func.count()).select_from(Outbox).where(Outbox.actor == "child.advance")
            ).scalar_one()
            assert messages == 1
            new = s.execute(select(Instance).where(Instance.business_key == "new")).scalar_one()
        assert [h.dedupe_key.split(":")[0] for h in stack.history(new.id)] == ["start", "inline"]


def test_a_batch_of_fan_outs_starts_every_child_together(stack_kind: str, tmp_path: Path) -> None:
    with running_stack(stack_kind, tmp_path, deadlines=DEADLINES, plugins=PLUGINS_HERE) as stack:
        engine = stack.runtime.engine
        plans = {"q1": ["x", "y"], "q2": ["y2", "shared"], "q3": ["shared", "z"]}
        with stack.runtime.transaction() as session:
            parents = {
                key: engine.start(
                    session, "parent", key, subject=None, context={}, cause=Cause(kind="system")
                )
                for key in plans
            }
        commands = [
            engine.command(
                "parent",
                "fan_out",
                cause=Cause(kind="event", id=key),
                dedupe_key=f"fan-{key}",
                payload={"children": children},
                instance_id=parents[key].instance_id,
            )
            for key, children in plans.items()
        ]
        outcomes = stack.runtime.execute_many(commands)
        assert [o.status for o in outcomes] == ["applied"] * 3
        stack.settle()
        with stack.runtime.db.read() as s:
            children = {
                c.business_key: c
                for c in s.execute(select(Instance).where(Instance.flow == "child")).scalars().all()
            }
            armed = s.execute(
                select(func.count()).select_from(TimerRow).where(TimerRow.status == "armed")
            ).scalar_one()
            notified = s.execute(
                select(func.count()).select_from(Outbox).where(Outbox.actor == "log.notify")
            ).scalar_one()
        assert sorted(children) == ["shared", "x", "y", "y2", "z"]
        assert {c.state for c in children.values()} == {"open"}
        assert (armed, notified) == (5, 5)  # one reminder and one notification per child
        shared = stack.history(children["shared"].id)
        # started by q2 in the batch's transaction; q3's emit found it there and went as a message
        assert [(h.trigger, h.outcome, h.cause_id) for h in shared] == [
            ("start", "applied", f"parent#{parents['q2'].instance_id}"),
            ("open", "applied", f"parent#{parents['q2'].instance_id}"),
            ("open", "rejected", f"parent#{parents['q3'].instance_id}"),
        ]
        inline = [h for c in children.values() for h in stack.history(c.id) if h.outcome == "applied"]
        assert len({h.at for h in inline}) == 1  # every child: one transaction, one clock reading
