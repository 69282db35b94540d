"""The working calendar: what a day lookup costs cold (the first of its year) and warm, and what the
calendar adds to loading the rules. Pure CPU in this process; no server.

Cold: a year's table is built on its first lookup, from calendar.yaml (``announced``), from
chinese-calendar's tables (``package``, for a year the file lacks) or from the statutory holidays with
the lunar calendar (``estimate``); the module-level caches are cleared before each, so every figure is
a first lookup in a fresh process (the very first estimate of a process also pays lunar_python's own
start-up: reported apart). ``chinese_calendar.is_workday`` per call is the lookup the calendar made
before (it recomputes its tables' bounds on every call). Warm: ``is_workday`` on a built table, and
``add`` (5 working days; 4 working hours across an evening), ``trace`` (48h + 1 working day, the
notes ``rules explain`` prints) and ``working_days_between`` on warm tables, each the median of
``--rounds`` rounds.

    .venv/bin/python -m bench.calendar [--warm-calls 1000000] [--rounds 5]
"""

from __future__ import annotations

import argparse
import logging
import shutil
import statistics
import tempfile
import time
from collections.abc import Callable
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

import chinese_calendar

from bench.common import log, machine_info, write_result
from bench.report import update_readme
from rules import DEFAULT_DIRECTORY, load_rules
from workflows.time import holidays
from workflows.time.calendar import SHANGHAI, Duration, WorkCalendar

TARGETS = {"warm_lookup_us": 5.0}
ESTIMATED_YEARS = range(2027, 2047)


def _us(seconds: float, calls: int = 1) -> float:
    return round(seconds / calls * 1e6, 3)


def _clear() -> None:
    holidays.package_table.cache_clear()
    holidays.statutory_table.cache_clear()
    holidays.statutory_holidays.cache_clear()


def _first_lookup(make: Callable[[], WorkCalendar], year: int) -> float:
    _clear()
    calendar = make()
    started = time.perf_counter()
    calendar.is_workday(date(year, 6, 1))
    return time.perf_counter() - started


def cold(announced: WorkCalendar) -> dict[str, Any]:
    years = list(holidays.PACKAGE_YEARS)
    first_estimate = _first_lookup(WorkCalendar, 2060)  # lunar_python's first use in this process
    rules_calendar = load_rules(DEFAULT_DIRECTORY).calendar
    by_source = {
        "announced": [_first_lookup(lambda: WorkCalendar.from_rules(rules_calendar), y) for y in years],
        "package": [_first_lookup(WorkCalendar, y) for y in years],
        "estimate": [_first_lookup(WorkCalendar, y) for y in ESTIMATED_YEARS],
    }
    days = [date(2004, 1, 1) + timedelta(days=n * 7) for n in range(1000)]
    started = time.perf_counter()
    for day in days:
        chinese_calendar.is_workday(day)
    package_call = time.perf_counter() - started
    out: dict[str, Any] = {
        source: {"median_us": _us(statistics.median(xs)), "max_us": _us(max(xs)), "years": len(xs)}
        for source, xs in by_source.items()
    }
    out["estimate_first_in_process_us"] = _us(first_estimate)
    out["chinese_calendar_is_workday_us_per_call"] = _us(package_call, len(days))
    assert announced.year(2026).source.startswith("calendar.yaml")
    return out


