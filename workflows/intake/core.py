"""CloudEvents intake: validate, store in the inbox and route — one event, one savepoint.

The same (source, id) twice is a ``duplicate`` with no second effect, also when copies race (the inbox's
unique key decides). In a batch each event gets its own status; a bad one never drops the good ones,
and none is ever half-applied (its savepoint is rolled back whole).
"""

from __future__ import annotations

import logging
from contextlib import nullcontext
from typing import Any, Literal

from pydantic import BaseModel, ValidationError
from sqlalchemy import bindparam, select, update
from sqlalchemy.orm import Session

from workflows.errors import BadInput
from workflows.intake.envelope import (
    CloudEvent,
    EventStatus,
    field_errors,
    identity,
    nul_path,
    uscc_warnings,
)
from workflows.intake.tokens import Principal
from workflows.plugins.routes import Envelope, EventRoute, RouteResult
from workflows.runtime import Runtime
from workflows.store.models import InboxEvent, table
from workflows.store.rows import pending

log = logging.getLogger("yunshang.intake")

_INBOX = table(InboxEvent)
_INBOX_KEY = ("source", "event_id")

MAX_BATCH = 1000


Mode = Literal["lone", "whole", "savepoints"]
Checked = EventStatus | tuple[CloudEvent, BaseModel, list[str]]


class _OneRefused(Exception):
    """An event of a batch tried whole was refused: the batch is redone with savepoints."""


class _Refused(Exception):
    """A lone event refused by its route: raised through the transaction so that it rolls back."""

    def __init__(self, status: EventStatus) -> None:
        super().__init__(status.status)
        self.status = status


