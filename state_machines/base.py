"""The vocabulary every flow definition is written in: states, triggers, transitions, timers.

A flow is *data*: the engine turns it into one ``transitions`` Machine and persists everything.
Guards and effects are pure functions of (context, payload, now); they never do I/O.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any, Literal

from pydantic import BaseModel

#: the engine's side-effect actor that delivers a push (a notice, a warning, a reminder) to whoever the
#: rules name for its ``kind``; an ``Emit(target=PUSH_ACTOR, payload={"kind": …, …})`` asks for one
PUSH_ACTOR = "deliveries.push"

Context = Mapping[str, Any]
Payload = Mapping[str, Any]
#: A guard answers ``None`` when the transition may run, or the reason it may not.
Guard = Callable[[Context, Payload, datetime], str | None]


@dataclass(frozen=True)
class TriggerRef:
    """A trigger of another flow, as that flow declares it: its name, the trigger, and the payload
    model the trigger takes. A flow that asks another for work builds its ``Emit`` from one (``emit``),
    so both sides name one declaration, never a string each."""

    flow: str
    trigger: str
    payload: type[BaseModel]

    def emit(
        self, payload: BaseModel, *, business_key: str, start: bool = False, subject: str | None = None
    ) -> Emit:
        """Fire this trigger on the instance of ``flow`` with ``business_key`` (started first when
        ``start``); ``payload`` must be an instance of the declared model, sent as JSON."""
        if not isinstance(payload, self.payload):
            raise TypeError(
                f"{self.flow}.{self.trigger} takes a {self.payload.__name__} payload, "
                f"not {type(payload).__name__}"
            )
        return Emit(
            target=self.flow,
            trigger=self.trigger,
            business_key=business_key,
            payload=payload.model_dump(mode="json"),
            start=start,
            subject=subject,
        )


@dataclass(frozen=True)
class Emit:
    """Work a transition asks for beyond its own instance.

    ``target`` is ``"<flow>"`` to fire ``trigger`` on the instance of that flow with ``business_key``
    (starting it first when ``start`` is true), or any other actor name for a side effect. The engine
    sends it through the outbox after commit, except when it can do the work in the same transaction:
    starting a new instance of a flow it runs, or a side effect registered as local (see
    the engine's ``local_effects``).
    """

    target: str
    trigger: str = ""
    business_key: str = ""
    payload: Mapping[str, Any] = field(default_factory=dict)
    start: bool = False
    subject: str | None = None


@dataclass(frozen=True)
class Effect:
    """What a transition decides beyond the state change: context updates and messages."""

    context: Mapping[str, Any] = field(default_factory=dict)
    emits: tuple[Emit, ...] = ()


EffectFn = Callable[[Context, Payload, datetime], Effect]


class TimerKind(StrEnum):
    #: passing it makes the case overdue (red)
    deadline = "deadline"
    #: an early (yellow) warning: passing it does not make the case overdue
    warning = "warning"


@dataclass(frozen=True)
class Timer:
    """A timer armed when its state is entered and cancelled when the state is left.

    ``name`` names the rule (looked up as flow → state → name in the deadline rules, which must have
    one for every timer of every state), ``trigger`` is fired on the instance when the timer falls due.
    ``kind`` says what passing it means: a ``deadline`` (the default) makes the case overdue; a
    ``warning`` is an early (yellow) reminder and does not.
    """

    name: str
    trigger: str
    kind: TimerKind | Literal["deadline", "warning"] = TimerKind.deadline

    def __post_init__(self) -> None:
        object.__setattr__(self, "kind", TimerKind(self.kind))  # "warning" → TimerKind.warning


@dataclass(frozen=True)
class State:
    name: str
    timers: tuple[Timer, ...] = ()
    final: bool = False
    description: str = ""


@dataclass(frozen=True)
class Trigger:
    name: str
    payload: type[BaseModel] | None = None
    description: str = ""


@dataclass(frozen=True)
class Transition:
    trigger: str
    source: tuple[str, ...]
    #: ``None`` for an internal transition: the state (and its timers) stay as they are
    dest: str | None
    guard: Guard | None = None
    effect: EffectFn | None = None
    #: an internal transition may stop the clocks of its state's timers named here (a rectification
    #: period, an approved extension 延期) ...
    suspends: tuple[str, ...] = ()
    #: ... and start them again with the budget they had left (the engine keeps the ledger)
    resumes: tuple[str, ...] = ()


@dataclass(frozen=True)
class Flow:
    """A flow definition. ``version`` changes when states or transitions change incompatibly."""

    name: str
    version: int
    initial: str
    states: tuple[State, ...]
    triggers: tuple[Trigger, ...]
    transitions: tuple[Transition, ...]
    description: str = ""
    #: start-of-flow context validation (optional)
    context_model: type[BaseModel] | None = None
    #: the triggers of other flows this flow fires, as those flows declare them (``TriggerRef.emit``)
    sends: tuple[TriggerRef, ...] = ()

    def __post_init__(self) -> None:
        names = {s.name for s in self.states}
        triggers = {t.name for t in self.triggers}
        if self.initial not in names:
            raise ValueError(f"flow {self.name}: initial state {self.initial!r} is not a declared state")
        for t in self.transitions:
            unknown = [s for s in (*t.source, t.dest) if s is not None and s not in names]
            if unknown:
                raise ValueError(f"flow {self.name}: transition {t.trigger!r} names unknown states {unknown}")
            if t.trigger not in triggers:
                raise ValueError(f"flow {self.name}: transition uses undeclared trigger {t.trigger!r}")
        for s in self.states:
            for timer in s.timers:
                if timer.trigger not in triggers:
                    raise ValueError(f"flow {self.name}: timer {timer.name!r} fires unknown trigger")
        for t in self.transitions:
            self._check_clocks(t)

    def _check_clocks(self, t: Transition) -> None:
        """A transition that suspends or resumes timers is internal, and names timers of every one of
        its source states."""
        named = (*t.suspends, *t.resumes)
        if not named:
            return
        if t.dest is not None:
            raise ValueError(
                f"flow {self.name}: transition {t.trigger!r} suspends or resumes timers, so it must be "
                "internal (dest None): leaving a state cancels its timers"
            )
        for source in t.source:
            own = {timer.name for timer in self.state(source).timers}
            unknown = sorted(set(named) - own)
            if unknown:
                raise ValueError(
                    f"flow {self.name}: transition {t.trigger!r} names timers {unknown} that state "
                    f"{source!r} does not arm"
                )

    @property
    def state_names(self) -> frozenset[str]:
        return frozenset(s.name for s in self.states)

    def timers(self) -> Iterator[tuple[State, Timer]]:
        """Every (state, timer) of the flow, in declaration order."""
        for s in self.states:
            for timer in s.timers:
                yield s, timer

    def state(self, name: str) -> State:
        for s in self.states:
            if s.name == name:
                return s
        raise KeyError(name)

    def trigger(self, name: str) -> Trigger | None:
        for t in self.triggers:
            if t.name == name:
                return t
        return None


def transition(
    trigger: str,
    source: str | tuple[str, ...],
    dest: str | None,
    *,
    guard: Guard | None = None,
    effect: EffectFn | None = None,
    suspends: tuple[str, ...] = (),
    resumes: tuple[str, ...] = (),
) -> Transition:
    sources = (source,) if isinstance(source, str) else source
    return Transition(trigger, sources, dest, guard, effect, suspends, resumes)


def warning_timers(flows: Iterable[Flow]) -> frozenset[tuple[str, str]]:
    """(flow, timer name) of every warning timer of ``flows``: passing them makes no case overdue."""
    return frozenset(
        (flow.name, timer.name)
        for flow in flows
        for _, timer in flow.timers()
        if timer.kind == TimerKind.warning
    )
