"""The local duration, period and percentage checks (parsing into due times is the calendar's job)."""

from __future__ import annotations

from decimal import Decimal

import pytest

from rules.durations import duration_problem, is_duration, percent_problem, percent_share, period_problem


@pytest.mark.parametrize(
    "text",
    [
        "48h",
        "2h",
        "6 hours",
        "1 hour",
        "7 natural days",
        "1 natural day",
        "5 working days",
        "1 working day",
        "48h + 1 working day",
        "7 natural days + 3 working days",
        "48h+1 working day",
        "4 working hours",
        "1 working hour",
        "48h + 4 working hours",
    ],
)
def test_accepts(text: str) -> None:
    assert duration_problem(text) is None
    assert is_duration(text)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("48小时", "deadline '48小时' is not a duration: write 48h or 2 working days"),
        ("2 days", "deadline '2 days' is not a duration: write 48h or 2 working days"),
        ("-1h", "deadline '-1h' is not a duration: write 48h or 2 working days"),
        ("1.5h", "deadline '1.5h' is not a duration: write 48h or 2 working days"),
        ("48H", "deadline '48H' is not a duration: write 48h or 2 working days"),
        ("048h", "deadline '048h' is not a duration: write 48h or 2 working days"),
        ("48h +", "deadline '48h +' is not a duration: write 48h or 2 working days"),
        ("", "deadline '' is not a duration: write 48h or 2 working days"),
        ("0h", "deadline '0h' is zero: durations must be positive, e.g. 48h or 2 working days"),
        ("48h + 0 working days", "deadline '48h + 0 working days' is zero: durations must be positive, "
         "e.g. 48h or 2 working days"),
        ("0 working hours", "deadline '0 working hours' is zero: durations must be positive, e.g. 48h or 2 "
         "working days"),
        ("4 work hours", "deadline '4 work hours' is not a duration: write 48h or 2 working days"),
        (48, "deadline 48 is not a duration: write 48h or 2 working days"),
        (None, "deadline None is not a duration: write 48h or 2 working days"),
    ],
)  # fmt: skip
def test_rejects_with_a_fix(text: object, message: str) -> None:
    assert duration_problem(text) == message
    assert not is_duration(text)


def test_periods() -> None:
    assert period_problem("12 months") is None
    assert period_problem("1 year") is None
    assert period_problem("365 natural days") is None
    assert period_problem("1年") == "window '1年' is not a period: write 12 months or 365 natural days"
    assert period_problem(12) == "window 12 is not a period: write 12 months or 365 natural days"


def test_percentages() -> None:
    assert percent_problem("3%") is None
    assert percent_problem("2.5%") is None
    assert percent_problem("100%") is None
    assert percent_problem("101%") == "ratio '101%' is more than 100%"
    assert percent_problem(0.05) == "ratio 0.05 is not a percentage: write it like 5% or 2.5%"
    assert percent_problem("5") == "ratio '5' is not a percentage: write it like 5% or 2.5%"
    assert percent_share("2.5%") == Decimal("0.025")
