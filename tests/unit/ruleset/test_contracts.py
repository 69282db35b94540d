"""The contract between the rule files and the flows the engine runs (``workflows.ruleset.contracts``)
and ``yunshang rules lint``, which reports it with the linter's own problems."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from typer.testing import CliRunner

from rules import DEFAULT_DIRECTORY, Problem, lint
from worker import PLUGINS, compose
from workflows.cli.app import build_app
from workflows.plugins import Registry
from workflows.ruleset.contracts import check_contract, snapshot, with_contract

FLOWS = Registry(PLUGINS).flows
Edit = Callable[[str, str, str], Path]
CLAIM_DEADLINE = (
    "      claim_deadline: 48h                # 认领期限: overdue (red), pushed to the department's leader\n"
)
MISSING = (
    "deadlines.yaml:12:5: error: flows.dual_notification.awaiting_claim.claim_deadline: no deadline for "
    "dual_notification.awaiting_claim.claim_deadline: the flow arms timer 'claim_deadline' (deadline) in "
    "state 'awaiting_claim', so every case entering it would be dead-lettered (MissingDeadline); add "
    "`claim_deadline: <duration>` under flows.dual_notification.awaiting_claim"
)


def contract(directory: Path) -> list[str]:
    return [p.format() for p in check_contract(snapshot(directory), FLOWS)]


def errors(directory: Path) -> list[str]:
    return [p.format() for p in check_contract(snapshot(directory), FLOWS) if p.severity == "error"]


def test_the_shipped_rules_keep_the_contract_with_every_flow_built() -> None:
    assert list(check_contract(snapshot(DEFAULT_DIRECTORY), FLOWS)) == []
    # without the joint inspection plug-in, its sections are warnings only
    others = Registry([p for p in PLUGINS if p.name != "joint_inspection"]).flows
    problems = check_contract(snapshot(DEFAULT_DIRECTORY), others)
    assert {p.severity for p in problems} == {"warning"}
    assert sorted((p.file, p.path) for p in problems) == [
        ("deadlines.yaml", "flows.inspection_follow_up"),
        ("deadlines.yaml", "flows.joint_inspection"),
        ("escalation.yaml", "ladders[5].flow"),
        ("escalation.yaml", "ladders[6].flow"),
        ("escalation.yaml", "ladders[8].flow"),
    ]
    assert all(
        "not run by this engine" in p.message or "which this engine does not run" in p.message
        for p in problems
    )


def test_a_deleted_claim_deadline_is_an_error_naming_flow_state_and_timer(edit: Edit) -> None:
    directory = edit("deadlines.yaml", CLAIM_DEADLINE, "")
    assert errors(directory) == [MISSING]
    # the linter alone says something else (about the ladder): only the contract names the timer
    linted = [p.format() for p in lint(directory).errors]
    assert MISSING not in linted and any("ladders[0].steps[0].next.at" in p for p in linted)


def test_a_ladder_on_a_state_the_flow_lacks_is_an_error(edit: Edit) -> None:
    directory = edit("escalation.yaml", "    state: awaiting_claim\n", "    state: awaiting_claims\n")
    assert errors(directory) == [
        "escalation.yaml:16:5: error: ladders[0].state: ladder 'dual_notification_claim' runs in state "
        "'awaiting_claims', which flow 'dual_notification' does not have; its states with timers: "
        "awaiting_claim"
    ]


def test_a_ladder_waiting_for_a_timer_the_state_does_not_arm_is_an_error(edit: Edit) -> None:
    edit("deadlines.yaml", "      claim_warning: 36h", "      claim_reminder: 12h\n      claim_warning: 36h")
    directory = edit(
        "escalation.yaml", "start: {step: warn, at: claim_warning}", "start: {step: warn, at: claim_reminder}"
    )
    assert errors(directory) == [
        "escalation.yaml:17:25: error: ladders[0].start.at: ladder 'dual_notification_claim' waits for timer "
        "'claim_reminder', which flow 'dual_notification' does not arm in state 'awaiting_claim' (it arms "
        "claim_deadline, claim_supervision, claim_warning)"
    ]
    unused = [p for p in contract(directory) if "claim_reminder" in p and "warning:" in p]
    assert unused == [
        "deadlines.yaml:13:7: warning: flows.dual_notification.awaiting_claim.claim_reminder: flow "
        "'dual_notification' arms no timer 'claim_reminder' in state 'awaiting_claim' (it arms "
        "claim_deadline, claim_supervision, claim_warning): this deadline is never used"
    ]


def test_deadlines_for_a_state_the_running_flow_lacks_are_a_warning(edit: Edit) -> None:
    directory = edit("deadlines.yaml", "  toy:", "  toy:\n    reviewing:\n      review_deadline: 1h")
    assert errors(directory) == []
    [found] = [p for p in check_contract(snapshot(directory), FLOWS) if "reviewing" in p.path]
    assert found == Problem(
        "deadlines.yaml",
        45,
        5,
        "warning",
        "flows.toy.reviewing",
        "flow 'toy' has no state 'reviewing'; its states with timers: awaiting_review",
    )


def test_a_report_merges_the_contract_in_file_and_line_order(edit: Edit) -> None:
    directory = edit("deadlines.yaml", CLAIM_DEADLINE, "")
    report = with_contract(lint(directory), snapshot(directory), FLOWS)
    assert report.problems == tuple(sorted(report.problems))
    assert (len(report.errors), len(report.warnings)) == (2, 0)


def test_rules_lint_reports_the_contract_and_fails_on_its_errors(edit: Edit) -> None:
    runner = CliRunner()
    app = build_app(compose, PLUGINS)
    good = runner.invoke(app, ["rules", "lint", str(DEFAULT_DIRECTORY)])
    assert good.exit_code == 0, good.output
    assert good.output.splitlines()[-1] == "0 errors, 0 warnings"

    directory = edit("deadlines.yaml", CLAIM_DEADLINE, "")
    broken = runner.invoke(app, ["rules", "lint", str(directory)])
    assert broken.exit_code == 1
    assert f"{directory}/{MISSING}" in broken.output.splitlines()
    assert broken.output.splitlines()[-1] == "2 errors, 0 warnings"


def test_the_grid_checks_rule_sections_are_checked_against_its_flow(edit: Edit) -> None:
    edit("deadlines.yaml", "      first_check_deadline: 5 working days\n", "")
    directory = edit("escalation.yaml", "    state: rectifying\n", "    state: rectification\n")
    found = errors(directory)
    assert any(
        p.startswith("deadlines.yaml:")
        and "no deadline for grid_check.acknowledged.first_check_deadline" in p
        and "add `first_check_deadline: <duration>` under flows.grid_check.acknowledged" in p
        for p in found
    ), found
    assert any(
        "ladder 'grid_check_recheck' runs in state 'rectification', which flow 'grid_check' does not have"
        in p
        for p in found
    ), found


def test_a_return_limit_below_one_is_an_error_at_its_line(edit: Edit) -> None:
    directory = edit("escalation.yaml", "    limit: 2\n", "    limit: 0\n")
    problems = [p.format() for p in lint(directory).errors]
    assert len(problems) == 1 and problems[0].startswith("escalation.yaml:"), problems
    assert "returns.grid_check.limit" in problems[0]


def test_a_misspelled_timer_key_is_reported_where_it_is_and_where_it_is_missed(edit: Edit) -> None:
    directory = edit("deadlines.yaml", "      claim_warning: 36h", "      claim_warnin: 36h")
    report = with_contract(lint(directory), snapshot(directory), FLOWS)
    lines = [p.format() for p in report.problems]
    # the flow arms claim_warning and no deadline is given for it (an error), the misspelled key is
    # never used (a warning at its own line), and the ladder waits for a timer the file lacks
    assert any(
        p.startswith("deadlines.yaml:")
        and "no deadline for dual_notification.awaiting_claim.claim_warning" in p
        for p in lines
    ), lines
    assert any(p.startswith("deadlines.yaml:13:7: warning:") and "claim_warnin" in p for p in lines), lines
    assert any(p.startswith("escalation.yaml:") and "unknown timer 'claim_warning'" in p for p in lines), (
        lines
    )
