"""The exclusion window of sampling.yaml as a first day: months back (to the month's last day when
shorter), years, natural days."""

from __future__ import annotations

from datetime import date

import pytest

from workflows.flows.joint_inspection.candidates import window_start


@pytest.mark.parametrize(
    ("today", "window", "first"),
    [
        (date(2026, 12, 2), "12 months", date(2025, 12, 2)),
        (date(2026, 3, 31), "1 month", date(2026, 2, 28)),
        (date(2024, 3, 31), "1 month", date(2024, 2, 29)),
        (date(2026, 1, 15), "3 months", date(2025, 10, 15)),
        (date(2026, 2, 28), "2 years", date(2024, 2, 28)),
        (date(2026, 12, 2), "365 natural days", date(2025, 12, 2)),
        (date(2026, 12, 2), "1 natural day", date(2026, 12, 1)),
    ],
)
def test_window_start(today: date, window: str, first: date) -> None:
    assert window_start(today, window) == first
