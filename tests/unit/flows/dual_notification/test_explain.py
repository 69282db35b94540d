"""``yunshang rules explain``: the dry run of a license event, field by field, on the real calendar."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from rules import DEFAULT_DIRECTORY, RuleSet, load_rules
from rules.schema import CalendarYear, Holiday
from worker import PLUGINS, compose
from workflows.cli.app import build_app
from workflows.errors import BadInput
from workflows.flows.dual_notification.explain import Explanation, Notice, explain, read_event
from workflows.flows.dual_notification.explain_text import format_explanation
from workflows.time.calendar import SHANGHAI, WorkCalendar
from workflows.time.clock import SystemClock

PHARMACY_SCOPE = "药品零售;食品销售(仅销售预包装食品)"
HOTEL_SCOPE = "住宿服务;会议及展览服务"
CST = SHANGHAI

CLI = build_app(compose, PLUGINS)
CALENDAR = WorkCalendar.from_rules(load_rules(DEFAULT_DIRECTORY).calendar)


def event(scope: str, issued_at: str, **data: Any) -> dict[str, Any]:
    return {
        "specversion": "1.0",
        "id": "reg-0001",
        "source": "/laoshan/registration",
        "type": "license.issued",
        "data": {
            "uscc": "91370212MA3QK7T84W",
            "name": "青岛益康大药房有限公司",
            "business_scope": scope,
            "address": "崂山区香港东路1号",
            "street": "中韩街道",
            "grid": "ZH-001",
            "legal_representative": "王芳",
            "issued_at": issued_at,
            **data,
        },
    }


@pytest.fixture(scope="module")
def ruleset() -> RuleSet:
    return load_rules(DEFAULT_DIRECTORY)


def run(ruleset: RuleSet, raw: dict[str, Any]) -> Explanation:
    """Counted from the event's own time: as if the notice were pushed when the license was issued."""
    facts = read_event(raw)
    return explain(ruleset, facts, CALENDAR, facts.at)


def local(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=CST)


def claim_timers(notice: Notice) -> list[tuple[str, str, datetime, str, bool]]:
    return [(t.timer, t.duration, t.local, t.day, t.provisional) for t in notice.timers]


def test_pharmacy_across_national_day_2025(ruleset: RuleSet) -> None:
    # Monday 29 Sep 2025, 10:00: 48 h later is 1 Oct (National Day, holidays 1–8 Oct); the next
    # working day after it is Thursday 9 Oct, so supervision falls at the end of 9 Oct
    result = run(ruleset, event(PHARMACY_SCOPE, "2025-09-29T10:00:00+08:00"))

    assert result.status == "matched"
    assert result.outcome == "notified: 2 notices to 2 departments"
    assert result.rules_version == ruleset.content_hash[:16]
    assert result.counted_from == datetime(2025, 9, 29, 2, 0, tzinfo=UTC)
    hits = [(h.permit, h.kind, h.rule, h.start, h.end, h.excerpt) for p in result.permits for h in p.hits]
    assert hits == [
        ("DRUG_RETAIL", "keyword", "药品零售", 0, 4, "「药品零售」;食品销售(仅销…"),
        ("FOOD_BUSINESS", "keyword", "食品销售", 5, 9, "药品零售;「食品销售」(仅销售预包装食…"),
    ]
    assert [h.line for p in result.permits for h in p.hits] == [
        ruleset.where("permit_routing.yaml", "routes[2]")[0],  # type: ignore[index]
        ruleset.where("permit_routing.yaml", "routes[0]")[0],  # type: ignore[index]
    ]
    permits = [(p.code, p.name, p.approving.code, p.approving.short_name) for p in result.permits]
    assert permits == [
        ("DRUG_RETAIL", "药品经营许可(零售)", "SCJG_YP", "区市场监管局(药监)"),
        ("FOOD_BUSINESS", "食品经营许可", "SCJG_SP", "区市场监管局(食品)"),
    ]
    assert [[u.code for u in p.supervising] for p in result.permits] == [["SCJG_YP"], ["SCJG_SP"]]

    drug, food = result.notices
    assert drug.business_key == "91370212MA3QK7T84W:DRUG_RETAIL:SCJG_YP"
    assert (drug.department.code, drug.department.name) == (
        "SCJG_YP",
        "青岛市崂山区市场监督管理局药品医疗器械监督管理科",
    )
    assert drug.roles == ("approving", "supervising")
    assert food.business_key == "91370212MA3QK7T84W:FOOD_BUSINESS:SCJG_SP"
    expected = [
        ("claim_warning", "36h", local("2025-09-30T22:00"), "Tue", False),
        ("claim_deadline", "48h", local("2025-10-01T10:00"), "Wed, holiday 国庆节", False),
        (
            "claim_supervision",
            "48h + 1 working day",
            local("2025-10-10T00:00"),
            "end of Thu 2025-10-09",
            False,
        ),
    ]
    assert claim_timers(drug) == expected
    assert claim_timers(food) == expected
    assert drug.timers[2].due_at == datetime(2025, 10, 9, 16, 0, tzinfo=UTC)
    assert [t.line for t in drug.timers] == [13, 14, 15]

    (ladder,) = drug.ladders
    assert (ladder.code, ladder.name) == ("dual_notification_claim", "双告知48小时认领")
    steps = [(s.position, s.kind, s.name, s.at, s.due_local, s.target, s.end) for s in ladder.steps]
    assert steps == [
        (
            1,
            "warn",
            "黄色预警",
            "claim_warning",
            local("2025-09-30T22:00"),
            "双告知认领员 (notice_handler) of 区市场监管局(药监) [SCJG_YP]",
            False,
        ),
        (
            2,
            "overdue",
            "超时推送分管领导",
            "claim_deadline",
            local("2025-10-01T10:00"),
            "负责人 (leader) of 区市场监管局(药监) [SCJG_YP]",
            False,
        ),
        (
            3,
            "supervise",
            "平台办督办",
            "claim_supervision",
            local("2025-10-10T00:00"),
            "督办员 (supervisor) of 平台办 [PTB]",
            True,
        ),
    ]
    assert food.ladders[0].steps[0].target == "双告知认领员 (notice_handler) of 区市场监管局(食品) [SCJG_SP]"


