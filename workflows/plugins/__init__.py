"""Flow plug-ins: what a business flow brings to the engine, declared in one object.

A flow plug-in is a package under ``workflows/flows/<flow>/`` whose ``PLUGIN`` names everything the
flow adds: its state machines (from ``state_machines/``), the CloudEvent types it accepts with their
``data`` models and routes, its API router and CLI commands, who receives its pushes, its demo part
(``workflows.demo``: ``yunshang demo`` runs the parts of every plug-in listed), the explainers of its
events and the rule sections it reads. The composition root (``worker.py``) lists the plug-ins;
``Registry`` checks that no two of them claim one flow, event type or actor name and gives the engine
core (which never imports a plug-in) what it needs, by name.

Nothing registers itself at import time: a plug-in is a value, and leaving it out of the list leaves
the flow out of the engine.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any, Protocol

from sqlalchemy.orm import Session

from rules import RuleSet
from state_machines.base import Flow, warning_timers
from workflows.delivery.recipients import Resolver
from workflows.engine.core import Engine
from workflows.engine.rows import advance_actor, batch_actor
from workflows.errors import YunshangError
from workflows.plugins.routes import BatchWrite, EventRoute, Prefetch
from workflows.time.calendar import WorkCalendar

if TYPE_CHECKING:
    import typer
    from fastapi import APIRouter


class PluginConflict(YunshangError):
    """Two plug-ins claim one name; the engine refuses to start."""

    code = "plugin_conflict"


class FlowContractBroken(YunshangError):
    """A flow sends a trigger of another flow the engine runs, which declares it differently."""

    code = "flow_contract_broken"


class Explained(Protocol):
    """The dry run of one event (``yunshang rules explain``)."""

    def as_json(self) -> dict[str, Any]: ...

    def as_text(self) -> str: ...


#: (rule set, the CloudEvent as JSON, the rules' calendar, deadlines counted from: the state entry the
#: event would cause, an aware instant) → the dry run; raises BadInput
Explainer = Callable[[RuleSet, Any, WorkCalendar, datetime], Explained]
#: adds the plug-in's commands to the root Typer app while the CLI is built
CliHook = Callable[["typer.Typer"], None]
#: work a transition asks for (``Emit(target=<name>)``) done inside the emitting transaction, with the
#: session and the engine: (session, engine, [(body, id)]) → None; a body holds ``instance_id``,
#: ``flow`` and the emit's ``payload``
PluginEffect = Callable[[Session, Engine, list[tuple[dict[str, Any], str]]], None]


@dataclass(frozen=True)
class FlowPlugin:
    """Everything one business flow brings to the engine."""

    name: str
    flows: tuple[Flow, ...]
    description: str = ""
    events: tuple[EventRoute, ...] = ()
    #: reads once per batch what the routes of ``events`` would read event by event (``Prefetch``)
    prefetch: Prefetch | None = None
    #: writes once per batch routed whole what the routes of ``events`` would write event by event
    #: (``BatchWrite``)
    batch_write: BatchWrite | None = None
    #: the API router of the flow's own endpoints, built on demand (FastAPI imported only by the API)
    router: Callable[[], APIRouter] | None = None
    #: the flow's own dashboard pages (``workflows.ui``), a router mounted at ``/ui``, built on demand
    pages: Callable[[], APIRouter] | None = None
    #: the folder of the templates those pages render (found after the core's own)
    templates: str | None = None
    #: the flow's entries in the dashboard's navigation bar: (label, path under /ui, whether a
    #: department-scoped operator sees it: its page limits itself to the department)
    nav: tuple[tuple[str, str, bool], ...] = ()
    cli: CliHook | None = None
    #: who receives the pushes (``deliveries.push``) the flow's instances emit, by push kind
    recipients: Resolver | None = None
    #: push titles by kind (``str.format`` over the push's payload)
    titles: Mapping[str, str] = field(default_factory=dict)
    explainers: Mapping[str, Explainer] = field(default_factory=dict)
    #: rule files (and sections) the flow reads, e.g. ``deadlines.yaml: flows.dual_notification``
    rule_sections: tuple[str, ...] = ()
    #: side-effect actors of the flow's own (besides the engine's ``<flow>.advance`` actors)
    actors: tuple[str, ...] = ()
    #: in-transaction effects of the flow's own, by emit target (``PluginEffect``)
    local_effects: Mapping[str, PluginEffect] = field(default_factory=dict)
    #: makes the flow's part of ``yunshang demo``, a ``workflows.demo.parts.DemoPart`` (typed loosely
    #: here: the demo package imports the runtime, which imports this module; the runner checks it)
    demo: Callable[[], object] | None = None

    def actor_names(self) -> list[str]:
        names = [name for flow in self.flows for name in (advance_actor(flow.name), batch_actor(flow.name))]
        return names + list(self.actors)


class Registry:
    """The plug-ins the composition root chose, checked for collisions and indexed by name."""

    def __init__(self, plugins: Iterable[FlowPlugin]) -> None:
        self.plugins: tuple[FlowPlugin, ...] = tuple(plugins)
        self._index("plug-in", ((p, p.name, p) for p in self.plugins))
        self.flows: dict[str, Flow] = self._index(
            "flow", ((p, f.name, f) for p in self.plugins for f in p.flows)
        )
        #: every route of each accepted event type, in plug-in order: several plug-ins may subscribe
        #: to one type (a license starts notices and a grid check) when they declare one ``data`` model
        self.routes: dict[str, tuple[EventRoute, ...]] = self._subscriptions()
        #: the first route of each event type (its ``data`` model is every route's)
        self.events: dict[str, EventRoute] = {name: routes[0] for name, routes in self.routes.items()}
        #: each plug-in's batch prefetch with the event types it routes, in plug-in order
        self.prefetches: tuple[tuple[frozenset[str], Prefetch], ...] = tuple(
            (frozenset(r.event_type for r in p.events), p.prefetch) for p in self.plugins if p.prefetch
        )
        #: each plug-in's batch write with the event types it routes, in plug-in order
        self.batch_writes: tuple[tuple[frozenset[str], BatchWrite], ...] = tuple(
            (frozenset(r.event_type for r in p.events), p.batch_write) for p in self.plugins if p.batch_write
        )
        self._index("actor", ((p, name, name) for p in self.plugins for name in p.actor_names()))
        self.explainers: dict[str, Explainer] = self._index(
            "explainer of event type", ((p, t, x) for p in self.plugins for t, x in p.explainers.items())
        )
        self.local_effects: dict[str, PluginEffect] = self._index(
            "local effect", ((p, name, fn) for p in self.plugins for name, fn in p.local_effects.items())
        )
        self.recipients: dict[str, Resolver] = {
            flow.name: p.recipients for p in self.plugins if p.recipients for flow in p.flows
        }
        #: the demo part factories, by plug-in name, in plug-in order
        self.demos: dict[str, Callable[[], object]] = {p.name: p.demo for p in self.plugins if p.demo}
        self.titles: dict[str, Mapping[str, str]] = {
            flow.name: p.titles for p in self.plugins for flow in p.flows
        }
        #: (flow, timer) of every warning timer: passing one makes no case overdue
        self.warning_timers: frozenset[tuple[str, str]] = warning_timers(self.flows.values())
        self._check_sends()

    def _subscriptions(self) -> dict[str, tuple[EventRoute, ...]]:
        found: dict[str, list[tuple[FlowPlugin, EventRoute]]] = {}
        for plugin in self.plugins:
            for route in plugin.events:
                earlier = found.setdefault(route.event_type, [])
                for owner, other in earlier:
                    if owner is plugin:
                        raise PluginConflict(
                            f"event type {route.event_type!r} is declared twice by plug-in {plugin.name!r}"
                        )
                    if other.model is not route.model:
                        raise PluginConflict(
                            f"event type {route.event_type!r} takes {other.model.__name__} in plug-in "
                            f"{owner.name!r} and {route.model.__name__} in plug-in {plugin.name!r}: "
                            "plug-ins that share an event type share its data model (workflows/upstream)"
                        )
                earlier.append((plugin, route))
        return {name: tuple(route for _, route in pairs) for name, pairs in found.items()}

    def _check_sends(self) -> None:
        """A trigger one flow sends to another that runs here must be declared there, with the same
        payload model. (A target that does not run yet is fine: its messages wait in the outbox.)"""
        for flow in self.flows.values():
            for ref in flow.sends:
                target = self.flows.get(ref.flow)
                if target is None:
                    continue
                declared = target.trigger(ref.trigger)
                if declared is None or declared.payload is not ref.payload:
                    takes = "is not declared" if declared is None else f"takes {_model(declared.payload)}"
                    raise FlowContractBroken(
                        f"flow {flow.name!r} sends {ref.flow}.{ref.trigger} with {_model(ref.payload)}, "
                        f"but in flow {ref.flow!r} that trigger {takes}: declare "
                        f"Trigger({ref.trigger!r}, {ref.payload.__name__}) in {ref.flow}"
                    )

    @staticmethod
    def _index(what: str, items: Iterable[tuple[FlowPlugin, str, Any]]) -> dict[str, Any]:
        owners: dict[str, FlowPlugin] = {}
        found: dict[str, Any] = {}
        for plugin, name, value in items:
            if name in owners:
                raise PluginConflict(
                    f"{what} {name!r} is claimed by plug-in {owners[name].name!r} and by plug-in "
                    f"{plugin.name!r}; remove one of them from the plug-in list (worker.py)"
                )
            owners[name] = plugin
            found[name] = value
        return found


def _model(model: type[Any] | None) -> str:
    return "no payload" if model is None else f"a {model.__name__} payload"
