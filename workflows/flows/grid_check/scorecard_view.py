"""The grid scorecard for people: a date range in Asia/Shanghai, and plain-text tables aligned by
display width (street and grid names are Chinese)."""

from __future__ import annotations

from workflows.cli.table import left
from workflows.flows.grid_check.scorecard import GridScore, GridScorecard, grid_scorecard
from workflows.runtime import Runtime
from workflows.time.days import day_range, local

BY = ("street", "grid", "worker")


def scorecard_between(runtime: Runtime, start: str | None, end: str | None) -> GridScorecard:
    """The scorecard of the tasks first dispatched between two local days (default: the last 30)."""
    begin, stop = day_range(start, end, runtime.clock.now())
    return grid_scorecard(runtime.db, begin, stop)


def _pct(value: float | None) -> str:
    return "-" if value is None else f"{value * 100:.1f}%"


def _days(value: float | None) -> str:
    return "-" if value is None else f"{value:g}"


def _row(s: GridScore) -> str:
    o = s.overdue
    return (
        f"{left(f'{s.key} {s.name}'.strip(), 30)} {s.pushes:>7} {s.checked:>7} {_pct(s.verified_rate):>7} "
        f"{s.unlicensed:>10} {_days(s.percentile(50)):>6} {_days(s.percentile(90)):>6} "
        f"{o['street']:>6} {o['department']:>6} {o['district']:>6} {s.returns:>7}"
    )


def format_scorecard(card: GridScorecard, by: str = "street", top: int | None = None) -> str:
    head = (
        f"{left(by, 30)} {'pushes':>7} {'checked':>7} {'rate':>7} {'unlicensed':>10} {'p50wd':>6} "
        f"{'p90wd':>6} {'od:str':>6} {'od:dep':>6} {'od:dis':>6} {'returns':>7}"
    )
    rows = {"street": card.streets, "grid": card.grids, "worker": card.workers}[by]
    shown = sorted(rows, key=lambda s: (-sum(s.overdue.values()), -s.pushes, s.key))[:top] if top else rows
    period = f"{local(card.start)} → {local(card.end)}" if card.start and card.end else "all time"
    lines = [
        f"grid first check scorecard {period} (Asia/Shanghai); overdue now (od) by the level holding it",
        head,
        "-" * len(head),
        *(_row(s) for s in shown),
    ]
    if top and len(rows) > top:
        lines.append(f"... {len(shown)} of {len(rows)} {by}s shown (most overdue first); --top 0 shows all")
    lines += ["-" * len(head), _row(card.overall)]
    return "\n".join(lines)
