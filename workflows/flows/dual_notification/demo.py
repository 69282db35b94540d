"""Dual notification's part of the demo (``workflows.demo``): a week of a synthetic district's licenses
(``demo_data.district``); departments claim each new notice on their own habits (some late, some never)
and permits follow for most claimed notices a few working days later; its report is the scorecard."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

from sqlalchemy import select

from state_machines.dual_notification import FLOW_NAME
from workflows.demo.parts import DemoContext, Place
from workflows.flows.dual_notification.demo_data import DIVISION, claim_delay, district
from workflows.flows.dual_notification.scorecard import scorecard
from workflows.flows.dual_notification.scorecard_view import format_scorecard
from workflows.store.models import Instance
from workflows.time.calendar import Duration

SOURCE = "/demo/registration"
DEPARTMENT_APP = "/demo/officer-app"
PERMIT_SHARE = 0.92
#: the order new notices are met in: of their facts (the worker threads create them in any order)
_ORDER = ("license_issued_at", "uscc", "permit", "department")


class DualNotificationDemo:
    """The registration system and the departments of dual notification."""

    def __init__(self) -> None:
        self.seen_notice = 0

    def load(self, ctx: DemoContext) -> Sequence[Place]:
        return ()

    def prepare(self, ctx: DemoContext) -> str:
        licenses = district(ctx.ruleset, ctx.enterprises, ctx.start, ctx.days, ctx.seed, ctx.places)
        for lic in licenses:
            ctx.schedule(lic.at, "license.issued", SOURCE, lic.data)
        return (
            f"{len(licenses)} licenses in Laoshan ({DIVISION}), {len(ctx.places)} grids; "
            "departments claim on habit, permits follow"
        )

    def follow(self, ctx: DemoContext, now: datetime) -> None:
        """Departments claim new notices on their habits; most claimed ones get a permit later."""
        with ctx.runtime.db.read() as s:
            rows = [
                (notice_id, notice)
                for notice_id, notice in s.execute(
                    select(Instance.id, Instance.context).where(
                        Instance.flow == FLOW_NAME, Instance.id > self.seen_notice
                    )
                )
            ]
        rows.sort(key=lambda row: (*(str(row[1].get(k)) for k in _ORDER), row[0]))
        rng = ctx.rng
        for notice_id, notice in rows:
            self.seen_notice = max(self.seen_notice, notice_id)
            delay = claim_delay(str(notice.get("department")), rng)
            if delay is None:
                continue
            claimed = now + timedelta(hours=delay)
            ctx.schedule(
                claimed,
                "notice.claimed",
                DEPARTMENT_APP,
                {
                    "notice": notice_id,
                    "officer": f"officer-{rng.randint(1, 800):03d}",
                    "claimed_at": claimed.isoformat(),
                },
            )
            if rng.random() < PERMIT_SHARE:
                issued = ctx.runtime.engine.calendar.add(
                    claimed, Duration.parse(f"{rng.randint(1, 4)} working days")
                )
                at = issued.due_at - timedelta(hours=rng.randint(3, 12))
                ctx.schedule(
                    at,
                    "permit.issued",
                    DEPARTMENT_APP,
                    {
                        "uscc": notice["uscc"],
                        "permit_item": notice["permit"],
                        "department": notice["department"],
                        "permit_no": f"{notice['permit'][:3]}{rng.randint(10**6, 10**7 - 1)}",
                        "issued_at": at.isoformat(),
                    },
                )

    def report(self, ctx: DemoContext, start: datetime, end: datetime) -> str:
        rt = ctx.runtime
        card = scorecard(
            rt.db, rt.engine.calendar, start=start, end=end, now=rt.clock.now(), ruleset=ctx.ruleset
        )
        return format_scorecard(card)
