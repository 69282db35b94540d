"""The corpus of broken rule sets: each gives exactly these problems, at exactly these places.

Each case under ``broken/<case>/`` holds changed files laid over a copy of the shipped defaults
(``remove.txt`` lists files to delete). Lines are ``file:line:column: severity: path: message``.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from rules import RulesInvalid, format_report, lint, load_rules
from tests.unit.rules.conftest import BROKEN, layered

EXPECTED: dict[str, list[str]] = {
    "unknown_key": [
        "sampling.yaml:27:3: error: recusal.previous_round: unknown key 'previous_round': "
        "did you mean 'previous_rounds'? allowed keys are previous_rounds, use_conflict_list",
    ],
    "duplicate_key": [
        "sampling.yaml:22:1: error: min_officers_per_department: duplicate key 'min_officers_per_department' "
        "(first at line 21): remove or rename one",
    ],
    "bad_duration": [
        "deadlines.yaml:14:7: error: flows.dual_notification.awaiting_claim.claim_deadline: "
        "deadline '48小时' is not a duration: write 48h or 2 working days",
    ],
    "unknown_department": [
        "organisation.yaml:49:5: warning: departments[3]: nobody escalates to department 'SJ_SCJG' "
        "(市市场监管局): no ladder step or escalation level names it, and it holds no case in permit_routing.yaml",
        "permit_routing.yaml:29:5: error: routes[3].approving: unknown department 'SJ_SCGJ'",
    ],
    "unknown_role": [
        "escalation.yaml:22:18: error: ladders[0].steps[0].target.role: unknown role 'notice_handlr': "
        "define it under roles in organisation.yaml",
    ],
    "unknown_timer": [
        "escalation.yaml:23:31: error: ladders[0].steps[0].next.at: unknown timer 'claim_dedline': "
        "deadlines.yaml has for dual_notification/awaiting_claim: claim_deadline, claim_supervision, claim_warning",
    ],
    "unknown_permit_item": [
        "permit_routing.yaml:130:18: error: review_keywords[0].candidates[0]: unknown permit item "
        "'MEDICAL_DEVICE_3': it must be the permit code of a route",
    ],
    "ladder_cycle": [
        "escalation.yaml:33:16: error: ladders[0].steps[2].next.step: ladder 'dual_notification_claim' has a "
        "cycle: warn → overdue → supervise → warn; it must end with a step marked end: true",
    ],
    "ladder_without_end": [
        "escalation.yaml:29:9: error: ladders[0].steps[2]: ladder 'dual_notification_claim' has no end: "
        "step 'supervise' has no next step; write end: true on the last step",
    ],
    "contradicting_routing": [
        "permit_routing.yaml:27:16: warning: routes[3].keywords[0]: keyword '药品零售' already routes to "
        "'DRUG_RETAIL' at line 22",
        "permit_routing.yaml:29:5: error: routes[3].approving: contradicting routing: permit item "
        "'DRUG_RETAIL' is approved by WJJ here but by SCJG_YP at line 22",
    ],
    "review_contradiction": [
        "permit_routing.yaml:131:5: error: review_keywords[1].keyword: contradicting routing: keyword "
        "'食品销售' needs manual review here but routes straight to 'FOOD_BUSINESS' at line 12",
    ],
    "yaml_syntax": [
        "sampling.yaml:32:27: error: YAML syntax error: expected ',' or ']', but got ':' "
        "(while parsing a flow sequence that starts at line 31, column 11)",
    ],
    "wrong_types": [
        "sampling.yaml:15:5: error: risk_classes[2].ratio: ratio 0.2 is not a percentage: write it like 5% or 2.5%",
    ],
    "missing_file": ["sampling.yaml:1:1: error: missing required file sampling.yaml"],
    "calendar_makeup_on_weekday": [
        "calendar.yaml:8:28: error: years[2027].workdays[1]: make-up workday 2027-02-22 is a Monday: a make-up "
        "workday (调休上班) must fall on a Saturday or Sunday",
    ],
    "calendar_day_off_worked": [
        "calendar.yaml:10:9: error: years[2027].workdays[1]: 2027-02-06 is both a make-up workday and a day off "
        "of 春节 (line 7): remove one",
    ],
    "calendar_outside_year": [
        "calendar.yaml:8:39: error: years[2027].holidays[2].last: 2028-01-02 is not in 2027: list it under 2028",
        "calendar.yaml:9:16: error: years[2027].workdays[0]: 2026-12-27 is not in 2027: list it under 2026",
    ],
    "calendar_duplicate_day": [
        "calendar.yaml:8:9: error: years[2027].holidays[2]: 2027-02-12 is already a day off of 春节 (line 7): "
        "list each day once",
        "calendar.yaml:9:28: error: years[2027].workdays[1]: make-up workday 2027-02-20 is listed twice "
        "(also workdays[0], line 9)",
    ],
    "calendar_unknown_key": [
        "calendar.yaml:8:5: error: years[2027].workday: unknown key 'workday': did you mean 'workdays'? "
        "allowed keys are holidays, reference, url, workdays",
        "calendar.yaml:9:5: error: years[2027].holidays_note: unknown key 'holidays_note': did you mean "
        "'holidays'? allowed keys are holidays, reference, url, workdays",
    ],
    "calendar_bad_dates": [
        "calendar.yaml:8:21: error: years[2027].holidays[2].first: expected a date written like 2027-02-05, "
        "got '2027-4-5'",
        "calendar.yaml:8:38: error: years[2027].holidays[2].last: '2027-04-31' is not a date: day is out of "
        "range for month",
        "calendar.yaml:9:16: error: years[2027].workdays[0]: 2027-02-20 09:00:00 is a time: write the day "
        "alone, like 2027-02-05",
    ],
    "unsupervised_permit": [
        "permit_routing.yaml:102:5: warning: routes[17].supervising: permit item 'GAS' (燃气经营许可) has no "
        "supervising department: add one under supervising (谁审批、谁监管)",
    ],
    "unreached_department": [
        "organisation.yaml:103:5: warning: departments[16]: nobody escalates to department 'SJJ' (区审计局): "
        "no ladder step or escalation level names it, and it holds no case in permit_routing.yaml",
    ],
    "many_problems": [
        "deadlines.yaml:26:7: error: flows.grid_check.rectifying.recheck_deadline: deadline '7天' is not a "
        "duration: write 48h or 2 working days",
        "escalation.yaml:62:16: error: ladders[2].steps[1].next.step: ladder 'grid_check_first_check' has a "
        "cycle: overdue → overdue; it must end with a step marked end: true",
        "escalation.yaml:63:9: warning: ladders[2].steps[2]: step 'department' is never reached from the start",
        "escalation.yaml:68:9: warning: ladders[2].steps[3]: step 'district' is never reached from the start",
        "organisation.yaml:58:5: error: departments[4].short_name: duplicate key 'short_name' (first at line 57): "
        "remove or rename one",
        "permit_routing.yaml:91:5: error: routes[15].approving: unknown department 'RSB'",
        "sampling.yaml:21:1: error: min_officers_per_department: min_officers_per_department is 1: inspections "
        "need at least 2 officers per department (行政处罚法 §42)",
        "sampling.yaml:22:1: error: officers_per_group: unknown key 'officers_per_group': allowed keys are "
        "exclusion, min_officers_per_department, recusal, results, risk_classes",
    ],
}


def test_every_case_directory_has_expectations() -> None:
    assert sorted(p.name for p in BROKEN.iterdir() if p.is_dir()) == sorted(EXPECTED)


@pytest.mark.parametrize("case", sorted(EXPECTED))
def test_case_reports_exactly_its_problems(case: str, tmp_path: Path) -> None:
    report = lint(layered(case, tmp_path / "rules"))
    assert format_report(report, with_directory=False, summary=False).splitlines() == EXPECTED[case]


@pytest.mark.parametrize(
    "case", sorted(c for c, lines in EXPECTED.items() if any(": error: " in x for x in lines))
)
def test_load_refuses_a_set_with_errors(case: str, tmp_path: Path) -> None:
    directory = layered(case, tmp_path / "rules")
    with pytest.raises(RulesInvalid) as caught:
        load_rules(directory)
    assert caught.value.report == lint(directory)
    assert str(directory / EXPECTED[case][-1].split(":")[0]) in str(caught.value)


@pytest.mark.parametrize("case", ["unsupervised_permit", "unreached_department"])
def test_warnings_alone_do_not_block_loading(case: str, tmp_path: Path) -> None:
    assert load_rules(layered(case, tmp_path / "rules")).permit_routing.routes


def test_one_directory_reports_every_problem_at_once(tmp_path: Path) -> None:
    report = lint(layered("many_problems", tmp_path / "rules"))
    assert len(report.errors) == 6
    assert len(report.warnings) == 2
    assert {p.file for p in report.errors} == {
        "deadlines.yaml",
        "escalation.yaml",
        "organisation.yaml",
        "permit_routing.yaml",
        "sampling.yaml",
    }
    text = format_report(report)
    assert text.splitlines()[0].startswith(str(tmp_path / "rules" / "deadlines.yaml") + ":26:7: error: ")
    assert text.endswith("6 errors, 2 warnings")
