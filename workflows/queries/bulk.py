"""Bulk actions over a filter of instances: the dry run, which freezes the set, and the selection row.

A dry run evaluates the filter once (``InstanceFilter``, ``list_instances``) and stores exactly the ids
it matched in a ``bulk_selections`` row, with the action, the filter, the reason and who asked. Applying
(``workflows.queries.bulk_apply``) acts on that frozen set and never evaluates the filter again, so an
instance that arrives after the dry run is never touched; a selection is applied at most once (the
claim is one conditional UPDATE: a second apply, even a concurrent one, is refused with 409). An apply
interrupted mid-way (its process died, or the database went away) can be resumed: the same claim takes
it over, and the instances it had done are no-ops the second time.
"""

from __future__ import annotations

import logging
from dataclasses import asdict, dataclass, fields
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import and_, null, or_, select, update

from workflows.errors import BulkAlreadyApplied, BulkSelectionNotFound, FieldInvalid
from workflows.queries.instances import InstanceFilter, WarningTimers, list_instances
from workflows.store.db import Database
from workflows.store.models import BulkSelection
from workflows.time.clock import Clock

log = logging.getLogger("yunshang.bulk")
#: the bulk actions, with what each does to one instance
ACTIONS: dict[str, str] = {
    "cancel": "cancel the instance (its flow's cancel trigger)",
    "reroute": "re-route it to another department (its flow's reroute trigger)",
    "requeue": "requeue its dead letters",
    "recompute": "recompute its armed deadlines under the rules in force",
    "suspend": "stop its deadline clocks (an approved extension 延期)",
    "resume": "start its suspended deadline clocks again",
}
#: the ids a page shows of a selection (each links to the instance screen)
SAMPLE = 20
#: the filter fields a bulk action takes (``InstanceFilter``'s, less the operator's scope)
FILTER_FIELDS = tuple(f.name for f in fields(InstanceFilter) if f.name != "scope")
MAX_REASON = 2000


@dataclass(frozen=True)
class Selection:
    id: int
    action: str
    filter: dict[str, Any]
    instance_ids: list[int]
    count: int
    reason: str
    created_by: str
    created_at: datetime
    applied_at: datetime | None
    applied_by: str | None
    result: dict[str, Any] | None

    @classmethod
    def of(cls, row: BulkSelection) -> Selection:
        return cls(
            row.id,
            row.action,
            dict(row.filter),
            list(row.instance_ids),
            row.count,
            row.reason,
            row.created_by,
            row.created_at,
            row.applied_at,
            row.applied_by,
            row.result,
        )

    @property
    def sample(self) -> list[int]:
        return self.instance_ids[:SAMPLE]

    @property
    def options(self) -> dict[str, Any]:
        """The action's own options (a re-route's target ``department``)."""
        found: dict[str, Any] = self.filter.get("options", {})
        return found

    def as_json(self) -> dict[str, Any]:
        out = asdict(self)
        out["created_at"] = self.created_at.isoformat()
        out["applied_at"] = self.applied_at.isoformat() if self.applied_at else None
        return out


def check_reason(reason: str) -> str:
    """The operator's reason, kept in every affected instance's history. Raises FieldInvalid."""
    if not reason.strip():
        raise FieldInvalid("reason", "say why (kept in each instance's history), e.g. 重复登记 duplicates")
    if len(reason) > MAX_REASON:
        raise FieldInvalid("reason", f"at most {MAX_REASON} characters (got {len(reason)})")
    return reason.strip()


def check_action(action: str, options: dict[str, Any]) -> None:
    if action not in ACTIONS:
        raise FieldInvalid("action", f"choose one of {', '.join(ACTIONS)} (got {action!r})")
    if action == "reroute":
        department = str(options.get("department") or "")
        if not department or not department.replace("_", "").isalnum() or not department.isupper():
            raise FieldInvalid("department", "give the department code to re-route to, e.g. WJJ")


def filter_json(f: InstanceFilter) -> dict[str, Any]:
    """The filter's given fields as JSON (times as ISO text)."""
    out: dict[str, Any] = {}
    for name in FILTER_FIELDS:
        value = getattr(f, name)
        if value is None or value is False or value == "":
            continue
        out[name] = value.isoformat() if isinstance(value, datetime) else value
    return out


