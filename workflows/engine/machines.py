"""Flow definitions → ``transitions`` machines: one Machine per flow (per thread), a throwaway model
per message. The machine decides; nothing here touches the database."""

from __future__ import annotations

import threading
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from transitions import Machine, MachineError

from state_machines.base import Context, Flow, Payload, Transition


@dataclass(frozen=True)
class Fired:
    transition: Transition
    dest: str


@dataclass(frozen=True)
class Refused:
    reason: str


class _Model:
    """The throwaway model a machine fires on: its state, plus what the guards saw."""

    def __init__(self, state: str) -> None:
        self.state = state
        self.fired: Transition | None = None
        self.refusals: list[str] = []


def _guard(transition: Transition) -> Any:
    def check(event: Any) -> bool:
        if transition.guard is None:
            return True
        reason = transition.guard(event.kwargs["context"], event.kwargs["payload"], event.kwargs["now"])
        if reason is not None:
            event.model.refusals.append(reason)
            return False
        return True

    return check


def _remember(transition: Transition) -> Any:
    def after(event: Any) -> None:
        event.model.fired = transition

    return after


class FlowMachine:
    """Fires triggers of one flow on plain models restored in a stored state."""

    def __init__(self, flow: Flow) -> None:
        self.flow = flow
        self.machine = Machine(
            model=None,
            states=[s.name for s in flow.states],
            initial=flow.initial,
            auto_transitions=False,
            send_event=True,
            ignore_invalid_triggers=False,
        )
        for t in flow.transitions:
            self.machine.add_transition(
                t.trigger, list(t.source), t.dest, conditions=[_guard(t)], after=[_remember(t)]
            )

    def allowed(self, state: str) -> list[str]:
        return sorted(set(self.machine.get_triggers(state)))

    def fire(
        self, state: str, trigger: str, context: Context, payload: Payload, now: datetime
    ) -> Fired | Refused:
        if trigger not in self.machine.get_triggers(state):
            allowed = ", ".join(self.allowed(state)) or "none: the instance is finished"
            return Refused(f"trigger {trigger!r} is not allowed in state {state!r} (allowed: {allowed})")
        # the model is not added to the machine (``add_model`` binds a method per trigger and state
        # to it — most of the cost of a fire); the trigger's Event fires on it directly, reading and
        # setting ``model.state``
        model = _Model(state)
        try:
            ok = self.machine.events[trigger].trigger(model, context=context, payload=payload, now=now)
        except MachineError as exc:
            return Refused(str(exc.value))
        if not ok or model.fired is None:
            reasons = "; ".join(model.refusals) or "its guard refused"
            return Refused(f"trigger {trigger!r} refused in state {state!r}: {reasons}")
        dest = model.fired.dest if model.fired.dest is not None else state
        return Fired(model.fired, dest)


class MachineCache:
    """One FlowMachine per flow per thread (a ``transitions`` Machine is not thread-safe)."""

    def __init__(self, flows: dict[str, Flow]) -> None:
        self._flows = flows
        self._local = threading.local()

    def get(self, flow: str) -> FlowMachine:
        machines: dict[str, FlowMachine] | None = getattr(self._local, "machines", None)
        if machines is None:
            machines = self._local.machines = {}
        machine = machines.get(flow)
        if machine is None:
            machine = machines[flow] = FlowMachine(self._flows[flow])
        return machine


def mermaid(flow: Flow) -> str:
    """The flow as a Mermaid state diagram (generated, never drawn by hand)."""
    from transitions.extensions.diagrams import GraphMachine

    graph = GraphMachine(
        model=None,
        states=[s.name for s in flow.states],
        initial=flow.initial,
        auto_transitions=False,
        graph_engine="mermaid",
        title=f"{flow.name} v{flow.version}",
        show_conditions=False,
    )
    for t in flow.transitions:
        graph.add_transition(t.trigger, list(t.source), t.dest)

    class _M:
        pass

    model = _M()
    graph.add_model(model, initial=flow.initial)
    try:
        text: str = model.get_graph().draw(None)  # type: ignore[attr-defined]
    finally:
        graph.remove_model(model)
    lines = [line for line in text.splitlines() if "Class " not in line and "classDef" not in line]
    for s in flow.states:
        if s.final:
            lines.append(f"  {s.name} --> [*]")
    return "\n".join(lines).rstrip() + "\n"