def warm(calendar: WorkCalendar, calls: int, rounds: int) -> dict[str, Any]:
    days = [date(2026, 1, 1) + timedelta(days=n % 365) for n in range(1000)]
    for day in days:
        calendar.is_workday(day)
    repeat = max(1, calls // len(days))
    lookups = []
    for _ in range(rounds):
        started = time.perf_counter()
        for _ in range(repeat):
            for day in days:
                calendar.is_workday(day)
        lookups.append((time.perf_counter() - started) / (repeat * len(days)))
    start = datetime(2026, 9, 28, 10, tzinfo=SHANGHAI)
    five = Duration.parse("5 working days")
    hours, sum_ = Duration.parse("4 working hours"), Duration.parse("48h + 1 working day")
    evening = datetime(2026, 9, 29, 16, 30, tzinfo=SHANGHAI)
    adds, betweens, hour_adds, traces = [], [], [], []
    n = max(1, calls // 100)
    for _ in range(rounds):
        began = time.perf_counter()
        for _ in range(n):
            calendar.add(start, five)
        adds.append((time.perf_counter() - began) / n)
        began = time.perf_counter()
        for _ in range(n):
            calendar.add(evening, hours)
        hour_adds.append((time.perf_counter() - began) / n)
        began = time.perf_counter()
        for _ in range(n // 10):
            calendar.trace(start, sum_)
        traces.append((time.perf_counter() - began) / (n // 10))
        began = time.perf_counter()
        for _ in range(n):
            calendar.working_days_between(start, start + timedelta(days=30))
        betweens.append((time.perf_counter() - began) / n)
    return {
        "lookup_us": _us(statistics.median(lookups)),
        "lookup_us_rounds": [_us(x) for x in lookups],
        "add_5_working_days_us": _us(statistics.median(adds)),
        "add_4_working_hours_us": _us(statistics.median(hour_adds)),
        "trace_48h_plus_1_working_day_us": _us(statistics.median(traces)),
        "working_days_between_30_days_us": _us(statistics.median(betweens)),
        "lookups_per_round": repeat * len(days),
    }


def loading() -> dict[str, Any]:
    """What calendar.yaml adds to reading the rules (start-up, every reload)."""
    with tempfile.TemporaryDirectory() as tmp:
        without = Path(tmp) / "rules"
        shutil.copytree(DEFAULT_DIRECTORY, without, ignore=shutil.ignore_patterns("*.py", "__pycache__"))
        (without / "calendar.yaml").unlink()
        times: dict[str, list[float]] = {"with": [], "without": []}
        for _ in range(5):
            for key, directory in (("with", DEFAULT_DIRECTORY), ("without", without)):
                began = time.perf_counter()
                load_rules(directory)
                times[key].append(time.perf_counter() - began)
    ruleset = load_rules(DEFAULT_DIRECTORY)
    began = time.perf_counter()
    WorkCalendar.from_rules(ruleset.calendar)
    built = time.perf_counter() - began
    return {
        "load_rules_ms": round(statistics.median(times["with"]) * 1000, 1),
        "load_rules_without_calendar_ms": round(statistics.median(times["without"]) * 1000, 1),
        "work_calendar_from_rules_us": _us(built),
    }


def checks(calendar: WorkCalendar, figures: dict[str, Any]) -> dict[str, Any]:
    first = date(2004, 1, 1)
    days = [first + timedelta(days=n) for n in range((date(2027, 1, 1) - first).days)]
    wrong = sum(calendar.is_workday(day)[0] != chinese_calendar.is_workday(day) for day in days)
    warm_ok = figures["warm"]["lookup_us"] < TARGETS["warm_lookup_us"]
    return {"days_differing_from_chinese_calendar_2004_2026": wrong, "warm_under_target": warm_ok,
            "ok": wrong == 0 and warm_ok}  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--warm-calls", type=int, default=1_000_000, help="warm lookups per round")
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    started = time.perf_counter()
    logging.getLogger("yunshang.calendar").setLevel(logging.ERROR)  # one warning per estimated year
    log("calendar: cold lookups")
    calendar = WorkCalendar.from_rules(load_rules(DEFAULT_DIRECTORY).calendar)
    figures: dict[str, Any] = {"cold": cold(calendar)}
    log("calendar: warm lookups")
    figures["warm"] = warm(calendar, args.warm_calls, args.rounds)
    log("calendar: loading the rules")
    figures["loading"] = loading()
    result = {
        "benchmark": "calendar",
        "machine": machine_info(),
        "parameters": {"warm_calls": args.warm_calls, "rounds": args.rounds, "estimated_years": "2027-2046"},
        "targets": TARGETS,
        **figures,
        "checks": checks(calendar, figures),
        "seconds": round(time.perf_counter() - started, 1),
    }
    path = write_result("calendar", result)
    update_readme()
    log(f"wrote {path}: warm {figures['warm']['lookup_us']} µs per lookup, checks {result['checks']}")


if __name__ == "__main__":
    main()
