"""The scorecard for people: date ranges in Asia/Shanghai, and a plain-text table."""

from __future__ import annotations

from datetime import datetime

from workflows.cli.table import left
from workflows.flows.dual_notification.scorecard import Score, Scorecard, scorecard
from workflows.runtime import Runtime
from workflows.time.calendar import SHANGHAI
from workflows.time.days import day_range

__all__ = ["day_range", "format_scorecard", "scorecard_between"]


def scorecard_between(runtime: Runtime, start: str | None, end: str | None) -> Scorecard:
    """The scorecard of the notices pushed between two local days (default: the last 30), as of now."""
    now = runtime.clock.now()
    begin, stop = day_range(start, end, now)
    ruleset = runtime.rules.current.ruleset
    return scorecard(runtime.db, runtime.engine.calendar, start=begin, end=stop, now=now, ruleset=ruleset)


def _pct(value: float | None) -> str:
    return "-" if value is None else f"{value * 100:.1f}%"


def _row(s: Score) -> str:
    name = f"{s.department} {s.department_name}".strip()
    days = "-" if s.avg_working_days is None else f"{s.avg_working_days:.1f}"
    return (
        f"{left(name, 28)} {s.notices:>7} {s.claimed_in_time:>6}/{s.claim_due:<6} {_pct(s.claim_rate):>7} "
        f"{s.overdue_now:>8} {s.permits_issued:>6}/{s.needing_permit:<6} {_pct(s.permit_rate):>7} {days:>8}"
    )


def _local(moment: datetime) -> str:
    return moment.astimezone(SHANGHAI).strftime("%Y-%m-%d %H:%M")


def format_scorecard(card: Scorecard) -> str:
    head = (
        f"{'department':<28} {'notices':>7} {'claimed≤48h':>13} {'rate':>7} {'overdue':>8} "
        f"{'permits':>13} {'rate':>7} {'avg wd':>8}"
    )
    lines = [
        f"dual notification scorecard {_local(card.start)} → {_local(card.end)} (Asia/Shanghai), "
        f"as at {_local(card.at)}",
        head,
        "-" * len(head),
        *(_row(d) for d in card.departments),
        "-" * len(head),
        _row(card.overall),
    ]
    return "\n".join(lines)
