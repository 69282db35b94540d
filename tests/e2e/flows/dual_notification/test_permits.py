"""permit.issued closes the notice and records the working days from the license to the permit:
the license day not counted, the permit day counted, in Asia/Shanghai dates, across public holidays
(National Day 2025, Spring Festival 2026) with their make-up working days (调休)."""

from __future__ import annotations

from datetime import date, datetime

import chinese_calendar

from tests.e2e.flows.dual_notification.conftest import BAKERY, E2E, PHARMACY, at

# National Day + Mid-Autumn 2025: 1–8 Oct off, Sat 11 Oct a make-up working day.
# License Mon 29 Sep 10:00 (Shanghai), permit Mon 13 Oct 15:00. Counted after 29 Sep:
# Tue 30 Sep, Thu 9 Oct, Fri 10 Oct, Sat 11 Oct (调休), Mon 13 Oct → 5 (Sun 12 Oct is off).
DRUG_LICENSE = datetime.fromisoformat("2025-09-29T02:00:00+00:00")
DRUG_PERMIT = datetime.fromisoformat("2025-10-13T07:00:00+00:00")
DRUG_DAYS = [date(2025, 9, 30), date(2025, 10, 9), date(2025, 10, 10), date(2025, 10, 11), date(2025, 10, 13)]
# Spring Festival 2026: 15–23 Feb off, Sat 14 Feb and Sat 28 Feb make-up working days.
# License Fri 13 Feb 16:00 (Shanghai); permit 27 Feb 23:00 UTC = Sat 28 Feb 07:00 in Shanghai, so the
# count runs to the 28th (a UTC date would stop at the 27th and give 5). Counted after 13 Feb:
# Sat 14 Feb (调休), Tue 24, Wed 25, Thu 26, Fri 27, Sat 28 Feb (调休) → 6.
FOOD_LICENSE = datetime.fromisoformat("2026-02-13T08:00:00+00:00")
FOOD_PERMIT = datetime.fromisoformat("2026-02-27T23:00:00+00:00")
FOOD_DAYS = [date(2026, 2, d) for d in (14, 24, 25, 26, 27, 28)]


def test_the_hand_count_agrees_with_the_holiday_tables() -> None:
    for first, last, counted in (
        (date(2025, 9, 30), date(2025, 10, 13), DRUG_DAYS),
        (date(2026, 2, 14), date(2026, 2, 28), FOOD_DAYS),
    ):
        workdays = [d for d in chinese_calendar.get_dates(first, last) if chinese_calendar.is_workday(d)]
        assert workdays == counted
    assert all(chinese_calendar.is_holiday(date(2025, 10, d)) for d in range(1, 9))
    assert all(chinese_calendar.is_holiday(date(2026, 2, d)) for d in range(15, 24))


def test_a_permit_closes_the_notice_with_the_working_days_across_a_holiday(e2e: E2E) -> None:
    e2e.license(PHARMACY, "青岛崂山仁心大药房有限公司", "药品零售", DRUG_LICENSE)
    e2e.license(BAKERY, "青岛崂山麦香烘焙坊", "食品销售；烘焙食品制售", FOOD_LICENSE)
    e2e.stack.settle()
    drug = e2e.notice(PHARMACY, "DRUG_RETAIL", "SCJG_YP")
    food = e2e.notice(BAKERY, "FOOD_BUSINESS", "SCJG_SP")
    assert at(drug["context"]["license_issued_at"]) == DRUG_LICENSE
    assert at(food["context"]["license_issued_at"]) == FOOD_LICENSE
    e2e.claim(drug["id"], "药监科 李")
    e2e.claim(food["id"], "食品科 赵")
    e2e.stack.settle()
    began = e2e.now()

    answer = e2e.permit(PHARMACY, "DRUG_RETAIL", "SCJG_YP", "鲁CB5320123", DRUG_PERMIT)
    assert (answer["result"], answer["instances"]) == ("queued", [drug["id"]])
    e2e.permit(BAKERY, "FOOD_BUSINESS", "SCJG_SP", "JY23702120012345", FOOD_PERMIT)
    e2e.stack.settle()

    for notice, permit_no, issued, days in (
        (drug, "鲁CB5320123", DRUG_PERMIT, 5),
        (food, "JY23702120012345", FOOD_PERMIT, 6),
    ):
        detail = e2e.instance(notice["id"])
        ctx = detail["context"]
        assert (detail["state"], ctx["permit_no"], at(ctx["permit_issued_at"])) == (
            "permit_issued",
            permit_no,
            issued,
        )
        assert detail["closed_at"] is not None and at(detail["closed_at"]) >= began
        assert ctx["permit_before_claim"] is False
        assert {t["status"] for t in detail["timers"]} == {"cancelled"}
        assert (detail["history"][-1]["trigger"], detail["history"][-1]["outcome"]) == (
            "permit_issue",
            "applied",
        )
        assert ctx.get("working_days") == days, "the notice records the working days to the permit"
    assert (
        e2e.instances(flow="dual_notification", state="permit_issued", subject=BAKERY)[0]["id"] == food["id"]
    )

    card = e2e.scorecard(min(at(drug["created_at"]), at(food["created_at"])), e2e.now())
    by = {d["department"]: d for d in card["departments"]}
    assert (
        by["SCJG_YP"]["permits_issued"],
        by["SCJG_YP"]["permit_rate"],
        by["SCJG_YP"]["avg_working_days"],
    ) == (
        1,
        1.0,
        5.0,
    )
    assert (
        by["SCJG_SP"]["permits_issued"],
        by["SCJG_SP"]["permit_rate"],
        by["SCJG_SP"]["avg_working_days"],
    ) == (
        1,
        1.0,
        6.0,
    )
    assert (card["overall"]["permits_issued"], card["overall"]["avg_working_days"]) == (2, 5.5)
