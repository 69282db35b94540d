"""The engine: commands built at the edge, instances started, commands applied — each inside the
caller's database transaction, through the one apply path (``engine.apply``: lock, dedupe, ``decide``,
one write).

Redelivery is a no-op thanks to the unique (instance, dedupe_key) on the history; a trigger that is
not allowed or fails its guard is recorded as a rejected attempt and not retried.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy.orm import Session

from state_machines.base import Flow
from workflows.engine.apply import Applier, Companion, LocalEffect, Outcome, Status
from workflows.engine.commands import Cause, Command, StartSpec, validate_payload
from workflows.engine.deadlines import DeadlineSource, RulesInForce
from workflows.engine.decide import Routing
from workflows.engine.rows import new_instance
from workflows.engine.send import Sender
from workflows.errors import InstanceNotFound, InvalidCommand
from workflows.store.db import Database
from workflows.time.calendar import WorkCalendar
from workflows.time.clock import Clock

__all__ = ["Companion", "Engine", "LocalEffect", "Outcome", "Status"]


class Engine(Sender):
    """The engine's decisions and their persistence. Stateless apart from its collaborators."""

    def __init__(
        self,
        db: Database,
        flows: Mapping[str, Flow],
        clock: Clock,
        rules: RulesInForce,
        *,
        local_effects: Mapping[str, LocalEffect] | None = None,
        companions: Mapping[str, Companion] | None = None,
        inline_starts: bool = True,
    ) -> None:
        self.db = db
        self.flows = dict(flows)
        self.clock = clock
        #: the rules in force, swapped whole on a reload; each start/apply reads them once, so no
        #: transition ever sees a mix of two rule sets
        self.rules = rules
        local = dict(local_effects or {})
        #: an emit that starts a new instance of a flow of this engine is started and fired inside the
        #: emitting transaction (all or nothing, no message); one whose business key exists already goes
        #: out as a message, so that no transaction ever waits for a second row lock. ``local_effects``:
        #: side-effect actors whose work is done inside the emitting transaction instead of through a
        #: message (a push through the in-process ``log`` channel); ``companions``: work done there
        #: *beside* a message to a side-effect actor (a webhook push's delivery row)
        routing = Routing(
            inline=frozenset(self.flows) if inline_starts else frozenset(), local=frozenset(local)
        )
        self.applier = Applier(db.statements, self.flows, routing, local, dict(companions or {}))

    @property
    def deadlines(self) -> DeadlineSource:
        """The deadlines in force (read once per transaction)."""
        return self.rules.current

    @property
    def calendar(self) -> WorkCalendar:
        """The working calendar of the rules in force (their ``calendar.yaml``); a transition counts
        its deadlines on the calendar of the rule set it read, never on this one read apart."""
        return self.rules.current.calendar

    # ----------------------------------------------------------------- edge
    def command(
        self,
        flow: str,
        trigger: str,
        *,
        cause: Cause,
        dedupe_key: str,
        payload: dict[str, Any] | None = None,
        instance_id: int | None = None,
        business_key: str | None = None,
        start: StartSpec | None = None,
    ) -> Command:
        """Build a validated command; raises BadInput (unknown flow/trigger, bad payload, naive time,
        no instance named)."""
        clean = validate_payload(self.flows, flow, trigger, payload or {})
        if instance_id is None and business_key is None:
            raise InvalidCommand.no_target(f"{flow}.{trigger}")
        return Command(
            flow=flow,
            trigger=trigger,
            instance_id=instance_id,
            business_key=business_key,
            payload=clean,
            cause=cause,
            dedupe_key=dedupe_key,
            start=start,
        )

    # ----------------------------------------------------------------- start
    def start(
        self,
        session: Session,
        flow_name: str,
        business_key: str,
        *,
        subject: str | None,
        context: dict[str, Any],
        cause: Cause,
        rules: DeadlineSource | None = None,
    ) -> Outcome:
        """Start an instance, or return the existing one with that business key (idempotent)."""
        flow = self.applier.flow(flow_name)
        rules = rules or self.deadlines
        now = self.clock.now()
        conn = session.connection()
        new = new_instance(flow, business_key, subject, context, cause, rules, now)
        started = self.applier.start(conn, flow, rules, [new], now)
        if business_key in started:
            return Outcome("started", started[business_key], flow.initial)
        for row in self.applier.statements.lock(conn, flow.name, [], [business_key]):
            return Outcome("existing", row.id, row.state)
        raise InstanceNotFound(f"no {flow.name} instance with business key {business_key!r}")

    # ----------------------------------------------------------------- apply
    def apply(self, session: Session, command: Command, outbox_id: str | None = None) -> Outcome:
        """Apply one command inside the caller's transaction: a batch of one (``apply_many``)."""
        return self.apply_many(session, [command], outbox_id)[0]

    def apply_many(
        self, session: Session, commands: Sequence[Command], outbox_id: str | Sequence[str] | None = None
    ) -> list[Outcome]:
        """Apply commands of one flow, in order, inside the caller's transaction (reading the rules
        once for all of them), each with the outcome it would get alone — with one lock, one dedupe
        read and one write per round (``engine.apply``), and the consumed message ``outbox_id`` (or
        messages, a group commit's) marked done in the first. Any other failure fails them all, and
        nothing is written."""
        if not commands:
            return []
        names = {c.flow for c in commands}
        if len(names) != 1:
            raise ValueError(f"a batch is of one flow, got {sorted(names)}")
        flow = self.applier.flow(names.pop())
        done = (outbox_id,) if isinstance(outbox_id, str) else tuple(outbox_id or ())
        return self.applier.apply(session, flow, self.deadlines, commands, done, self.clock.now())
