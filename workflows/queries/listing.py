"""The instance list of the dashboard: an ``InstanceFilter`` (plus an enterprise search by USCC or
name), a sort column and direction, keyset (cursor) pages stable under that sort, and the total count.

Each sort is ``(key, id)``, unique, so a page starts strictly after (or before) the row its cursor
names, whatever was written since. Column sorts walk an index on ``(column, id)``
(``ix_instances_*_id``, migration 0013); the next-due sort walks the armed timers in due order
(``ix_timers_armed_due_instance``), taking each instance at its earliest armed timer, and then the
instances without an armed timer by id: those come last in either direction.

The name search is planned for its text: a text with a run of three letters or digits is a ``LIKE``
through the trigram index (``ix_instances_name_trgm``); one pg_trgm draws no trigram from (崂山) would
make that index a scan of every entry (0.4–0.6 s at 1M), so it is a ``strpos``, which no trigram index
serves, read from the narrow ``ix_instances_name`` (name, id) alone: its count by one index-only scan
(~0.1 s at 1M), and its matches, when few, looked up first as ids (``_named``). On PostgreSQL the
listing's statements are planned for their values every time (``_planned_per_value``).
"""

from __future__ import annotations

import base64
import binascii
import json
import re
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import Any, Literal

from sqlalchemy import Boolean, and_, exists, func, null, or_, select, tuple_
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.orm import Session, aliased
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.functions import FunctionElement

from workflows.errors import BadInput
from workflows.queries.instances import InstanceFilter, WarningTimers, _aware, _filtered, summary
from workflows.queries.scope import halves
from workflows.store.db import Database
from workflows.store.models import Instance, TimerRow, TimerStatus

Direction = Literal["asc", "desc"]
#: the sortable columns by their name in the URL; ``due`` is the earliest armed timer
COLUMNS: dict[str, Any] = {
    "id": Instance.id,
    "flow": Instance.flow,
    "state": Instance.state,
    "created": Instance.created_at,
}
SORTS = (*COLUMNS, "due")
USCC_CHARS = re.compile(r"^[0-9A-Za-z]{1,18}$")
#: three letters or digits in a row: pg_trgm draws a trigram from them (it splits words at anything else)
TRIGRAM = re.compile(r"[^\W_]{3}")
#: a short text's matches are looked up first, as ids, when there are at most this many (``_named``)
FEW = 1000


@dataclass(frozen=True)
class Listing:
    filter: InstanceFilter = field(default_factory=InstanceFilter)
    #: a USCC (18 characters: exact), the start of one, or a part of an enterprise's name (名称)
    enterprise: str = ""
    sort: str = "id"
    direction: Direction = "asc"
    #: the instances whose name contains a short ``enterprise`` text, when few: set by ``_named``
    named: tuple[int, ...] | None = field(default=None, repr=False, compare=False)


@dataclass
class Page:
    items: list[dict[str, Any]]
    total: int
    #: the cursor of the page after / before this one (None: there is none)
    next: str | None
    prev: str | None