def matching_ids(db: Database, f: InstanceFilter, now: datetime, warnings: WarningTimers = ()) -> list[int]:
    """Every instance id the filter matches now, in order (all pages)."""
    ids: list[int] = []
    cursor: int | None = None
    while True:
        page, cursor = list_instances(db, f, now, cursor=cursor, limit=500, warnings=warnings)
        ids += [int(item["id"]) for item in page]
        if cursor is None:
            return ids


def dry_run(
    db: Database,
    clock: Clock,
    action: str,
    f: InstanceFilter,
    *,
    operator: str,
    reason: str,
    options: dict[str, Any] | None = None,
    warnings: WarningTimers = (),
) -> Selection:
    """Freeze the instances ``f`` matches now into a new selection for ``action``; changes no instance.
    Raises FieldInvalid (naming ``action``, ``reason`` or ``department``)."""
    options = dict(options or {})
    check_action(action, options)
    reason = check_reason(reason)
    now = clock.now()
    ids = matching_ids(db, f, now, warnings)
    row = BulkSelection(
        action=action,
        filter={**filter_json(f), **({"options": options} if options else {})},
        instance_ids=ids,
        count=len(ids),
        reason=reason,
        created_by=operator[:100],
        created_at=now,
    )
    with db.transaction() as session:
        session.add(row)
        session.flush()
        return Selection.of(row)


def selection(db: Database, selection_id: int) -> Selection:
    with db.read() as session:
        row = session.get(BulkSelection, selection_id)
        if row is None:
            raise BulkSelectionNotFound(f"no bulk selection #{selection_id}; start with a dry run")
        return Selection.of(row)


def recent(db: Database, limit: int = 20) -> list[Selection]:
    with db.read() as session:
        rows = session.execute(select(BulkSelection).order_by(BulkSelection.id.desc()).limit(limit))
        return [Selection.of(row) for row in rows.scalars()]


#: an apply that recorded no result this long after it started is taken for interrupted (its process
#: died): it may be resumed. A live apply records its result within seconds (chunks of 100).
STALE = timedelta(minutes=10)


def interrupted(chosen: Selection, now: datetime) -> bool:
    """Applied, and its apply stopped before the end: it recorded an error, or no result at all for
    ``STALE`` (the process died mid-way)."""
    if chosen.applied_at is None:
        return False
    if chosen.result is not None:
        return "error" in chosen.result
    return now - chosen.applied_at >= STALE


def claim(db: Database, clock: Clock, selection_id: int, operator: str) -> tuple[Selection, datetime | None]:
    """Mark the selection applied by ``operator`` (before its work starts: a second apply is refused
    even while the first runs) — or take over an interrupted apply (``interrupted``), to finish it: the
    same frozen ids, each instance's command keyed ``bulk:<selection>:<instance>``, so what the first
    attempt did is a no-op the second time. Returns the selection, and when the interrupted apply began
    (None for a first apply). Raises BulkSelectionNotFound, BulkAlreadyApplied."""
    found = selection(db, selection_id)
    now = clock.now()
    open_to_claim = or_(
        BulkSelection.applied_at.is_(None),
        and_(BulkSelection.result.is_(None), BulkSelection.applied_at <= now - STALE),
        BulkSelection.result["error"].as_string().is_not(None),
    )
    with db.transaction() as session:
        done = session.execute(
            update(BulkSelection)
            .where(BulkSelection.id == selection_id, open_to_claim)
            .values(applied_at=now, applied_by=operator[:100], result=null())  # SQL NULL, not JSON null
        )
    if not done.rowcount:  # type: ignore[attr-defined]
        again = selection(db, selection_id)
        at = again.applied_at.isoformat() if again.applied_at else "just now"
        if again.result is None:
            raise BulkAlreadyApplied(
                f"bulk selection #{selection_id} is being applied (by {again.applied_by} since {at}): "
                f"nothing is done twice; if that apply was interrupted, it can be resumed "
                f"{int(STALE.total_seconds() // 60)} minutes after it started"
            )
        raise BulkAlreadyApplied(
            f"bulk selection #{selection_id} was applied already (by {again.applied_by} at {at}): "
            "nothing is done twice; make a new dry run to act again"
        )
    if found.applied_at is not None:
        log.warning(
            "bulk #%d: %s resumes the apply %s started at %s",
            found.id,
            operator,
            found.applied_by,
            found.applied_at.isoformat(),
        )
    return selection(db, found.id), found.applied_at


def record_result(db: Database, selection_id: int, result: dict[str, Any]) -> Selection:
    with db.transaction() as session:
        session.execute(update(BulkSelection).where(BulkSelection.id == selection_id).values(result=result))
    return selection(db, selection_id)
