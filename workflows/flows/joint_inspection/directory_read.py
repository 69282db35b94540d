"""What a draw reads of the directories: one risk class's objects streamed in USCC order, the size of
each stratum, and a department's officers in id order.

    with db.read() as session:
        count_by_class(session, ObjectFilter(streets={"ZHONGHAN"}))   # {"A": 9932, "B": 8690, ...}
        for row in objects_in_order(session, risk_class="B", streets={"ZHONGHAN"}):
            ...                                                        # ObjectRow, by USCC
        officers_of(session, "SCJG_SP")                                # [Officer, ...] by id

The objects come in the database's USCC order through the index on (risk_class, uscc), a chunk at a
time (a server-side cursor on PostgreSQL, one statement and so one snapshot); nothing is sorted or
held whole in Python. A USCC has only 0-9 and capital letters, all 18 characters long, so its order
is the same under the C collation, en_US and SQLite's BINARY.
"""

from __future__ import annotations

from collections.abc import Collection, Generator
from dataclasses import dataclass
from datetime import date
from typing import Any, NamedTuple

from sqlalchemy import ColumnElement, false, func, or_, select
from sqlalchemy.orm import Session

from workflows.flows.joint_inspection.directory import OBJECTS, OFFICERS

#: rows fetched at a time
CHUNK = 2_000


@dataclass(frozen=True)
class ObjectFilter:
    """Which objects a plan takes (None: every one). ``industries`` are GB/T 4754 codes or their
    leading part: ``F52`` takes ``F5211`` and ``F5226``; an object without an industry matches none."""

    streets: Collection[str] | None = None
    types: Collection[str] | None = None
    industries: Collection[str] | None = None

    def clauses(self) -> list[ColumnElement[bool]]:
        found: list[ColumnElement[bool]] = []
        if self.streets is not None:
            found.append(OBJECTS.c.street.in_(sorted(self.streets)))
        if self.types is not None:
            found.append(OBJECTS.c.type.in_(sorted(self.types)))
        if self.industries is not None:
            codes = sorted(self.industries)
            found.append(
                or_(*(OBJECTS.c.industry.startswith(code, autoescape=True) for code in codes))
                if codes
                else false()
            )
        return found


class ObjectRow(NamedTuple):
    """An object as the draw reads it: the candidate, its stratum, where it is and its last inspection
    (exclusion window and recusal)."""

    uscc: str
    risk_class: str
    type: str
    industry: str | None
    street: str
    grid: str
    last_inspected_at: date | None
    last_result: str | None
    last_inspectors: tuple[str, ...]


@dataclass(frozen=True)
class Officer:
    """An officer as the directory has them."""

    officer_id: str
    name: str
    department: str
    certificate_no: str
    fields: tuple[str, ...]
    active: bool
    conflicts: tuple[str, ...]


_ROW = select(
    OBJECTS.c.uscc,
    OBJECTS.c.risk_class,
    OBJECTS.c.type,
    OBJECTS.c.industry,
    OBJECTS.c.street,
    OBJECTS.c.grid,
    OBJECTS.c.last_inspected_at,
    OBJECTS.c.last_result,
    OBJECTS.c.last_inspectors,
)


def objects_in_order(
    session: Session,
    *,
    risk_class: str,
    streets: Collection[str] | None = None,
    types: Collection[str] | None = None,
    industries: Collection[str] | None = None,
) -> Generator[ObjectRow, None, None]:
    """The objects of ``risk_class`` the filters take (``ObjectFilter``), in USCC order, fetched
    ``CHUNK`` rows at a time. Consume it inside the session's transaction; one left before its end
    holds its cursor until it is closed (``close()``) or the transaction ends."""
    wanted = ObjectFilter(streets, types, industries)
    query = (
        _ROW.where(OBJECTS.c.risk_class == risk_class, *wanted.clauses())
        .order_by(OBJECTS.c.uscc)
        .execution_options(yield_per=CHUNK)
    )
    result = session.execute(query)
    try:
        for chunk in result.partitions():
            for row in chunk:
                yield ObjectRow(*row[:8], tuple(_strings(row[8])))
    finally:
        result.close()


def count_by_class(session: Session, filters: ObjectFilter | None = None) -> dict[str, int]:
    """How many objects the filters take in each risk class (classes without one are absent)."""
    query = select(OBJECTS.c.risk_class, func.count()).where(*(filters or ObjectFilter()).clauses())
    found = session.execute(query.group_by(OBJECTS.c.risk_class).order_by(OBJECTS.c.risk_class))
    return {code: int(n) for code, n in found}


def officers_of(session: Session, department: str, active_only: bool = True) -> list[Officer]:
    """The officers of ``department`` (only the active ones unless ``active_only`` is false), by id."""
    query = select(OFFICERS).where(OFFICERS.c.department == department)
    if active_only:
        query = query.where(OFFICERS.c.active)
    return [
        Officer(
            row.officer_id,
            row.name,
            row.department,
            row.certificate_no,
            tuple(_strings(row.fields)),
            bool(row.active),
            tuple(_strings(row.conflicts)),
        )
        for row in session.execute(query.order_by(OFFICERS.c.officer_id))
    ]


def _strings(value: Any) -> list[str]:
    return [str(item) for item in value or ()]
