"""Durations as rule authors write them: ``48h``, ``3 natural days``, ``5 working days``, ``4 working
hours`` and ``+`` sums.

Parsing only; what a duration means on the calendar is ``workflows.time.calendar.WorkCalendar.add``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum

__all__ = ["Duration", "DurationError", "Period", "PeriodKind"]

_HINT = "write 48h, 3 natural days, 5 working days or 4 working hours"
_TERM = re.compile(
    r"(?P<amount>[+-]?[0-9]*(?:[.,][0-9]*)?)\s*"
    r"(?P<unit>h|hours?|natural\s+days?|working\s+days?|working\s+hours?|days?)",
    re.IGNORECASE | re.ASCII,
)


class DurationError(ValueError):
    """A duration text or value that cannot be used as a deadline."""


class PeriodKind(StrEnum):
    hours = "hours"
    natural_days = "natural_days"
    working_days = "working_days"
    working_hours = "working_hours"
    """Hours of office time on working days (工作时): ``calendar.yaml``'s ``office_hours``."""


@dataclass(frozen=True)
class Period:
    amount: int
    kind: PeriodKind

    def __post_init__(self) -> None:
        if isinstance(self.amount, bool) or not isinstance(self.amount, int) or self.amount < 1:
            raise DurationError(f"period amount {self.amount!r} must be a whole number of 1 or more")
        if not isinstance(self.kind, PeriodKind):
            raise DurationError(
                f"period kind {self.kind!r} must be one of: {', '.join(kind.value for kind in PeriodKind)}"
            )

    def __str__(self) -> str:
        if self.kind is PeriodKind.hours:
            return f"{self.amount}h"
        if self.kind is PeriodKind.working_hours:
            return f"{self.amount} working hour{'s' * (self.amount != 1)}"
        noun = "day" if self.amount == 1 else "days"
        adjective = "natural" if self.kind is PeriodKind.natural_days else "working"
        return f"{self.amount} {adjective} {noun}"


@dataclass(frozen=True)
class Duration:
    """One or more periods, applied left to right (``48h + 1 working day``)."""

    periods: tuple[Period, ...]

    def __post_init__(self) -> None:
        if not self.periods:
            raise DurationError(f"a duration needs at least one period: {_HINT}")

    @classmethod
    def parse(cls, text: str) -> Duration:
        """Parse ``48h``, ``3 natural days``, ``5 working days``, ``4 working hours`` or a ``+`` sum."""
        return cls(tuple(_parse_term(text, term) for term in text.split("+")))

    def __str__(self) -> str:
        return " + ".join(str(period) for period in self.periods)


def _parse_term(text: str, term: str) -> Period:
    match = _TERM.fullmatch(term.strip())
    if match is None or not match["amount"].strip("+-"):
        raise DurationError(f"deadline {text!r} is not a duration: {_HINT}")
    amount, unit = match["amount"], " ".join(match["unit"].lower().split())
    if not amount.isdigit() or int(amount) < 1:
        raise DurationError(
            f"deadline {text!r} is not a duration: amounts must be whole numbers of 1 or more ({_HINT})"
        )
    if unit.startswith("day"):
        raise DurationError(
            f"deadline {text!r} is not a duration: say whether the days are natural days or working days"
        )
    if unit.startswith("natural"):
        kind = PeriodKind.natural_days
    elif unit.startswith("working h"):
        kind = PeriodKind.working_hours
    elif unit.startswith("working"):
        kind = PeriodKind.working_days
    else:
        kind = PeriodKind.hours
    return Period(int(amount), kind)
