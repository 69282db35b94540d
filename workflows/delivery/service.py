"""Deliveries (秒推): every push becomes a row with channel, recipient, status and attempts, and is sent
through a channel adapter.

The outbox id is the delivery's dedupe key, so a redelivered message never makes a second row: it
resumes the one there is. ``log`` (the default) writes the push to the log; ``webhook`` POSTs it as
JSON signed with HMAC-SHA256 (``X-Yunshang-Signature: sha256=<hex>`` over the exact body bytes) and
names the delivery in ``X-Yunshang-Delivery`` so receivers can drop a copy sent twice (a redelivery
racing a retry). A failed POST is retried with backoff; after ``webhook_max_attempts`` the delivery
is ``dead``. The outbox row is marked done in the transaction that records a final status.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from sqlalchemy import bindparam, insert, select
from sqlalchemy.orm import Session

from rules import RuleSet, load_rules
from state_machines.base import PUSH_ACTOR
from workflows.delivery.channels import Channel, DeliveryFailed, build_channel
from workflows.delivery.recipients import NoRecipient, Recipient, Resolver
from workflows.engine.core import Companion, LocalEffect
from workflows.engine.deadlines import RulesInForce
from workflows.settings import Settings
from workflows.store.db import Database
from workflows.store.models import Delivery, table
from workflows.store.sql import DONE
from workflows.time.clock import Clock

log = logging.getLogger("yunshang.deliveries")

_DELIVERIES = table(Delivery)
_INSERT = insert(_DELIVERIES)
#: the send path's UPDATE as a prebuilt Core statement (an ORM-enabled UPDATE costs several times more)
_SENT = (
    _DELIVERIES.update()
    .where(_DELIVERIES.c.id == bindparam("row_id"))
    .values(status="sent", attempts=_DELIVERIES.c.attempts + 1, sent_at=bindparam("now"), last_error=None)
)
FINAL = frozenset({"sent", "dead"})


@dataclass(frozen=True)
class Outcome:
    status: Literal["sent", "dead", "retry"]
    delivery_id: int | None = None
    retry_in_ms: int = 0
    error: str | None = None


@dataclass(frozen=True)
class Policy:
    max_attempts: int = 5
    min_backoff_ms: int = 1_000
    max_backoff_ms: int = 60_000

    def backoff_ms(self, attempts: int) -> int:
        return int(min(self.min_backoff_ms * 2 ** max(attempts - 1, 0), self.max_backoff_ms))


class Deliveries:
    """The ``deliveries.push`` side effect. ``rules`` returns the rule set in force (hot reload safe)."""

    def __init__(
        self,
        db: Database,
        clock: Clock,
        rules: Callable[[], RuleSet],
        channel: Channel,
        policy: Policy,
        *,
        recipients: Mapping[str, Resolver],
        titles: Mapping[str, Mapping[str, str]] | None = None,
    ) -> None:
        self.db = db
        self.clock = clock
        self.rules = rules
        self.channel = channel
        self.policy = policy
        #: who receives the pushes of each flow (the flow plug-ins' resolvers)
        self.recipients = dict(recipients)
        self.titles = dict(titles or {})

    @property
    def local(self) -> bool:
        """Whether pushes never leave the process (done inside the emitting transaction)."""
        return self.channel.local

    def push(self, body: Mapping[str, Any], outbox_id: str) -> Outcome:
        """Record and send one push; safe to call again with the same outbox id."""
        if (
            not self.channel.local
        ):  # usually recorded (pending) by the emitting transaction: only read it here
            with self.db.read() as session:
                found = session.execute(
                    select(Delivery.id, Delivery.status, Delivery.payload).where(
                        Delivery.dedupe_key == outbox_id
                    )
                ).first()
            if found is not None and found.status not in FINAL:
                return self._send(found.id, outbox_id, dict(found.payload))
        with self.db.transaction() as session:
            row = self._row(session, body, outbox_id)
            if row.status in FINAL:
                self._done(session, outbox_id)
                return Outcome("sent" if row.status == "sent" else "dead", row.id)
            row_id, message = row.id, dict(row.payload)
            if self.channel.local:  # nothing leaves the process: one transaction
                self.channel.send(outbox_id, message)
                row.status, row.attempts, row.sent_at, row.last_error = (
                    "sent",
                    row.attempts + 1,
                    self.clock.now(),
                    None,
                )
                self._done(session, outbox_id)
                return Outcome("sent", row_id)
        return self._send(row_id, outbox_id, message)

    def _send(self, row_id: int, outbox_id: str, message: dict[str, Any]) -> Outcome:
        """POST a recorded push, then record that it was sent (or failed)."""
        try:
            self.channel.send(outbox_id, message)
        except DeliveryFailed as exc:
            return self._failed(row_id, outbox_id, str(exc))
        with self.db.transaction() as session:
            now = self.clock.now()
            conn = session.connection()
            conn.execute(_SENT, {"row_id": row_id, "now": now})
            conn.execute(DONE, {"oid": outbox_id, "now": now})
        return Outcome("sent", row_id)

    def record_local(self, session: Session, pushes: list[tuple[dict[str, Any], str]]) -> None:
        """Pushes (body, delivery id) through a local channel, done in the emitting transaction
        (the engine's ``local_effects``) and recorded as ``sent`` in it, in one INSERT. Like every side effect
        here it is at least once: a transaction that rolls back after the channel was called is
        retried, and calls it again."""
        rows = []
        for body, delivery_id in pushes:
            values = self._values(body, delivery_id)
            if values["status"] == "pending":
                self.channel.send(delivery_id, values["payload"])
                values.update(status="sent", attempts=1, sent_at=values["created_at"])
            rows.append(values)
        self.db.statements.insert_rows(session.connection(), _DELIVERIES, rows)

    def record_pending(self, session: Session, body: dict[str, Any], outbox_id: str) -> None:
        """The delivery row of a push that goes out through ``deliveries.push``, written by the
        emitting transaction (the engine's ``companions``): it exists as soon as the transition does,
        and the actor only has to send it."""
        session.connection().execute(_INSERT, self._values(body, outbox_id))

    def _row(self, session: Session, body: Mapping[str, Any], outbox_id: str) -> Delivery:
        found = session.execute(select(Delivery).where(Delivery.dedupe_key == outbox_id)).scalar()
        if found is not None:
            return found
        values = self._values(body, outbox_id)
        insert = self.db.statements.insert_ignoring(_DELIVERIES, ("dedupe_key",), "id")
        session.connection().execute(insert, values)
        return session.execute(select(Delivery).where(Delivery.dedupe_key == outbox_id)).scalar_one()

    def _values(self, body: Mapping[str, Any], outbox_id: str) -> dict[str, Any]:
        """The delivery row of a push: its recipient resolved from the rules in force, or ``dead``."""
        flow = str(body.get("flow", ""))
        payload = dict(body.get("payload") or {})
        values: dict[str, Any] = dict(
            dedupe_key=outbox_id,
            instance_id=body.get("instance_id"),
            kind=str(payload.get("kind", ""))[:32],
            channel=self.channel.name,
            attempts=0,
            created_at=self.clock.now(),
            last_error=None,
            sent_at=None,
        )
        try:
            resolver = self.recipients.get(flow)
            if resolver is None:
                raise NoRecipient(f"flow {flow!r} declares no push recipients (its plug-in's `recipients`)")
            recipient = resolver(self.rules(), flow, payload)
        except (NoRecipient, KeyError) as exc:
            # recorded as dead at once, so operators see a push that reached nobody
            log.warning("push %s (%s) has no recipient: %s", outbox_id, payload.get("kind"), exc)
            values.update(
                recipient="", payload={"data": payload}, status="dead", last_error=f"no recipient: {exc}"
            )
        else:
            message = compose(outbox_id, body, recipient, self.titles.get(flow, {}))
            values.update(recipient=recipient.address[:200], payload=message, status="pending")
        return values

    def _failed(self, row_id: int, outbox_id: str, error: str) -> Outcome:
        with self.db.transaction() as session:
            row = session.get(Delivery, row_id, with_for_update=self.db.is_postgres)
            assert row is not None
            row.attempts += 1
            row.last_error = error[:2000]
            dead = row.attempts >= self.policy.max_attempts
            row.status = "dead" if dead else "failed"
            attempts = row.attempts
            if dead:
                self._done(session, outbox_id)
        if dead:
            log.error("push %s is dead after %d attempts: %s", outbox_id, attempts, error)
            return Outcome("dead", row_id, error=error)
        delay = self.policy.backoff_ms(attempts)
        log.warning("push %s attempt %d failed (retry in %d ms): %s", outbox_id, attempts, delay, error)
        return Outcome("retry", row_id, delay, error)

    def _done(self, session: Session, outbox_id: str) -> None:
        session.connection().execute(DONE, {"oid": outbox_id, "now": self.clock.now()})


def compose(
    delivery_id: str, body: Mapping[str, Any], recipient: Recipient, titles: Mapping[str, str]
) -> dict[str, Any]:
    """The JSON a channel sends: what happened, to whom, about which case. ``titles`` are the flow
    plug-in's, by push kind (``str.format`` over the payload; a missing field reads as empty)."""
    payload = dict(body.get("payload") or {})
    kind = str(payload.get("kind", ""))
    return {
        "id": delivery_id,
        "kind": kind,
        "title": titles.get(kind, kind).format_map(_Blank(payload)),
        "recipient": recipient.as_json(),
        "step": recipient.step,
        "flow": body.get("flow"),
        "instance_id": body.get("instance_id"),
        "data": payload,
    }


class _Blank(dict[str, Any]):
    def __missing__(self, key: str) -> str:
        return ""


class PushRules:
    """The rule set pushes are resolved with: the rules in force, or — when the engine runs on static
    deadlines (tests, benchmarks) — the settings' rules folder, loaded once."""

    def __init__(self, rules: RulesInForce, directory: Path) -> None:
        self._rules = rules
        self._directory = directory
        self._loaded: RuleSet | None = None

    def __call__(self) -> RuleSet:
        ruleset = self._rules.current.ruleset
        if ruleset is not None:
            return ruleset
        if self._loaded is None:
            self._loaded = load_rules(self._directory)
        return self._loaded


def build_deliveries(
    settings: Settings,
    db: Database,
    clock: Clock,
    rules: RulesInForce,
    recipients: Mapping[str, Resolver],
    titles: Mapping[str, Mapping[str, str]],
) -> Deliveries:
    """The ``deliveries.push`` service of a runtime, with the channel and retry policy of ``settings``."""
    policy = Policy(
        max_attempts=settings.webhook_max_attempts,
        min_backoff_ms=settings.webhook_min_backoff_ms,
        max_backoff_ms=settings.webhook_max_backoff_ms,
    )
    return Deliveries(
        db,
        clock,
        PushRules(rules, settings.rules_dir),
        build_channel(settings),
        policy,
        recipients=recipients,
        titles=titles,
    )


def engine_hooks(service: Deliveries) -> tuple[dict[str, LocalEffect], dict[str, Companion]]:
    """What the engine does in an emitting transaction for a push: the whole push through a local
    channel (nothing leaves the process, no message), or the delivery row beside the message to the
    ``deliveries.push`` actor (which only sends it)."""
    if service.local:
        return {PUSH_ACTOR: service.record_local}, {}
    return {}, {PUSH_ACTOR: service.record_pending}
