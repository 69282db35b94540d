"""The scorecard: claim rate, overdue now, permit rate and working days, on a known data set."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from rules import RuleSet
from tests.notices import HOTEL, PHARMACY, T0, facts, send, start_notice
from tests.support import Stack
from workflows.flows.dual_notification.scorecard import aggregate, scorecard
from workflows.time.calendar import WorkCalendar

NOW = T0 + timedelta(hours=100)
LICENSE = datetime(2025, 9, 30, 2, tzinfo=UTC)  # the eve of National Day 2025
PERMIT = datetime(2025, 10, 10, 3, tzinfo=UTC)  # 2 working days later (1–8 Oct are holidays)


def notice(department: str, pushed_hours_ago: float, **extra: Any) -> dict[str, Any]:
    return {
        "department": department,
        "pushed_at": (NOW - timedelta(hours=pushed_hours_ago)).isoformat(),
        "claim_window_hours": 48,
        "license_issued_at": LICENSE.isoformat(),
        **extra,
    }


CLAIMED = {"claimed_at": T0.isoformat(), "claimed_in_time": True}
LATE = {"claimed_at": T0.isoformat(), "claimed_in_time": False}
ROWS = [
    ("permit_issued", notice("SCJG_YP", 100, **CLAIMED, permit_issued_at=PERMIT.isoformat())),
    ("applied", notice("SCJG_YP", 100, **LATE)),
    ("awaiting_claim", notice("SCJG_YP", 100)),  # overdue now
    ("awaiting_claim", notice("SCJG_YP", 1)),  # still inside its window
    ("not_needed", notice("WJJ", 100, **CLAIMED)),
    ("permit_issued", notice("WJJ", 100, **CLAIMED, working_days=5)),
    ("cancelled", notice("WJJ", 100, escalations=[{"kind": "warning"}, {"kind": "overdue"}])),
]


def test_the_scorecard_of_a_known_data_set(ruleset: RuleSet) -> None:
    card = aggregate(ROWS, start=T0, end=NOW, now=NOW, calendar=WorkCalendar(), ruleset=ruleset)
    yp, wjj = (s.as_json() for s in card.departments)
    assert yp == {
        "department": "SCJG_YP",
        "department_name": "区市场监管局(药监)",
        "notices": 4,
        "claimed": 2,
        "claim_due": 3,
        "claimed_in_time": 1,
        "overdue_now": 1,
        "needing_permit": 4,
        "permits_issued": 1,
        "claim_rate": 0.3333,
        "permit_rate": 0.25,
        "avg_working_days": 2.0,
    }
    assert (wjj["department_name"], wjj["notices"], wjj["claim_due"], wjj["claimed_in_time"]) == (
        "区卫生健康局",
        3,
        3,
        2,
    )
    assert (wjj["overdue_now"], wjj["needing_permit"], wjj["permit_rate"], wjj["avg_working_days"]) == (
        0,
        1,
        1.0,
        5.0,
    )
    overall = card.overall.as_json()
    assert (overall["notices"], overall["claim_due"], overall["claimed_in_time"], overall["claim_rate"]) == (
        7,
        6,
        3,
        0.5,
    )
    assert (overall["overdue_now"], overall["needing_permit"], overall["permit_rate"]) == (1, 5, 0.4)
    assert overall["avg_working_days"] == 3.5
    assert card.as_json()["start"] == T0.isoformat()


def test_an_empty_scorecard_has_no_rates() -> None:
    card = aggregate([], start=T0, end=NOW, now=NOW, calendar=WorkCalendar())
    assert card.departments == []
    assert (card.overall.claim_rate, card.overall.permit_rate, card.overall.avg_working_days) == (
        None,
        None,
        None,
    )


def test_scorecard_from_the_database(nstack: Stack, ruleset: RuleSet) -> None:
    began = nstack.clock.now()
    drug = start_notice(nstack, facts(license_issued_at=LICENSE)).instance_id
    start_notice(nstack, facts(permit="FOOD_BUSINESS", department="SCJG_SP"))
    hotel = start_notice(
        nstack, facts(uscc=HOTEL, permit="PUBLIC_PLACE_HYGIENE", department="WJJ")
    ).instance_id
    nstack.advance(10)
    send(nstack, drug, "claim", {"officer": "李", "claimed_at": nstack.clock.now().isoformat()})
    nstack.settle()  # two messages in flight may be applied in either order
    send(nstack, drug, "permit_issue", {"permit_no": "YP-9", "issued_at": PERMIT.isoformat()})
    nstack.settle()
    nstack.advance(40)  # 50 h: food and hotel are overdue
    nstack.runtime.sweeper.sweep()
    nstack.settle()
    send(nstack, hotel, "claim", {"officer": "赵", "claimed_at": nstack.clock.now().isoformat()})
    nstack.settle()

    now = nstack.clock.now()
    calendar = nstack.runtime.engine.calendar
    card = scorecard(
        nstack.runtime.db, calendar, start=began - timedelta(hours=1), end=now, now=now, ruleset=ruleset
    )
    by = {s.department: s for s in card.departments}
    assert (by["SCJG_YP"].claimed_in_time, by["SCJG_YP"].permits_issued, by["SCJG_YP"].avg_working_days) == (
        1,
        1,
        2.0,
    )
    assert (by["SCJG_SP"].overdue_now, by["SCJG_SP"].claim_due, by["SCJG_SP"].claim_rate) == (1, 1, 0.0)
    assert (by["WJJ"].claimed, by["WJJ"].claimed_in_time, by["WJJ"].overdue_now) == (1, 0, 0)
    assert (card.overall.notices, card.overall.claim_rate, card.overall.permit_rate) == (3, 0.3333, 0.3333)
    assert PHARMACY in nstack.instance(drug).business_key

    later = scorecard(nstack.runtime.db, calendar, start=now, end=now + timedelta(days=1), now=now)
    assert later.overall.notices == 0
    with pytest.raises(ValueError, match="the range is empty"):
        scorecard(nstack.runtime.db, calendar, start=now, end=now, now=now)