def test_hotel_across_spring_festival_2026(ruleset: RuleSet) -> None:
    # Thursday 12 Feb 2026, 09:30: 48 h later is Saturday 14 Feb, a make-up workday; the holiday runs
    # 15–23 Feb, so the one working day after the 14th is Tuesday 24 Feb
    raw = event(HOTEL_SCOPE, "2026-02-12T09:30:00+08:00", name="青岛海韵酒店管理有限公司")
    result = run(ruleset, raw)

    assert result.status == "matched"
    assert result.outcome == "notified: 2 notices to 2 departments"
    hits = [(h.permit, h.rule, h.start, h.end) for p in result.permits for h in p.hits]
    assert hits == [
        ("PUBLIC_PLACE_HYGIENE", "住宿服务", 0, 4),
        ("HOTEL_SPECIAL_TRADE", "住宿服务", 0, 4),
    ]
    hygiene, special = result.notices
    assert (hygiene.permit, hygiene.permit_name, hygiene.department.code, hygiene.department.short_name) == (
        "PUBLIC_PLACE_HYGIENE",
        "公共场所卫生许可",
        "WJJ",
        "区卫生健康局",
    )
    assert (special.permit, special.permit_name, special.department.code, special.department.short_name) == (
        "HOTEL_SPECIAL_TRADE",
        "旅馆业特种行业许可",
        "GAFJ",
        "公安崂山分局",
    )
    assert special.department.name == "青岛市公安局崂山分局"
    expected = [
        ("claim_warning", "36h", local("2026-02-13T21:30"), "Fri", False),
        ("claim_deadline", "48h", local("2026-02-14T09:30"), "Sat, make-up workday", False),
        (
            "claim_supervision",
            "48h + 1 working day",
            local("2026-02-25T00:00"),
            "end of Tue 2026-02-24",
            False,
        ),
    ]
    assert claim_timers(hygiene) == expected
    assert claim_timers(special) == expected
    targets = [s.target for s in special.ladders[0].steps]
    assert targets == [
        "双告知认领员 (notice_handler) of 公安崂山分局 [GAFJ]",
        "负责人 (leader) of 公安崂山分局 [GAFJ]",
        "督办员 (supervisor) of 平台办 [PTB]",
    ]
    text = format_explanation(result)
    assert "keyword 住宿服务 at 0–4: 「住宿服务」;会议及展览服务 → HOTEL_SPECIAL_TRADE" in text
    assert "claim_deadline       48h                    2026-02-14 09:30 (Sat, make-up workday" in text
    assert "the enterprise is reminded to apply for: PUBLIC_PLACE_HYGIENE, HOTEL_SPECIAL_TRADE" in text
    assert text.endswith("outcome: notified: 2 notices to 2 departments")


def test_counted_from_another_instant_lands_in_the_holiday(ruleset: RuleSet) -> None:
    raw = event(HOTEL_SCOPE, "2026-02-12T09:30:00+08:00")
    result = explain(ruleset, read_event(raw), CALENDAR, at=local("2026-02-13T16:20"))
    assert [(t.local, t.day) for t in result.notices[0].timers] == [
        (local("2026-02-15T04:20"), "Sun, holiday 春节"),
        (local("2026-02-15T16:20"), "Sun, holiday 春节"),
        (local("2026-02-25T00:00"), "end of Tue 2026-02-24"),
    ]


