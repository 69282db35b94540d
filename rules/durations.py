"""Small, local checks for the durations, periods and percentages rule authors write.

These only say whether a text is well formed. Turning a deadline into a due time (working days,
public holidays, make-up workdays) is the engine's calendar's job (`workflows/calendar.py`), not ours.

Accepted deadlines: ``48h``, ``6 hours``, ``7 natural days``, ``5 working days``, ``1 working day``,
``4 working hours``, ``1 working hour`` (工作时: office hours of working days, calendar.yaml), and sums
of those joined by ``+`` (``48h + 1 working day``). Numbers are positive whole numbers.
"""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation

_NUMBER = r"[1-9][0-9]*"
_UNIT = r"(?:hours?|natural days?|working days?|working hours?)"
_TERM = re.compile(rf"^(?:(?P<compact>{_NUMBER})h|(?P<n>{_NUMBER}) (?P<unit>{_UNIT}))$")
_ZERO_TERM = re.compile(rf"^0+(?:h| {_UNIT})$")
_PERIOD = re.compile(rf"^{_NUMBER} (?:months?|years?|natural days?)$")
_PERCENT = re.compile(r"^(?:0|[1-9][0-9]*)(?:\.[0-9]+)?%$")

DURATION_HINT = "write 48h or 2 working days"
PERIOD_HINT = "write 12 months or 365 natural days"


def duration_problem(text: object, what: str = "deadline") -> str | None:
    """Why ``text`` is not a deadline duration, or None when it is one."""
    if not isinstance(text, str):
        return f"{what} {text!r} is not a duration: {DURATION_HINT}"
    terms = [term.strip() for term in text.split("+")]
    if all(_TERM.match(term) for term in terms):
        return None
    if any(_ZERO_TERM.match(term) for term in terms):
        return f"{what} '{text}' is zero: durations must be positive, e.g. 48h or 2 working days"
    return f"{what} '{text}' is not a duration: {DURATION_HINT}"


def is_duration(text: object) -> bool:
    return duration_problem(text) is None


def period_problem(text: object, what: str = "window") -> str | None:
    """Why ``text`` is not a look-back period (``12 months``), or None when it is one."""
    if isinstance(text, str) and _PERIOD.match(text):
        return None
    shown = f"'{text}'" if isinstance(text, str) else repr(text)
    return f"{what} {shown} is not a period: {PERIOD_HINT}"


def percent_problem(text: object, what: str = "ratio") -> str | None:
    """Why ``text`` is not a percentage between 0% and 100%, or None when it is one."""
    if isinstance(text, str) and _PERCENT.match(text):
        if percent_share(text) <= 1:
            return None
        return f"{what} '{text}' is more than 100%"
    shown = f"'{text}'" if isinstance(text, str) else repr(text)
    return f"{what} {shown} is not a percentage: write it like 5% or 2.5%"


def percent_share(text: str) -> Decimal:
    """``'5%'`` → ``Decimal('0.05')``. Call only on a text ``percent_problem`` accepted."""
    try:
        return Decimal(text.rstrip("%")) / 100
    except InvalidOperation as exc:  # pragma: no cover - guarded by the regex
        raise ValueError(f"{text!r} is not a percentage") from exc
