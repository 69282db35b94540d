"""The series of the scorecard's charts (``pages.py``): the same ``aggregate`` the JSON scorecard runs,
over the same notices, plus the 48-hour claim trend per day (or week) and the notices by the highest
escalation level they reached.

A department-scoped operator's series hold only their department's notices."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import select

from workflows.flows.dual_notification.scorecard import FLOW, aggregate
from workflows.runtime import Runtime
from workflows.store.models import Instance
from workflows.time.calendar import SHANGHAI

#: escalation kinds (``notice_effects.escalate``) from the lowest level up, with their labels
LEVELS = (("warning", "Warning 黄色预警"), ("overdue", "Overdue 超时"), ("supervision", "Supervised 督办"))
#: a range longer than this many days is bucketed by ISO week
DAILY_UP_TO = 62

Row = tuple[datetime, str, Mapping[str, Any]]


def _aware(value: datetime) -> datetime:
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def rows_between(runtime: Runtime, start: datetime, end: datetime, department: str | None) -> list[Row]:
    """(created_at, state, context) of the notices pushed in ``[start, end)`` (of ``department``)."""
    query = (
        select(Instance.created_at, Instance.state, Instance.context)
        .where(Instance.flow == FLOW, Instance.created_at >= start, Instance.created_at < end)
        .order_by(Instance.id)
    )
    with runtime.db.read() as session:
        rows = [(_aware(at), state, ctx or {}) for at, state, ctx in session.execute(query)]
    if department is not None:
        rows = [r for r in rows if r[2].get("department") == department]
    return rows


def bucket_of(moment: datetime, weekly: bool) -> str:
    day = moment.astimezone(SHANGHAI).date()
    if not weekly:
        return day.isoformat()
    year, week, _ = day.isocalendar()
    return f"{year}-W{week:02d}"


def buckets(start: datetime, end: datetime, weekly: bool) -> list[str]:
    """Every bucket label of ``[start, end)``, in order (empty days included)."""
    labels: list[str] = []
    day = start.astimezone(SHANGHAI).date()
    last = (end - timedelta(microseconds=1)).astimezone(SHANGHAI).date()
    while day <= last:
        label = bucket_of(datetime(day.year, day.month, day.day, 12, tzinfo=SHANGHAI), weekly)
        if not labels or labels[-1] != label:
            labels.append(label)
        day += timedelta(days=1)
    return labels


def highest_level(context: Mapping[str, Any]) -> str | None:
    kinds = {e.get("kind") for e in context.get("escalations") or []}
    reached = [kind for kind, _ in LEVELS if kind in kinds]
    return reached[-1] if reached else None


def chart_data(
    runtime: Runtime, start: datetime, end: datetime, department: str | None = None
) -> dict[str, Any]:
    """The JSON the scorecard page embeds and its charts are drawn from."""
    now = runtime.clock.now()
    calendar, ruleset = runtime.engine.calendar, runtime.rules.current.ruleset
    rows = rows_between(runtime, start, end, department)
    card = aggregate(
        ((s, c) for _, s, c in rows), start=start, end=end, now=now, calendar=calendar, ruleset=ruleset
    )
    weekly = (end - start) > timedelta(days=DAILY_UP_TO)
    labels = buckets(start, end, weekly)
    by_bucket: dict[str, list[tuple[str, Mapping[str, Any]]]] = {label: [] for label in labels}
    levels = dict.fromkeys((kind for kind, _ in LEVELS), 0)
    for at, state, ctx in rows:
        by_bucket.setdefault(bucket_of(at, weekly), []).append((state, ctx))
        level = highest_level(ctx)
        if level is not None:
            levels[level] += 1
    trend = [
        aggregate(items, start=start, end=end, now=now, calendar=calendar).overall
        for items in by_bucket.values()
    ]
    body = card.as_json()
    return {
        **body,
        "department": department,
        "bucket": "week" if weekly else "day",
        "trend": {
            "labels": list(by_bucket),
            "claimed_in_time": [s.claimed_in_time for s in trend],
            "claim_due": [s.claim_due for s in trend],
            "claim_rate": [s.claim_rate for s in trend],
        },
        "overdue_levels": {
            "kinds": [kind for kind, _ in LEVELS],
            "labels": [label for _, label in LEVELS],
            "counts": [levels[kind] for kind, _ in LEVELS],
        },
    }