def test_a_year_without_calendar_data_is_provisional(ruleset: RuleSet) -> None:
    result = run(ruleset, event("药品零售", "2027-09-30T10:00:00+08:00"))
    supervision = result.notices[0].timers[2]
    assert supervision.provisional
    assert "provisional calendar" in supervision.day
    assert "PROVISIONAL" in format_explanation(result)


def test_no_match_needs_no_permit(ruleset: RuleSet) -> None:
    result = run(ruleset, event("软件开发;信息技术咨询服务", "2025-09-29T10:00:00+08:00"))
    assert (result.status, result.permits, result.notices) == ("no_match", (), ())
    assert result.outcome == "no post-license permit needed: the case is closed"


def test_ambiguous_scope_goes_to_manual_routing(ruleset: RuleSet) -> None:
    result = run(ruleset, event("食品销售;医疗器械经营", "2025-09-29T10:00:00+08:00"))
    assert result.status == "ambiguous"
    assert result.outcome.startswith("routing_failed: manual routing")
    (review,) = result.reviews
    assert (review.keyword, review.start, review.end, review.candidates) == (
        "医疗器械经营",
        5,
        11,
        ("MEDICAL_DEVICE_III",),
    )
    assert "第三类需经营许可" in review.reason
    assert [n.permit for n in result.notices] == ["FOOD_BUSINESS"]  # what did match is still pushed
    assert "review keyword 医疗器械经营 at 5–11" in format_explanation(result)


def test_industry_codes_and_negation_are_explained(ruleset: RuleSet) -> None:
    raw = event("日用百货销售(不含危险化学品经营)", "2025-09-29T10:00:00+08:00", industry_codes=["5211"])
    result = run(ruleset, raw)
    (permit,) = result.permits
    assert permit.code == "FIRE_SAFETY"
    assert [(h.kind, h.rule, h.industry_code) for h in permit.hits] == [("industry_code", "5211", "5211")]
    assert [(h.permit, h.rule) for h in result.negated] == [("HAZARDOUS_CHEMICALS", "危险化学品经营")]


def test_scope_changed_is_explained_too(ruleset: RuleSet) -> None:
    raw = {
        "specversion": "1.0",
        "id": "chg-1",
        "source": "/laoshan/registration",
        "type": "scope.changed",
        "data": {
            "uscc": "91370212MA3QK7T84W",
            "business_scope": "住宿服务",
            "changed_at": "2025-09-29T10:00:00+08:00",
        },
    }
    result = run(ruleset, raw)
    assert [n.department.code for n in result.notices] == ["WJJ", "GAFJ"]
    assert any("depends on the database" in w for w in result.warnings)


@pytest.mark.parametrize(
    ("mutate", "message"),
    [
        (lambda e: e.update(type="notice.claimed"), "explain reads license.issued and scope.changed"),
        (lambda e: e.pop("specversion"), "event.specversion: Field required"),
        (lambda e: e["data"].pop("issued_at"), "data.issued_at: Field required"),
        (
            lambda e: e["data"].update(issued_at="2025-09-29T10:00:00"),
            "data.issued_at: Input should have timezone",
        ),
        (lambda e: e["data"].update(uscc="9137021"), "data.uscc: Value error, a USCC has 18 characters"),
    ],
)
def test_bad_events_are_refused_naming_the_field(mutate: Any, message: str) -> None:
    raw = event(PHARMACY_SCOPE, "2025-09-29T10:00:00+08:00")
    mutate(raw)
    with pytest.raises(BadInput, match=message.replace("(", r"\(")):
        read_event(raw)


def test_failed_check_character_is_a_warning(ruleset: RuleSet) -> None:
    result = run(ruleset, event("药品零售", "2025-09-29T10:00:00+08:00", uscc="91370212MA3QK7T84X"))
    assert result.warnings == ("USCC 91370212MA3QK7T84X fails its check character (expected W, found X)",)


def test_cli_explains_a_file_or_stdin_as_text_or_json(tmp_path: Path) -> None:
    path = tmp_path / "hotel.json"
    path.write_text(json.dumps(event(HOTEL_SCOPE, "2026-02-12T09:30:00+08:00"), ensure_ascii=False), "utf-8")
    runner = CliRunner()
    text = runner.invoke(CLI, ["rules", "explain", str(path), "--dir", str(DEFAULT_DIRECTORY)])
    assert text.exit_code == 0, text.output
    assert "outcome: notified: 2 notices to 2 departments" in text.output
    at = ["--at", "2026-02-12T09:30:00+08:00"]  # pushed when the event arrives, here at its own time
    data = runner.invoke(CLI, ["rules", "explain", "-", "--json", *at], input=path.read_text("utf-8"))
    assert data.exit_code == 0, data.output
    parsed = json.loads(data.output)
    assert parsed["status"] == "matched"
    assert parsed["notices"][1]["timers"][2]["local"] == "2026-02-25T00:00:00+08:00"
    assert parsed["notices"][1]["department"] == {
        "code": "GAFJ",
        "name": "青岛市公安局崂山分局",
        "short_name": "公安崂山分局",
    }


