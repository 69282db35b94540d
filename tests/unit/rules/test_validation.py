"""Schema and cross-file checks beyond the corpus: messages, positions, and no cascades."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from rules import RulesInvalid, format_report, lint, load_rules, read_rules

Edit = Callable[[str, str, str], Path]


def lines(directory: Path) -> list[str]:
    return format_report(lint(directory), with_directory=False, summary=False).splitlines()


@pytest.mark.parametrize(
    ("file", "old", "new", "expected"),
    [
        (
            "escalation.yaml", "target: {leader_of: $assignee}", "target: {role: leader}",
            "escalation.yaml:27:9: error: ladders[0].steps[1].target: a target is one of "
            "{role: ROLE, unit: UNIT}, {leader_of: UNIT} or {level: above}",
        ),
        (
            "escalation.yaml", "target: {leader_of: $street}", "target: {leader_of: ZH-001}",
            "escalation.yaml:61:18: error: ladders[2].steps[1].target.leader_of: grid 'ZH-001' has no leader; "
            "name its street",
        ),
        (
            "escalation.yaml", "target: {role: supervisor, unit: PTB}", "target: {role: grid_worker, unit: PTB}",
            "escalation.yaml:32:18: error: ladders[0].steps[2].target.role: role 'grid_worker' is not a "
            "department role (it is for: grid)",
        ),
        (
            "escalation.yaml", "target: {role: supervisor, unit: PTB}", "target: {role: supervisor, unit: $boss}",
            "escalation.yaml:32:36: error: ladders[0].steps[2].target.unit: unknown placeholder '$boss': "
            "use one of $assignee, $department, $street, $grid",
        ),
        (
            "escalation.yaml", "target: {role: supervisor, unit: PTB}", "target: {role: supervisor, unit: PTX}",
            "escalation.yaml:32:36: error: ladders[0].steps[2].target.unit: unknown unit 'PTX': name a "
            "department, street or grid of organisation.yaml, or $assignee",
        ),
        (
            "escalation.yaml", "kind: warn", "kind: warning",
            "escalation.yaml:21:9: error: ladders[0].steps[0].kind: 'warning' is not allowed here: "
            "use 'warn', 'overdue' or 'supervise'",
        ),
        (
            "escalation.yaml", "state: awaiting_claim", "state: pushed",
            "escalation.yaml:16:5: error: ladders[0].state: ladder 'dual_notification_claim' runs in "
            "dual_notification/pushed, which has no timers in deadlines.yaml",
        ),
        (
            "escalation.yaml", "next: {step: overdue, at: claim_deadline}", "next: {step: overdu, at: claim_deadline}",
            "escalation.yaml:23:16: error: ladders[0].steps[0].next.step: ladder 'dual_notification_claim' "
            "has no step 'overdu'",
        ),
        (
            "deadlines.yaml", "review_deadline: 2h", "review_deadline: 2",
            "deadlines.yaml:46:7: error: flows.toy.awaiting_review.review_deadline: deadline 2 is not a "
            "duration: write 48h or 2 working days",
        ),
        (
            "deadlines.yaml", "review_deadline: 2h", "Review-Deadline: 2h",
            "deadlines.yaml:46:7: error: flows.toy.awaiting_review.Review-Deadline: 'Review-Deadline' is not "
            "a valid name: use lower-case letters, digits and _",
        ),
        (
            "sampling.yaml", "window: 12 months", "window: 1年",
            "sampling.yaml:31:3: error: exclusion.window: window '1年' is not a period: write 12 months or "
            "365 natural days",
        ),
        (
            "sampling.yaml", "  use_conflict_list: true\n", "  use_conflict_list: yes please\n",
            "sampling.yaml:26:3: error: recusal.use_conflict_list: expected true or false, got 'yes please'",
        ),
        (
            "organisation.yaml", '  code: "370212"', "  code: 370212",
            "organisation.yaml:8:3: error: district.code: code 370212 must be text; put codes made of digits "
            "in quotes",
        ),
        (
            "organisation.yaml", "    street: BEIZHAI\n", "    street: BEIZAI\n",
            "organisation.yaml:147:5: error: grids[4].street: unknown street 'BEIZAI'",
        ),
        (
            "organisation.yaml", "  - code: WJJ\n", "  - code: GAFJ\n",
            "organisation.yaml:59:5: error: departments[5].code: code 'GAFJ' is already used at line 55; "
            "codes must be unique",
        ),
        (
            "permit_routing.yaml", "{code: GAS, name: 燃气经营许可}", "{code: GAS, name: 排污许可}",
            "permit_routing.yaml:122:14: error: routes[21].permit.code: contradicting routing: permit '排污许可' "
            "is 'POLLUTANT_DISCHARGE' here but 'GAS' at line 99",
        ),
        (
            "permit_routing.yaml", "  - keywords: [燃气经营]\n", "  - keywords: []\n",
            "permit_routing.yaml:99:5: error: routes[17]: a route needs at least one keyword or industry code",
        ),
        (
            "sampling.yaml", "no_problem_results: [no_problem, no_activity]", "no_problem_results: [no_problem, fine]",
            "sampling.yaml:33:36: error: exclusion.no_problem_results[1]: no_problem_results names 'fine', "
            "which is not among the results",
        ),
        (
            "sampling.yaml", "{code: revoked, name: 吊销}", "{code: closed, name: 吊销}",
            "sampling.yaml:48:6: error: results[10].code: result 'closed' is defined twice (also at line 46)",
        ),
    ],
)  # fmt: skip
def test_message_and_place(edit: Edit, file: str, old: str, new: str, expected: str) -> None:
    assert expected in lines(edit(file, old, new))


def test_a_broken_entry_does_not_cascade(edit: Edit) -> None:
    """Department WJJ loses its code: the routes naming WJJ are not reported as unknown too."""
    directory = edit("organisation.yaml", "  - code: WJJ\n", "  - cod: WJJ\n")
    assert lines(directory) == [
        "organisation.yaml:55:5: error: departments[4]: missing required key 'code'",
        "organisation.yaml:55:5: error: departments[4].cod: unknown key 'cod': did you mean 'code'? "
        "allowed keys are code, leader_role, level, name, parent, short_name",
    ]


def test_a_bad_deadline_does_not_make_its_ladder_unknown(edit: Edit) -> None:
    directory = edit("deadlines.yaml", "claim_warning: 36h", "claim_warning: 36 hrs")
    assert len(lint(directory).problems) == 1


def test_parent_loops(edit: Edit) -> None:
    old = "    short_name: 区市场监管局        #"
    directory = edit("organisation.yaml", old, "    parent: SCJG_SP\n    short_name: x #")
    assert lines(directory)[0] == (
        "organisation.yaml:37:5: error: departments[0].parent: department 'SCJG' is its own parent: "
        "SCJG → SCJG_SP → SCJG"
    )


def test_extra_yaml_files_are_warned_about(rules_copy: Path) -> None:
    (rules_copy / "notes.yaml").write_text("a: 1\n", encoding="utf-8")
    assert lines(rules_copy) == [
        "notes.yaml:1:1: warning: notes.yaml is not a rule file and is ignored: rule files are "
        "organisation.yaml, permit_routing.yaml, deadlines.yaml, escalation.yaml, sampling.yaml, calendar.yaml"
    ]


def test_empty_and_non_mapping_and_non_utf8_files(rules_copy: Path) -> None:
    (rules_copy / "sampling.yaml").write_text("", encoding="utf-8")
    (rules_copy / "deadlines.yaml").write_text("- a\n- b\n", encoding="utf-8")
    (rules_copy / "escalation.yaml").write_bytes(b"ladders: \xff\xfe\n")
    assert lines(rules_copy) == [
        "deadlines.yaml:1:1: error: expected keys and values (a mapping), got ['a', 'b']",
        "escalation.yaml:1:1: error: the file is not UTF-8 text (invalid start byte)",
        "sampling.yaml:1:1: error: the file is empty",
    ]


def test_a_missing_directory(tmp_path: Path) -> None:
    report = lint(tmp_path / "nowhere")
    assert not report.ok
    assert report.errors[0].message == f"rules directory {tmp_path / 'nowhere'} does not exist"


def test_load_never_returns_a_half_loaded_set(edit: Edit) -> None:
    directory = edit("sampling.yaml", "ratio: 3%", "ratio: 3")
    loaded = read_rules(directory)
    assert loaded.ruleset is None
    with pytest.raises(RulesInvalid) as caught:
        load_rules(directory)
    message = str(caught.value)
    assert message.startswith(f"rules in {directory} are invalid (1 error, 0 warnings):\n")
    assert f"{directory / 'sampling.yaml'}:9:5: error: risk_classes[0].ratio:" in message


def test_report_is_sorted_and_counts(edit: Edit) -> None:
    edit("sampling.yaml", "ratio: 3%", "ratio: 3")
    directory = edit("deadlines.yaml", "review_deadline: 2h", "review_deadline: soon")
    report = lint(directory)
    assert [p.file for p in report.problems] == ["deadlines.yaml", "sampling.yaml"]
    assert report.summary() == "2 errors, 0 warnings"
    assert not report.ok