def encode(key: Any, instance_id: int) -> str:
    value = key.isoformat() if isinstance(key, datetime) else key
    raw = json.dumps([value, instance_id], separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode(cursor: str, sort: str) -> tuple[Any, int]:
    """A cursor back into (sort key, id); anything else is refused naming the field."""
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        value, instance_id = json.loads(raw)
        if not isinstance(instance_id, int) or isinstance(instance_id, bool):
            raise ValueError("id")
        if sort in ("created", "due") and value is not None:
            value = _aware(datetime.fromisoformat(value))
        elif sort == "id" and not isinstance(value, int):
            raise ValueError("key")
        elif sort in ("flow", "state") and not isinstance(value, str):
            raise ValueError("key")
        elif sort == "created" and value is None:
            raise ValueError("key")
    except (ValueError, TypeError, binascii.Error, UnicodeDecodeError) as exc:
        raise BadInput(f"cursor: {cursor[:40]!r} is not a cursor of this list sorted by {sort}") from exc
    return value, instance_id


class _Contains(FunctionElement[bool]):
    """``haystack`` contains ``needle`` (a plain substring, no wildcards): ``strpos(…) > 0`` on
    PostgreSQL, which no trigram index serves; on SQLite the ``LIKE`` of ``contains(autoescape=True)``."""

    name = "contains"
    type = Boolean()
    inherit_cache = True


@compiles(_Contains)  # SQLite's
def _contains_like(element: _Contains, compiler: SQLCompiler, **kw: Any) -> str:
    haystack, needle = (compiler.process(c, **kw) for c in element.clauses)
    escaped = f"replace(replace(replace({needle}, '/', '//'), '%', '/%'), '_', '/_')"
    return f"({haystack} LIKE '%' || {escaped} || '%' ESCAPE '/')"


@compiles(_Contains, "postgresql")
def _contains_strpos(element: _Contains, compiler: SQLCompiler, **kw: Any) -> str:
    haystack, needle = (compiler.process(c, **kw) for c in element.clauses)
    return f"(strpos({haystack}, {needle}) > 0)"


def name_clause(text: str) -> Any:
    """The name (a facet) contains ``text``: through the trigram index when pg_trgm can draw a trigram
    from the text, else as a ``strpos`` (see the module's doc)."""
    if TRIGRAM.search(text):
        return Instance.name.contains(text, autoescape=True)
    return _Contains(Instance.name, text)


def enterprise_clause(text: str, named: tuple[int, ...] | None = None) -> Any:
    """A whole USCC: that subject (the subject index); the start of one: those subjects (an index
    range) or a name containing it; anything else: a name (``context.name``) containing it. ``named``:
    the instances whose name contains the text (``_named``), asked for instead of the name."""
    text = text.strip()
    name = name_clause(text) if named is None else Instance.id.in_(named)
    if not USCC_CHARS.match(text):
        return name
    code = text.upper()
    if len(code) == 18:
        return Instance.subject == code
    prefix = and_(
        Instance.subject >= code,
        Instance.subject <= code + "Z" * (18 - len(code)),
        Instance.subject.startswith(code, autoescape=True),
    )
    return or_(prefix, name)


def _where(query: Any, listing: Listing, now: datetime, warnings: WarningTimers) -> Any:
    query = _filtered(query, listing.filter, now, warnings)
    if listing.enterprise.strip():
        query = query.where(enterprise_clause(listing.enterprise, listing.named))
    return query


def _planned_per_value(db: Database, session: Session) -> None:
    """Plan each of the transaction's statements for its values (PostgreSQL). psycopg prepares a
    statement once a connection has run it five times, and after five more runs PostgreSQL keeps one
    generic plan for any value when that looks no dearer: for a name search, the trigram index for
    whatever the text, which took ~0.5 s for 崂山 at 1M against ~0.1 s for its own plan. A list runs
    two or three statements, each planned in under 0.5 ms here."""
    if db.is_postgres:
        session.connection().exec_driver_sql("SET LOCAL plan_cache_mode = force_custom_plan")


def _named(db: Database, listing: Listing) -> Listing:
    """A short text's few matches as ids (PostgreSQL). A list sorted by a column walks that column's
    index until it has a page of matches: quick for a common text, but a text few names contain made
    that a walk of every row (0.3–0.7 s at 1M). So the matches are looked up first, by an index-only
    scan of ``ix_instances_name`` (name, id) that stops after ``FEW`` + 1 of them (a common text: the
    walk then stays short) or reads the index's ~0.1 s; up to ``FEW`` ids, the rows and the count are
    asked for those ids."""
    text = listing.enterprise.strip()
    if not db.is_postgres or not text or TRIGRAM.search(text) or listing.named is not None:
        return listing
    query = select(Instance.id).where(name_clause(text)).limit(FEW + 1)
    with db.read() as session:
        ids = tuple(session.scalars(query))
    return listing if len(ids) > FEW else replace(listing, named=ids)


def count(db: Database, listing: Listing, now: datetime, warnings: WarningTimers = ()) -> int:
    """How many instances the listing matches in all; a scoped operator's as the sum of its scope's
    two halves (``scope.halves``), each an index's count rather than a visit of every match."""
    return _count(db, _named(db, listing), now, warnings)


def _count(db: Database, listing: Listing, now: datetime, warnings: WarningTimers) -> int:
    """``count`` of a listing whose short name search is already resolved (``_named``)."""
    scope = listing.filter.scope
    unscoped = replace(listing, filter=replace(listing.filter, scope=None))
    query = _where(select(func.count()).select_from(Instance), unscoped, now, warnings)
    with db.read() as session:
        _planned_per_value(db, session)
        if scope is None:
            return int(session.execute(query).scalar_one())
        return sum(int(session.execute(query.where(half)).scalar_one()) for half in halves(scope))


def _column_rows(
    session: Any, listing: Listing, now: datetime, warnings: WarningTimers, cursor: Any, forward: bool, n: int
) -> list[Any]:
    column = COLUMNS[listing.sort]
    ascending = (listing.direction == "asc") == forward
    query = _where(select(Instance, _next_due(), column), listing, now, warnings)
    if cursor is not None:
        key = tuple_(column, Instance.id)
        query = query.where(key > tuple(cursor) if ascending else key < tuple(cursor))
    order = (column.asc(), Instance.id.asc()) if ascending else (column.desc(), Instance.id.desc())
    return list(session.execute(query.order_by(*order).limit(n)).all())


def _next_due() -> Any:
    return (
        select(func.min(TimerRow.due_at))
        .where(TimerRow.instance_id == Instance.id, TimerRow.status == TimerStatus.ARMED)
        .correlate(Instance)
        .scalar_subquery()
    )


def _due_rows(
    session: Any, listing: Listing, now: datetime, warnings: WarningTimers, cursor: Any, forward: bool, n: int
) -> list[Any]:
    """The next-due sort: instances at their earliest armed timer, then those with none (by id)."""
    ascending = (listing.direction == "asc") == forward
    rows: list[Any] = []
    in_untimed = cursor is not None and cursor[0] is None
    # reading forward the timed rows come first; reading back from a cursor, the untimed ones
    phases = ("timed", "untimed") if forward else ("untimed", "timed")
    for phase in phases:
        if len(rows) >= n:
            break
        if forward and phase == "timed" and in_untimed:
            continue
        if not forward and phase == "untimed" and cursor is not None and not in_untimed:
            continue
        here = cursor if (cursor is not None and (cursor[0] is None) == (phase == "untimed")) else None
        if phase == "timed":
            rows += _timed(session, listing, now, warnings, here, ascending, n - len(rows))
        else:
            rows += _untimed(session, listing, now, warnings, here, ascending, n - len(rows))
    return rows


def _timed(
    session: Any, listing: Listing, now: datetime, warnings: WarningTimers, cursor: Any, asc: bool, n: int
) -> list[Any]:
    t, other = aliased(TimerRow), aliased(TimerRow)  # aliased: the filter's own timer subqueries
    earlier = exists().where(
        other.instance_id == t.instance_id,
        other.status == TimerStatus.ARMED,
        tuple_(other.due_at, other.id) < tuple_(t.due_at, t.id),
    )
    query = select(Instance, t.due_at, t.due_at).join(t, t.instance_id == Instance.id)
    query = _where(query.where(t.status == TimerStatus.ARMED, ~earlier), listing, now, warnings)
    key = tuple_(t.due_at, t.instance_id)
    if cursor is not None:
        query = query.where(key > tuple(cursor) if asc else key < tuple(cursor))
    order = (t.due_at.asc(), t.instance_id.asc()) if asc else (t.due_at.desc(), t.instance_id.desc())
    return list(session.execute(query.order_by(*order).limit(n)).all())


def _untimed(
    session: Any, listing: Listing, now: datetime, warnings: WarningTimers, cursor: Any, asc: bool, n: int
) -> list[Any]:
    armed = exists().where(TimerRow.instance_id == Instance.id, TimerRow.status == TimerStatus.ARMED)
    query = _where(select(Instance, null(), null()).where(~armed), listing, now, warnings)
    if cursor is not None:
        query = query.where(Instance.id > cursor[1] if asc else Instance.id < cursor[1])
    order = Instance.id.asc() if asc else Instance.id.desc()
    return list(session.execute(query.order_by(order).limit(n)).all())


def page(
    db: Database,
    listing: Listing,
    now: datetime,
    *,
    after: str | None = None,
    before: str | None = None,
    limit: int = 50,
    warnings: WarningTimers = (),
) -> Page:
    """One page of the listing: the first, the one after cursor ``after``, or the one before
    ``before``; with the cursors of its neighbours and the total count of matches."""
    if listing.sort not in SORTS:
        raise BadInput(f"sort: {listing.sort!r} is not a sortable column; choose one of {', '.join(SORTS)}")
    if after is not None and before is not None:
        raise BadInput("before: give either after or before, not both")
    forward = before is None
    given = after if forward else before
    cursor = decode(given, listing.sort) if given is not None else None
    rows_of = _due_rows if listing.sort == "due" else _column_rows
    listing = _named(db, listing)
    with db.read() as session:
        _planned_per_value(db, session)
        rows = rows_of(session, listing, now, warnings, cursor, forward, limit + 1)
    more = len(rows) > limit
    rows = rows[:limit]
    if not forward:
        rows.reverse()
    items = [{**summary(inst, _aware(due)), "name": _name(inst)} for inst, due, _ in rows]
    keys = [_key(listing.sort, inst, key) for inst, _, key in rows]
    first = encode(keys[0], rows[0][0].id) if rows else None
    last = encode(keys[-1], rows[-1][0].id) if rows else None
    has_next = more if forward else before is not None
    has_prev = (after is not None) if forward else more
    total = _count(db, listing, now, warnings)  # the name search resolved once, above
    return Page(items, total, last if has_next and rows else None, first if has_prev and rows else None)


def _key(sort: str, inst: Instance, key: Any) -> Any:
    if sort in ("created", "due"):
        moment = _aware(key)
        return moment.astimezone(UTC) if moment is not None else None
    return key


def _name(inst: Instance) -> str | None:
    name = (inst.context or {}).get("name")
    return name if isinstance(name, str) else None