def test_cli_counts_from_now_as_the_engine_counts_from_the_push_not_from_the_events_time(
    tmp_path: Path,
) -> None:
    path = tmp_path / "hotel.json"
    path.write_text(json.dumps(event(HOTEL_SCOPE, "2026-02-12T09:30:00+08:00"), ensure_ascii=False), "utf-8")
    clock = SystemClock()
    before = clock.now()
    data = CliRunner().invoke(CLI, ["rules", "explain", str(path), "--json"])
    assert data.exit_code == 0, data.output
    counted = datetime.fromisoformat(json.loads(data.output)["counted_from"])
    assert before - timedelta(seconds=1) <= counted <= clock.now() + timedelta(seconds=1)


def test_cli_refuses_bad_json_and_bad_events(tmp_path: Path) -> None:
    runner = CliRunner()
    broken = runner.invoke(CLI, ["rules", "explain", "-"], input='{"type": ')
    assert broken.exit_code == 1
    assert "-:1:10: not JSON" in broken.output
    wrong = runner.invoke(CLI, ["rules", "explain", "-"], input=json.dumps({"specversion": "1.0"}))
    assert wrong.exit_code == 1
    assert "event.id: Field required" in wrong.output


@pytest.mark.parametrize(
    "scope", [PHARMACY_SCOPE, HOTEL_SCOPE, "食品销售;医疗器械经营", "软件开发", "住宿服务;第三类医疗器械经营"]
)
def test_explain_shows_the_notices_the_engine_plans(ruleset: RuleSet, scope: str) -> None:
    from workflows.flows.dual_notification.events import LicenseIssued
    from workflows.flows.dual_notification.planning import plan_license

    raw = event(scope, "2025-09-29T10:00:00+08:00")
    plan = plan_license(ruleset, LicenseIssued.model_validate(raw["data"]))
    result = run(ruleset, raw)
    assert [n.business_key for n in result.notices] == [n.business_key for n in plan.notices]
    status = {"matched": "matched", "no_match": "no_match", "routing_failed": "ambiguous"}[plan.status]
    assert result.status == status


def test_explain_prints_the_days_each_deadline_counted_and_skipped(ruleset: RuleSet) -> None:
    result = run(ruleset, event(HOTEL_SCOPE, "2026-02-12T09:30:00+08:00"))
    text = format_explanation(result)
    trace = text[text.index("4. the deadlines day by day") :]
    assert (
        "   claim_supervision: 48h + 1 working day from 2026-02-12 09:30 Thu → due 2026-02-25 00:00 Wed"
        in trace
    )
    assert "       2026-02-14 Sat  start day, not counted: make-up workday (调休上班)" in trace
    assert "       2026-02-15 Sun – 2026-02-23 Mon  skipped: holiday 春节" in trace
    assert "       2026-02-24 Tue  counted (1): working day" in trace
    supervision = result.as_json()["notices"][0]["timers"][2]["trace"]
    assert supervision["due_at"] == "2026-02-24T16:00:00+00:00"
    counted = [(d["day"], d["kind"], d["counted"]) for d in supervision["periods"][1]["days"]]
    assert counted[0] == ("2026-02-14", "make-up workday", False)
    assert counted[-1] == ("2026-02-24", "working day", True)
    json.dumps(result.as_json())  # all of it is JSON


def test_explain_counts_on_the_rules_calendar(ruleset: RuleSet) -> None:
    """explain uses the engine's calendar (the rules' calendar.yaml), not a package of its own: a
    year entered in the rules changes what explain shows."""
    entered = WorkCalendar.from_rules(ruleset.calendar)
    facts = read_event(event("药品零售", "2027-09-30T10:00:00+08:00"))
    assert explain(ruleset, facts, entered, facts.at).notices[0].timers[2].provisional
    year = CalendarYear(
        reference="test", holidays=[Holiday(name="国庆节", first=date(2027, 10, 1), last=date(2027, 10, 7))]
    )
    announced = WorkCalendar(announced={2027: year})
    supervision = explain(ruleset, facts, announced, facts.at).notices[0].timers[2]
    assert (supervision.local, supervision.day, supervision.provisional) == (
        local("2027-10-09T00:00"),
        "end of Fri 2027-10-08",
        False,
    )
