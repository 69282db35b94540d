"""A batch's licenses entered in the inspection objects at once (``FlowPlugin.batch_write``).

A batch of 100 ``license.issued`` routed whole would upsert its objects one statement each
(``directory.upsert_from_license``): here they are upserted in one, before routing, and which were new
is left in ``session.info`` for the route to answer ``listed`` or ``relisted`` as it would have. A
license the batch names twice is what two upserts in a row make of it: the first one's row (risk
class, as of its date) with the last one's name, street and grid and the last industry given. The
rows go in USCC order, so that two batches locking the same objects wait for each other instead of
deadlocking. A batch redone event by event (one of its events was refused) has no batch write: its
routes upsert their objects themselves.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import select, text
from sqlalchemy.orm import Session

from workflows.engine.core import Engine
from workflows.flows.joint_inspection.directory import (
    OBJECTS,
    UPSERT_SQLITE,
    default_risk_class,
    object_values,
)
from workflows.store.postgres import json_rows
from workflows.upstream.registration import LicenseIssued

#: ``session.info`` key: USCC → whether the batch's upsert inserted it (answered once, then False)
_LISTED = "joint_inspection.listed"
#: USCCs per ``IN`` list on SQLite (its bound-parameter limit)
_SQLITE_CHUNK = 500

_UPSERT_MANY_PG = text(
    """
INSERT INTO inspection_objects AS o (uscc, name, type, industry, street, grid, risk_class, risk_as_of,
                                     last_inspected_at, last_result, last_inspectors)
SELECT r.uscc, r.name, r.type, r.industry, r.street, r.grid, r.risk_class, r.risk_as_of,
       NULL, NULL, CAST('[]' AS json)
FROM json_to_recordset(CAST(:rows AS json))
  AS r(uscc varchar, name varchar, type varchar, industry varchar, street varchar, grid varchar,
       risk_class varchar, risk_as_of date)
ORDER BY r.uscc
ON CONFLICT (uscc) DO UPDATE
SET name = excluded.name, street = excluded.street, grid = excluded.grid,
    industry = COALESCE(excluded.industry, o.industry)
RETURNING o.uscc, xmax = 0
"""
)


def list_licenses(session: Session, engine: Engine, events: Sequence[tuple[str, Any]]) -> None:
    """The batch write: the objects of the batch's licenses upserted at once, which were new left for
    the route (``listed_by_batch``); nothing without a rule set (the route answers ``unlisted``)."""
    ruleset = engine.rules.current.ruleset
    licenses = [data for _, data in events if isinstance(data, LicenseIssued)]
    if ruleset is None or not licenses:
        return
    inserted = upsert_licenses(session, licenses, default_risk_class(ruleset.sampling))
    session.info.setdefault(_LISTED, {}).update(inserted)


def upsert_licenses(session: Session, licenses: Sequence[LicenseIssued], risk_class: str) -> dict[str, bool]:
    """What ``upsert_from_license`` of each license in turn does (a new object enters in
    ``risk_class`` as of its license's date), in one statement on PostgreSQL (one read and one
    ``executemany`` on SQLite): USCC → whether it was new."""
    rows: dict[str, dict[str, Any]] = {}
    for data in licenses:
        values = object_values(data, risk_class, data.issued_at.date())
        first = rows.get(data.uscc)
        if first is None:
            rows[data.uscc] = values
            continue
        first.update(name=values["name"], street=values["street"], grid=values["grid"])
        if values["industry"] is not None:
            first["industry"] = values["industry"]
    usccs = sorted(rows)
    ordered = [rows[uscc] for uscc in usccs]
    if session.get_bind().dialect.name == "postgresql":
        found = session.execute(_UPSERT_MANY_PG, {"rows": json_rows(ordered)})
        return {str(uscc): bool(new) for uscc, new in found}
    known: set[str] = set()
    for start in range(0, len(usccs), _SQLITE_CHUNK):
        chunk = usccs[start : start + _SQLITE_CHUNK]
        known.update(session.scalars(select(OBJECTS.c.uscc).where(OBJECTS.c.uscc.in_(chunk))))
    session.execute(UPSERT_SQLITE, ordered)
    return {uscc: uscc not in known for uscc in usccs}


def listed_by_batch(session: Session, uscc: str) -> bool | None:
    """Whether this batch's upsert inserted ``uscc`` (True once: a second license of it in the batch
    found it there), or None when the batch wrote no object of it."""
    answers: dict[str, bool] | None = session.info.get(_LISTED)
    if answers is None or uscc not in answers:
        return None
    new = answers[uscc]
    answers[uscc] = False
    return new
