"""Date ranges as people give them: local days in Asia/Shanghai (the end day included) or aware times."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

from workflows.errors import BadInput
from workflows.time.calendar import SHANGHAI


def day_range(
    start: str | None, end: str | None, now: datetime, default_days: int = 30
) -> tuple[datetime, datetime]:
    """``YYYY-MM-DD`` bounds (local days, end inclusive) or aware datetimes → [start, end) in UTC."""

    def parse(text: str, field: str, *, is_end: bool) -> datetime:
        try:
            if len(text) == 10:
                day = date.fromisoformat(text) + timedelta(days=1 if is_end else 0)
                return datetime.combine(day, time(), SHANGHAI)
            moment = datetime.fromisoformat(text)
        except ValueError:
            raise BadInput(f"{field}: {text!r} is not a date (2026-10-01) or a time with a zone") from None
        if moment.tzinfo is None:
            raise BadInput(f"{field}: {text!r} has no timezone; add one (+08:00) or give a date")
        return moment

    stop = parse(end, "end", is_end=True) if end else now
    begin = parse(start, "start", is_end=False) if start else stop - timedelta(days=default_days)
    if begin >= stop:
        raise BadInput(f"start: {begin.isoformat()} is not before the end {stop.isoformat()}")
    return begin, stop


def local(moment: datetime) -> str:
    """``2026-10-01 09:00`` in Asia/Shanghai."""
    return moment.astimezone(SHANGHAI).strftime("%Y-%m-%d %H:%M")


def shown(value: datetime | str | None) -> str:
    """A moment as people read it everywhere in the CLI: Asia/Shanghai with its offset, to the second
    (``2026-10-01 09:00:00+08:00``); ``-`` for none."""
    if value is None or value == "":
        return "-"
    moment = datetime.fromisoformat(value) if isinstance(value, str) else value
    return moment.astimezone(SHANGHAI).isoformat(sep=" ", timespec="seconds")
