"""Checks of calendar.yaml: office hours at least one range, in order and apart; every date inside its
year, each day listed once, make-up workdays on weekends and never a day off."""

from __future__ import annotations

from datetime import date

from rules.checks.context import CALENDAR, Context
from rules.schema import Calendar, CalendarYear
from rules.yaml_source import PathKey

_Where = tuple[str, int]
"""A day off's holiday name and line."""
_WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")


def check_calendar(ctx: Context) -> None:
    calendar = ctx.calendar
    if calendar is None:
        return
    _office_hours(ctx, calendar)
    for year, entry in calendar.years.items():
        _check_year(ctx, year, entry)


def _office_hours(ctx: Context, calendar: Calendar) -> None:
    """Working hours count through the ranges one after the other: they must not overlap or go back."""
    if (CALENDAR, "office_hours") in ctx.partial:
        return  # a range with a schema error: reported there; the order is judged once it reads
    ranges = calendar.office_ranges()
    if not ranges:
        message = "office_hours is empty: working hours need at least one range, like 08:30-12:00"
        ctx.error(CALENDAR, ("office_hours",), message)
    for index in range(1, len(ranges)):
        (_, closes), (opens, _) = ranges[index - 1], ranges[index]
        if opens >= closes:
            continue
        earlier = calendar.office_hours[index - 1]
        line = ctx.line_of(CALENDAR, ("office_hours", index - 1))
        how = "overlap" if ranges[index][1] > ranges[index - 1][0] else "come before"
        ctx.error(
            CALENDAR,
            ("office_hours", index),
            f"office hours {calendar.office_hours[index]} {how} {earlier} (line {line}): list the "
            "ranges in the order of the day, apart from each other",
        )


def _check_year(ctx: Context, year: int, entry: CalendarYear) -> None:
    base: PathKey = ("years", year)
    off = _days_off(ctx, year, entry, base)
    _workdays(ctx, year, entry, base, off)


def _days_off(ctx: Context, year: int, entry: CalendarYear, base: PathKey) -> dict[date, _Where]:
    """Each day off of the year's holidays, its holiday and line; problems reported on the way."""
    off: dict[date, _Where] = {}
    for index, holiday in enumerate(entry.holidays):
        path: PathKey = (*base, "holidays", index)
        inside = True
        for key, day in (("first", holiday.first), ("last", holiday.last)):
            if day.year != year:
                inside = False
                ctx.error(CALENDAR, (*path, key), f"{day} is not in {year}: list it under {day.year}")
        if holiday.last < holiday.first:
            ctx.error(
                CALENDAR,
                (*path, "last"),
                f"{holiday.name} ends on {holiday.last}, before it starts on {holiday.first}",
            )
            continue
        if not inside:
            continue
        here = (holiday.name, ctx.line_of(CALENDAR, path))
        for day in holiday.days():
            if day in off:
                name, line = off[day]
                message = f"{day} is already a day off of {name} (line {line}): list each day once"
                ctx.error(CALENDAR, path, message)
                break
            off[day] = here
    return off


def _workdays(ctx: Context, year: int, entry: CalendarYear, base: PathKey, off: dict[date, _Where]) -> None:
    worked: dict[date, int] = {}
    for index, day in enumerate(entry.workdays):
        path = (*base, "workdays", index)
        if day.year != year:
            ctx.error(CALENDAR, path, f"{day} is not in {year}: list it under {day.year}")
        elif day in worked:
            line = ctx.line_of(CALENDAR, (*base, "workdays", worked[day]))
            message = f"make-up workday {day} is listed twice (also workdays[{worked[day]}], line {line})"
            ctx.error(CALENDAR, path, message)
        elif day.weekday() < 5:
            ctx.error(
                CALENDAR,
                path,
                f"make-up workday {day} is a {_WEEKDAYS[day.weekday()]}: a make-up workday (调休上班) "
                "must fall on a Saturday or Sunday",
            )
        elif day in off:
            name, line = off[day]
            message = f"{day} is both a make-up workday and a day off of {name} (line {line}): remove one"
            ctx.error(CALENDAR, path, message)
        worked.setdefault(day, index)
