"""Composition: settings → plug-ins → database → clock → broker → rules → deliveries → engine → relay →
sweeper.

Built in entry points (``worker.py``, the CLI, tests) and passed down; nothing here runs at import.
The flow plug-ins come from the caller (the composition root lists them): the runtime never imports one.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import dramatiq
from dramatiq.brokers.stub import StubBroker
from dramatiq.middleware import CurrentMessage, Retries
from sqlalchemy.orm import Session

from state_machines.base import Flow
from workflows.delivery.service import Deliveries, build_deliveries, engine_hooks
from workflows.engine.commands import Command
from workflows.engine.core import Engine, LocalEffect, Outcome
from workflows.engine.deadlines import DeadlineSource, RulesInForce
from workflows.engine.group import GroupCommit
from workflows.engine.rows import advance_actor
from workflows.messaging.broker_view import prepare
from workflows.messaging.brokers import build_broker
from workflows.messaging.deadletters import RecordDeadLetters
from workflows.messaging.outbox import Relay
from workflows.messaging.recovery import Recovery
from workflows.messaging.timers import Sweeper
from workflows.plugins import FlowPlugin, PluginEffect, Registry
from workflows.ruleset.adapter import FollowRules, RuleDeadlines, RulesFollower, startup_deadlines
from workflows.ruleset.versions import RuleVersions
from workflows.settings import Settings
from workflows.store.db import Database
from workflows.store.migrate import upgrade
from workflows.store.rows import Pending
from workflows.store.sql import DONE
from workflows.time.clock import Clock, SimulatedClock, SystemClock, build_clock

log = logging.getLogger("yunshang")


@dataclass
class Runtime:
    settings: Settings
    db: Database
    clock: SystemClock | SimulatedClock
    broker: dramatiq.Broker
    engine: Engine
    relay: Relay
    sweeper: Sweeper
    registry: Registry
    rules: RulesInForce
    deliveries: Deliveries
    #: re-sends lost outbox rows, records the broker's dead letters
    recovery: Recovery
    #: keeps ``rules`` on the database's active version (None when the deadlines were given)
    follower: RulesFollower | None = None
    #: applies the single commands of concurrent worker threads together (``engine.group``)
    committer: GroupCommit | None = None

    def __post_init__(self) -> None:
        if self.committer is None:
            self.committer = GroupCommit(
                self.execute_group, self.execute, self.settings.group_commit, self.settings.group_gather
            )

    @contextmanager
    def transaction(self) -> Iterator[Session]:
        """A transaction whose outbox rows are sent to the broker once it has committed
        (``Relay.transaction``)."""
        with self.relay.transaction() as session:
            yield session

    def execute(self, command: Command, outbox_id: str | None = None) -> Outcome:
        with self.transaction() as session:
            return self.engine.apply(session, command, outbox_id)

    def submit(self, command: Command, outbox_id: str | None = None) -> Outcome:
        """Apply a message's one command, with those other worker threads hold at the same time
        (``GroupCommit``); alone when grouping is off (``group_commit = 1``)."""
        if self.settings.group_commit <= 1 or self.committer is None:
            return self.execute(command, outbox_id)
        return self.committer.execute(command, outbox_id)

    def execute_group(self, commands: Sequence[Command], outbox_ids: Sequence[str | None]) -> list[Outcome]:
        """Commands of one flow from several messages, in one transaction whose write marks every
        message's outbox row done, in id order: the relay's sent-stamp locks them in that order too,
        so the two never deadlock."""
        ids = sorted(oid for oid in outbox_ids if oid is not None)
        with self.transaction() as session:
            return self.engine.apply_many(session, commands, ids)

    def execute_many(self, commands: list[Command], outbox_id: str | None = None) -> list[Outcome]:
        with self.transaction() as session:
            return self.engine.apply_many(session, commands, outbox_id)

    def split(self, flow: str, commands: list[dict[str, Any]], outbox_id: str | None) -> list[str]:
        """Re-send a failed batch of ``flow`` as one ``<flow>.advance`` message per command, as it
        came (so a bad command, even a malformed one, fails alone); the batch's message is marked
        done in the same transaction."""
        messages = [Pending(str(uuid.uuid4()), flow, advance_actor(flow), body) for body in commands]
        with self.transaction() as session:
            self.engine.write_messages(session, messages)
            if outbox_id is not None:
                session.connection().execute(DONE, {"oid": outbox_id, "now": self.clock.now()})
        return [message.id for message in messages]

    def close(self) -> None:
        """Release the broker and the database connections (again: nothing more)."""
        if getattr(self, "_closed", False):
            return
        self._closed = True
        self.relay.close()
        self.broker.close()
        self.db.dispose()


def default_deadlines(
    settings: Settings,
    db: Database | None = None,
    clock: Clock | None = None,
    flows: Mapping[str, Flow] | None = None,
) -> DeadlineSource:
    """The rules' deadlines. With a database: its active stored version (the folder, stored and
    activated, when there is none yet, if it keeps the contract with ``flows``); without one: the
    rules folder as it is."""
    if db is None or clock is None:
        return RuleDeadlines.load(settings.rules_dir)
    return startup_deadlines(RuleVersions(db, clock, flows or {}), settings.rules_dir)


def build_runtime(
    settings: Settings,
    *,
    plugins: Sequence[FlowPlugin],
    deadlines: DeadlineSource | None = None,
    migrate: bool = True,
    broker: dramatiq.Broker | None = None,
    declare: Callable[[Runtime], None] | None = None,
    dispatch: bool = True,
) -> Runtime:
    """Wire a runtime for ``plugins``; ``declare`` registers the actors (the engine never imports
    ``actors``). Raises ``PluginConflict`` when two plug-ins claim one name."""
    registry = Registry(plugins)
    # ``transitions`` logs every state exit and entry at INFO: per transition, in every process
    logging.getLogger("transitions").setLevel(max(logging.WARNING, logging.getLogger().level))
    db = Database(
        settings.database_url,
        pool_size=max(4, settings.worker_threads + 2),
        lock_timeout=settings.lock_timeout,
        statement_timeout=settings.statement_timeout,
        idle_in_transaction_timeout=settings.idle_in_transaction_timeout,
    )
    if migrate:
        upgrade(db)
    clock = build_clock(settings.clock == "simulated", db)
    if broker is None:
        broker = build_broker(settings)
        broker.add_middleware(CurrentMessage())
        # ``after`` hooks run in reverse order: placed before Retries, it sees the message Retries failed
        broker.add_middleware(RecordDeadLetters(db, clock), before=Retries)
    view = prepare(
        broker, heartbeat_ms=settings.redis_heartbeat_ms, maintenance_chance=settings.redis_maintenance_chance
    )
    if isinstance(broker, StubBroker):
        broker.emit_after("process_boot")
    try:
        rules = RulesInForce(deadlines or default_deadlines(settings, db, clock, registry.flows))
    except BaseException:  # e.g. rules that break the contract: leave no connection behind
        db.dispose()
        raise
    follower = None
    if deadlines is None and settings.rules_poll_interval > 0:
        # every process follows the database's active rule version while its worker runs
        versions = RuleVersions(db, clock, registry.flows)
        follower = RulesFollower(rules, versions, settings.rules_poll_interval)
        broker.add_middleware(FollowRules(follower))
    deliveries = build_deliveries(settings, db, clock, rules, registry.recipients, registry.titles)
    local_effects, companions = engine_hooks(deliveries)
    built: list[Engine] = []  # the plug-ins' local effects take the engine they run in
    for name, effect in registry.local_effects.items():
        local_effects[name] = _bound(effect, built)
    engine = Engine(
        db,
        registry.flows,
        clock,
        rules,
        local_effects=local_effects,
        companions=companions,
    )
    built.append(engine)
    relay = Relay(db, broker, clock, dispatch=dispatch)
    recovery = Recovery(
        db,
        relay,
        view,
        clock,
        unsent_grace=settings.relay_grace,
        redeliver_after=settings.redeliver_after,
        max_sends=settings.max_sends,
    )
    runtime = Runtime(
        settings,
        db,
        clock,
        broker,
        engine,
        relay,
        Sweeper(db, clock, relay, message_batch=settings.batch_size),
        registry,
        rules,
        deliveries,
        recovery,
        follower,
    )
    if declare is not None:
        declare(runtime)
    return runtime


def _bound(effect: PluginEffect, built: list[Engine]) -> LocalEffect:
    def local(session: Session, items: list[tuple[dict[str, Any], str]]) -> None:
        effect(session, built[0], items)

    return local
