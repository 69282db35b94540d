"""How the people of the grid first check behave in the demo: grid workers (most prompt, a slow share),
the street offices and the departments, and which outcome each first check reports.

Outcomes follow a plan rather than chance where the demo promises them: of the prompt workers' tasks,
every ``UNLICENSED_EVERY``-th finds an unlicensed operator (a third of those the street hands over to a
department, alternately for a missing permit and a missing licence), every ``UNREACHABLE_EVERY``-th an
unreachable address, ``RETURNED`` ones are returned for the wrong grid, and exactly one — the first
after ``PERMIT_AFTER`` whose business scope needs no permit — finds that it needs one after all. The
rest is chance: a minor issue now and then, else all in order.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal

from workflows.flows.grid_check.directory_parse import Directory
from workflows.time.calendar import Duration, WorkCalendar

#: share of the active grid workers who are slow
SLOW_SHARE = 0.10
UNLICENSED_EVERY = 150
UNREACHABLE_EVERY = 500
PERMIT_AFTER = 5
RETURNED = frozenset({40, 640, 1240})
MINOR_SHARE = 0.08
#: share of the re-checks that find the issue rectified
RECTIFIED_SHARE = 0.85
#: a permit item any shop may turn out to need (permit_routing.yaml)
PERMIT_ITEM = "FOOD_BUSINESS"

Plan = Literal["ok", "minor_issue", "permit_needed", "unlicensed", "address_unreachable", "returned"]


@dataclass(frozen=True)
class Habit:
    """Hours to acknowledge a task, working days from the acknowledgement to the first check."""

    ack_hours: tuple[float, float]
    check_working_days: tuple[int, int]


#: most workers acknowledge within hours and check within three working days
PROMPT = Habit((0.5, 8.0), (1, 3))
#: a slow one takes a day or two to acknowledge (past its working day) and over a week to check
SLOW = Habit((14.0, 40.0), (4, 9))
#: the street office's enforcement and a department's case, in working days
STREET_WORKING_DAYS = (1, 2)
CASE_WORKING_DAYS = (2, 6)
#: natural days from a verbal rectification to the re-check (due within 7)
RECHECK_DAYS = (3.0, 6.0)


def slow_workers(directory: Directory, rng: random.Random) -> frozenset[str]:
    """The active workers who are slow (``SLOW_SHARE`` of them, drawn with ``rng``)."""
    active = sorted(w.worker_id for w in directory.workers if w.active)
    return frozenset(rng.sample(active, round(len(active) * SLOW_SHARE)))


class OutcomePlan:
    """The outcome of each prompt worker's task, in the order the demo meets them."""

    def __init__(self, rng: random.Random) -> None:
        self.rng = rng
        self.met = 0
        self.unlicensed = 0
        self.permit_given = False

    def next(self, needs_no_permit: bool) -> Plan:
        n, self.met = self.met, self.met + 1
        if n in RETURNED:
            return "returned"
        if n % UNLICENSED_EVERY == 3:
            return "unlicensed"
        if n % UNREACHABLE_EVERY == UNREACHABLE_EVERY // 2:
            return "address_unreachable"
        if not self.permit_given and n >= PERMIT_AFTER and needs_no_permit:
            self.permit_given = True
            return "permit_needed"
        return "minor_issue" if self.rng.random() < MINOR_SHARE else "ok"

    def enforcement(self) -> tuple[str, str | None]:
        """The street's result for the next unlicensed operator, and what is missing when it hands
        the case over (``permit`` or ``licence``)."""
        k, self.unlicensed = self.unlicensed, self.unlicensed + 1
        if k % 3:
            return self.rng.choice(("licensed", "ceased", "penalised")), None
        return "handed_over", ("permit", "licence")[(k // 3) % 2]


class Timing:
    """Moments of the people's reports: after some hours, or on a working day some days on."""

    def __init__(self, calendar: WorkCalendar, rng: random.Random) -> None:
        self.calendar = calendar
        self.rng = rng

    def hours(self, after: datetime, span: tuple[float, float]) -> datetime:
        return after + timedelta(hours=max(1.0, self.rng.uniform(*span)))

    def days(self, after: datetime, span: tuple[float, float]) -> datetime:
        return after + timedelta(days=self.rng.uniform(*span))

    def working_days(self, after: datetime, span: tuple[int, int]) -> datetime:
        """During office hours (09:00–18:00) of the working day ``span`` working days on."""
        amount = self.rng.randint(*span)
        end_of_day = self.calendar.add(after, Duration.parse(f"{amount} working days")).due_at
        return max(after + timedelta(hours=1), end_of_day - timedelta(hours=self.rng.uniform(6, 15)))
