"""Armed deadlines keep their due times when the rules change, until an operator recomputes them."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

import pytest
from typer.testing import CliRunner

from tests.integration.ruleset.conftest import copy_rules
from tests.support import Stack
from workflows.cli.rules import rules_app
from workflows.ruleset.adapter import RuleDeadlines, RulesFollower
from workflows.ruleset.recompute import apply_recompute, format_recompute, plan_recompute
from workflows.ruleset.versions import RuleVersions
from workflows.time.calendar import Duration, WorkCalendar


def follow(stack: Stack) -> RulesFollower:
    runtime = stack.runtime
    return RulesFollower(runtime.rules, RuleVersions(runtime.db, runtime.clock, runtime.registry.flows), 0.05)


def rules_now(stack: Stack) -> RuleDeadlines:
    deadlines = stack.runtime.engine.deadlines
    assert isinstance(deadlines, RuleDeadlines)
    return deadlines


def test_recompute_dry_run_then_apply(stack: Stack, tmp_path: Path) -> None:
    follower = follow(stack)
    follower.reload(copy_rules(tmp_path / "two", toy="2h"))
    ids = [stack.start_toy(f"rc-{i}") for i in range(5)]
    stack.advance(0.5)
    ids.append(stack.start_toy("rc-late"))
    stack.send(ids[0], "decide", "decide-0", {"decision": "approve"})  # leaves the state: timer cancelled
    stack.settle()
    before = {i: stack.timers(i)[0].due_at for i in ids[1:]}

    three = follower.reload(copy_rules(tmp_path / "three", toy="3h"), note="reviews get 3h")
    assert {i: stack.timers(i)[0].due_at for i in ids[1:]} == before  # armed deadlines keep their due times

    plan = plan_recompute(stack.runtime.db, WorkCalendar(), rules_now(stack))
    report = plan.as_json()
    moves = report.pop("moves")
    assert isinstance(moves, list) and sorted(m["instance_id"] for m in moves) == sorted(ids[1:])
    assert {m["shift_seconds"] for m in moves} == {3600.0}
    assert report == {
        "version": three.version,
        "dry_run": True,
        "armed": 5,
        "moved": 5,
        "applied": None,
        "instances": 5,
        "suspended": 0,
        "timers": [
            {
                "flow": "toy",
                "state": "awaiting_review",
                "timer": "review_deadline",
                "armed": 5,
                "moved": 5,
                "no_rule": 0,
                "suspended": 0,
                "min_shift_seconds": 3600.0,
                "max_shift_seconds": 3600.0,
            }
        ],
    }
    text = format_recompute(plan)
    assert (
        text.splitlines()[0]
        == f"recompute armed timers to rules version {three.version} (dry run: nothing changed)"
    )
    assert text.splitlines()[2].split() == [
        "toy",
        "/",
        "awaiting_review",
        "/",
        "review_deadline",
        "5",
        "5",
        "+1h",
        "+1h",
    ]
    assert text.splitlines()[-1] == "5 of 5 armed timers would move, on 5 instances"
    assert {i: stack.timers(i)[0].due_at for i in ids[1:]} == before  # a dry run changes nothing

    assert apply_recompute(stack.runtime.db, stack.runtime.clock, plan, "li.wei") == 5
    assert format_recompute(plan).splitlines()[-1] == "5 of 5 armed timers moved, on 5 instances"
    for instance_id in ids[1:]:
        (timer,) = stack.timers(instance_id)
        assert (
            timer.due_at == timer.created_at + timedelta(hours=3) == before[instance_id] + timedelta(hours=1)
        )
        audit = stack.history(instance_id)[-1]
        assert (audit.trigger, audit.outcome, audit.from_state, audit.to_state) == (
            "rules_recompute",
            "applied",
            "awaiting_review",
            "awaiting_review",
        )
        assert (audit.cause_kind, audit.operator, audit.reason) == (
            "operator",
            "li.wei",
            f"rules recompute to version {three.version}",
        )
        assert audit.dedupe_key == f"recompute:{three.version}:{timer.id}"
        assert audit.payload["timers"] == [
            {
                "timer_id": timer.id,
                "name": "review_deadline",
                "from": before[instance_id].isoformat(),
                "to": timer.due_at.isoformat(),
            }
        ]
    assert stack.timers(ids[0])[0].status == "cancelled"
    assert stack.history(ids[0])[-1].trigger == "decide"

    again = plan_recompute(stack.runtime.db, WorkCalendar(), rules_now(stack))
    assert (len(again.moves), again.groups[("toy", "awaiting_review", "review_deadline")].armed) == (0, 5)
    assert apply_recompute(stack.runtime.db, stack.runtime.clock, again, "li.wei") == 0


def test_recompute_to_working_days_reports_min_and_max(stack: Stack, tmp_path: Path) -> None:
    follower = follow(stack)
    follower.reload(copy_rules(tmp_path / "two", toy="2h"))
    ids = [stack.start_toy("wd-1")]
    stack.advance(30)
    ids.append(stack.start_toy("wd-2"))
    follower.reload(copy_rules(tmp_path / "wd", toy="1 working day"))
    plan = plan_recompute(stack.runtime.db, WorkCalendar(), rules_now(stack))
    calendar, one_day = WorkCalendar(), Duration.parse("1 working day")
    shifts = [calendar.add(t.created_at, one_day).due_at - t.due_at for i in ids for t in stack.timers(i)]
    group = plan.groups[("toy", "awaiting_review", "review_deadline")]
    assert (group.armed, group.moved, group.min_shift, group.max_shift) == (2, 2, min(shifts), max(shifts))


def test_a_flip_back_gets_its_own_audit_row(stack: Stack, tmp_path: Path) -> None:
    follower = follow(stack)
    two, three = copy_rules(tmp_path / "two", toy="2h"), copy_rules(tmp_path / "three", toy="3h")
    first = follower.reload(two)
    instance_id = stack.start_toy("flip")
    for directory in (three, two, three, two):
        follower.reload(directory)
        plan = plan_recompute(stack.runtime.db, WorkCalendar(), rules_now(stack))
        assert apply_recompute(stack.runtime.db, stack.runtime.clock, plan, "ops") == 1
    keys = [h.dedupe_key for h in stack.history(instance_id) if h.trigger == "rules_recompute"]
    timer_id = stack.timers(instance_id)[0].id
    assert keys[1] == f"recompute:{first.version}:{timer_id}"
    assert keys[3] == f"recompute:{first.version}:{timer_id}#2"
    assert len(set(keys)) == 4


def test_cli_recompute(stack: Stack, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    follower = follow(stack)
    follower.reload(copy_rules(tmp_path / "two", toy="2h"))
    instance_id = stack.start_toy("cli")
    three = follower.reload(copy_rules(tmp_path / "three", toy="3h"))
    monkeypatch.setenv("YUNSHANG_DATABASE_URL", stack.runtime.settings.database_url)
    monkeypatch.setenv("YUNSHANG_CLOCK", "simulated")
    runner = CliRunner()
    dry = runner.invoke(rules_app, ["recompute", "--dry-run", "--json"])
    assert dry.exit_code == 0, dry.output
    assert json.loads(dry.output)["moved"] == 1
    assert stack.history(instance_id)[-1].trigger == "start"
    applied = runner.invoke(rules_app, ["recompute", "--operator", "wang.fang"])
    assert applied.exit_code == 0, applied.output
    assert applied.output.splitlines()[-1] == "1 of 1 armed timers moved, on 1 instances"
    audit = stack.history(instance_id)[-1]
    assert (audit.operator, audit.reason) == ("wang.fang", f"rules recompute to version {three.version}")