class Intake:
    def __init__(self, runtime: Runtime) -> None:
        self.runtime = runtime
        #: the accepted event types: what the runtime's flow plug-ins declare
        self.routes: dict[str, tuple[EventRoute, ...]] = dict(runtime.registry.routes)
        self.prefetches = runtime.registry.prefetches
        self.batch_writes = runtime.registry.batch_writes

    def accept(self, raw_events: list[Any], principal: Principal) -> list[EventStatus]:
        """Validate and route every event in one transaction, none ever half-applied.

        A lone event needs no savepoint: if its route refuses it, the transaction rolls back. A batch is
        tried whole first; only if one of its events is refused is it redone with a savepoint per event,
        so that the refused one leaves nothing and the others still apply.
        """
        if len(raw_events) > MAX_BATCH:
            raise BadInput(f"a batch holds at most {MAX_BATCH} events; this one has {len(raw_events)}")
        checked = [self._validate(raw, principal) for raw in raw_events]
        valid = sum(1 for item in checked if not isinstance(item, EventStatus))
        mode: Mode = "lone" if valid <= 1 else "whole"
        while True:
            try:
                statuses = self._apply(checked, mode)
                break
            except _Refused as refused:  # the lone event's route refused it: nothing was kept
                statuses = [item if isinstance(item, EventStatus) else refused.status for item in checked]
                break
            except _OneRefused:  # a batch with a refused event: again, event by event
                mode = "savepoints"
        for status in statuses:
            log.debug("event %s/%s: %s", status.source, status.id, status.status)
        return statuses

    def _apply(self, checked: list[Checked], mode: Mode) -> list[EventStatus]:
        if mode == "whole":
            return self._apply_whole(checked)
        statuses: list[EventStatus] = []
        routed: list[dict[str, Any]] = []
        with self.runtime.transaction() as session:
            if mode == "savepoints":
                self._prefetch(session, [item for item in checked if not isinstance(item, EventStatus)])
            for item in checked:
                statuses.append(
                    item if isinstance(item, EventStatus) else self._store(session, *item, routed, mode)
                )
            if routed:  # the routing results, stored on the events in one round trip
                inbox = table(InboxEvent)
                session.execute(
                    update(inbox).where(inbox.c.id == bindparam("b_id")).values(status=bindparam("b_status")),
                    routed,
                )
        return statuses

    def _apply_whole(self, checked: list[Checked]) -> list[EventStatus]:
        """A batch in one go: duplicates found with one query, routes run, the inbox rows written with
        their results in one INSERT, the commands they make sent in messages of up to ``batch_size``
        commands per flow (each applied by a worker in one transaction). A refused route, or a copy
        that raced in (fewer rows inserted than written), sends the batch back to be redone event by
        event."""
        statuses: list[EventStatus] = []
        rows: list[dict[str, Any]] = []
        engine, batch = self.runtime.engine, self.runtime.settings.batch_size
        with self.runtime.transaction() as session, engine.batching(session, batch):
            keys = [(item[0].source, item[0].id) for item in checked if not isinstance(item, EventStatus)]
            seen = self.runtime.db.statements.stored_events(session.connection(), keys)
            fresh = [
                i for i in checked if not isinstance(i, EventStatus) and (i[0].source, i[0].id) not in seen
            ]
            self._prefetch(session, fresh)
            self._batch_write(session, fresh)
            now = self.runtime.clock.now()
            for item in checked:
                if isinstance(item, EventStatus):
                    statuses.append(item)
                    continue
                event, data, warnings = item
                status = EventStatus("accepted", event.id, event.source, event.type, warnings=warnings)
                statuses.append(status)
                if (event.source, event.id) in seen:
                    status.status = "duplicate"
                    continue
                try:
                    result = self._route(session, event, data)
                except BadInput:
                    raise _OneRefused() from None
                status.result, status.instances = result.result, result.instances
                rows.append(
                    dict(
                        source=event.source,
                        event_id=event.id,
                        type=event.type,
                        subject=event.subject,
                        data=data.model_dump(mode="json"),
                        status=result.result,
                        warnings=warnings,
                        received_at=now,
                    )
                )
            if rows:  # one INSERT for the batch, its rows one JSON parameter on PostgreSQL
                conn = session.connection()
                written = self.runtime.db.statements.insert_rows(
                    conn, _INBOX, rows, skip_conflicts_on=_INBOX_KEY, returning="id"
                )
                if len(written) != len(rows):
                    raise _OneRefused()
        return statuses

    def _prefetch(self, session: Session, items: list[tuple[CloudEvent, BaseModel, list[str]]]) -> None:
        """Each plug-in's batch prefetch over the events of ``items`` it routes (``Prefetch``)."""
        for types, prefetch in self.prefetches:
            mine = [(event.type, data) for event, data, _ in items if event.type in types]
            if mine:
                prefetch(session, mine)

    def _batch_write(self, session: Session, items: list[tuple[CloudEvent, BaseModel, list[str]]]) -> None:
        """Each plug-in's batch write over the events of ``items`` it routes (``BatchWrite``): only for
        a batch routed whole, whose refusal rolls it back with everything else."""
        for types, write in self.batch_writes:
            mine = [(event.type, data) for event, data, _ in items if event.type in types]
            if mine:
                write(session, self.runtime.engine, mine)

    def _validate(self, raw: Any, principal: Principal) -> Checked:
        event_id, source, event_type = identity(raw)
        status = EventStatus("rejected", event_id, source, event_type)
        if not isinstance(raw, dict):
            status.errors = [{"field": "event", "message": "an event is a JSON object"}]
            return status
        nul = nul_path(raw, "")
        if nul is not None:
            status.errors = [{"field": nul or "event", "message": "NUL characters (\\u0000) are not allowed"}]
            return status
        try:
            event = CloudEvent.model_validate(raw)
        except ValidationError as exc:
            status.errors = field_errors(exc)
            return status
        route = self.routes.get(event.type)
        if route is None:
            known = ", ".join(sorted(self.routes))
            status.errors = [
                {"field": "type", "message": f"unknown event type {event.type!r}; accepted: {known}"}
            ]
            return status
        if not principal.may_emit(event.type):
            status.status = "forbidden"
            status.errors = [
                {"field": "type", "message": f"token {principal.name!r} may not emit {event.type!r}"}
            ]
            return status
        if not principal.may_post_as(event.source):
            status.status = "forbidden"
            bound = ", ".join(principal.sources or ())
            status.errors = [
                {
                    "field": "source",
                    "message": f"token {principal.name!r} posts as source {bound}, not {event.source!r}",
                }
            ]
            return status
        try:
            data = route[0].model.model_validate(event.data)
        except ValidationError as exc:
            status.errors = field_errors(exc, "data.")
            return status
        return event, data, uscc_warnings(data)

    def _store(
        self,
        session: Session,
        event: CloudEvent,
        data: BaseModel,
        warnings: list[str],
        routed: list[dict[str, Any]],
        mode: Mode,
    ) -> EventStatus:
        if mode == "lone":
            return self._store_lone(session, event, data, warnings)
        status = EventStatus("accepted", event.id, event.source, event.type, warnings=warnings)
        queued = len(pending(session))
        with session.begin_nested() if mode == "savepoints" else nullcontext() as savepoint:
            inserted = self._inbox_insert(session, event, data, warnings, "accepted")
            if inserted is None:
                status.status = "duplicate"
                return status
            try:
                result = self._route(session, event, data)
            except BadInput as exc:
                if savepoint is None:
                    raise _OneRefused() from None
                savepoint.rollback()
                del pending(session)[queued:]  # its outbox rows are gone with the savepoint
                return _rejected(status, exc)
        routed.append({"b_id": inserted, "b_status": result.result})
        status.result = result.result
        status.instances = result.instances
        return status

    def _store_lone(
        self, session: Session, event: CloudEvent, data: BaseModel, warnings: list[str]
    ) -> EventStatus:
        """A lone event: route it, then store it with its result in one INSERT. A copy that got there
        first (the inbox's unique key; a concurrent copy waits for it) rolls the whole transaction back."""
        status = EventStatus("accepted", event.id, event.source, event.type, warnings=warnings)
        try:
            result = self._route(session, event, data)
        except BadInput as exc:
            if self._seen(session, event):
                status.status = "duplicate"
            else:
                _rejected(status, exc)
            raise _Refused(status) from None
        inserted = self._inbox_insert(session, event, data, warnings, result.result)
        if inserted is None:
            status.status = "duplicate"
            raise _Refused(status)
        status.result = result.result
        status.instances = result.instances
        return status

    def _route(self, session: Session, event: CloudEvent, data: BaseModel) -> RouteResult:
        """Every route of the event's type, in one transaction: one refusal refuses the event."""
        envelope = Envelope(event.id, event.source, event.type, event.subject)
        routes = self.routes[event.type]
        if len(routes) == 1:
            return routes[0].handle(session, self.runtime.engine, envelope, data)
        results = [route.handle(session, self.runtime.engine, envelope, data) for route in routes]
        named = list(dict.fromkeys(r.result for r in results))
        return RouteResult(", ".join(named)[:32], [i for r in results for i in r.instances])

    def _seen(self, session: Session, event: CloudEvent) -> bool:
        found = session.execute(
            select(InboxEvent.id).where(InboxEvent.source == event.source, InboxEvent.event_id == event.id)
        ).first()
        return found is not None

    def _inbox_insert(
        self, session: Session, event: CloudEvent, data: BaseModel, warnings: list[str], status: str
    ) -> int | None:
        """Store the event unless its (source, id) is there already; its row id, or None."""
        values = dict(
            source=event.source,
            event_id=event.id,
            type=event.type,
            subject=event.subject,
            data=data.model_dump(mode="json"),
            status=status,
            warnings=warnings,
            received_at=self.runtime.clock.now(),
        )
        # a copy already stored (same source and id) inserts nothing
        insert = self.runtime.db.statements.insert_ignoring(_INBOX, _INBOX_KEY, "id")
        inserted: int | None = session.connection().execute(insert, values).scalar()
        return inserted


def _rejected(status: EventStatus, exc: BadInput) -> EventStatus:
    status.status = "rejected"
    field, _, message = str(exc).partition(": ")
    status.errors = [{"field": field, "message": message} if message else {"field": "data", "message": field}]
    return status
