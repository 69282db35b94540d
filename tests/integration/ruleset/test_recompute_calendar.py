"""``rules recompute`` after an edit of the calendar alone: a holiday added inside armed deadlines
moves exactly those, by one day, with an audit row each; an unaffected timer is not touched; a
suspended timer is left alone and reported; a resumed one is recounted with its ledger."""

from __future__ import annotations

import json
import shutil
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from typer.testing import CliRunner

from tests.integration.ruleset.conftest import copy_rules
from tests.integration.ruleset.test_recompute import follow
from tests.support import Stack
from workflows.cli.rules import rules_app
from workflows.engine.timer_actions import act_on_timers
from workflows.time.calendar import SHANGHAI

#: a made-up 2027 schedule (the real one is not announced yet), and the same with a day off added
YEAR_2027 = """  2027:
    reference: 国务院办公厅关于2027年部分节假日安排的通知（测试）
    holidays:
      - {name: 春节, first: 2027-02-05, last: 2027-02-12}
    workdays: [2027-02-20]
"""
DAY_OFF = "      - {name: 临时休假（测试）, first: 2027-03-03, last: 2027-03-03}\n"


def end_of(month: int, day: int) -> datetime:
    return datetime(2027, month, day + 1, tzinfo=SHANGHAI).astimezone(UTC)


def calendar_folder(target: Path, *, day_off: bool) -> Path:
    folder = copy_rules(target, toy="5 working days")
    text = YEAR_2027.replace("    workdays:", DAY_OFF + "    workdays:") if day_off else YEAR_2027
    calendar = folder / "calendar.yaml"
    calendar.write_text(calendar.read_text(encoding="utf-8") + text, encoding="utf-8")
    return folder


def test_a_holiday_added_moves_exactly_the_deadlines_over_it(
    stack: Stack, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    follower = follow(stack)
    follower.reload(calendar_folder(tmp_path / "before", day_off=False))
    clock = stack.runtime.clock
    clock.advance(datetime(2027, 3, 1, 10, tzinfo=SHANGHAI) - clock.now())  # Mon 1 Mar 2027

    def operator(iid: int, action: str) -> None:
        rt = stack.runtime
        act_on_timers(rt.db, clock, rt.engine.deadlines, iid, action, operator="ops", reason="延期")  # type: ignore[arg-type]

    over = [stack.start_toy(f"over-{i}") for i in range(2)]  # 2, 3, 4, 5, 8 Mar → end of Mon 8 Mar
    held = stack.start_toy("held")
    resumed = stack.start_toy("resumed")
    clock.advance(timedelta(hours=2))
    operator(held, "suspend")
    operator(resumed, "suspend")  # 5 working days left
    clock.advance(datetime(2027, 3, 2, 9, tzinfo=SHANGHAI) - clock.now())
    operator(resumed, "resume")  # 3, 4, 5, 8, 9 Mar → end of Tue 9 Mar
    clock.advance(datetime(2027, 3, 3, 10, tzinfo=SHANGHAI) - clock.now())
    untouched = stack.start_toy("untouched")  # from Wed 3 Mar (not counted): 4, 5, 8, 9, 10 Mar
    due = {iid: stack.timers(iid)[0].due_at for iid in (*over, resumed, untouched)}
    assert due == {
        over[0]: end_of(3, 8),
        over[1]: end_of(3, 8),
        resumed: end_of(3, 9),
        untouched: end_of(3, 10),
    }
    held_before = stack.timers(held)[0]

    edited = tmp_path / "after"
    shutil.copytree(tmp_path / "before", edited)
    after = follower.reload(calendar_folder(edited, day_off=True), note="3 Mar off")  # the calendar alone
    monkeypatch.setenv("YUNSHANG_DATABASE_URL", stack.runtime.settings.database_url)
    monkeypatch.setenv("YUNSHANG_CLOCK", "simulated")
    runner = CliRunner()
    dry = runner.invoke(rules_app, ["recompute", "--dry-run", "--json"])
    assert dry.exit_code == 0, dry.output
    plan = json.loads(dry.output)
    assert (plan["version"], plan["armed"], plan["moved"], plan["suspended"]) == (after.version, 4, 3, 1)
    (group,) = plan["timers"]
    assert (group["moved"], group["suspended"]) == (3, 1)
    assert group["min_shift_seconds"] == group["max_shift_seconds"] == 86400.0
    assert sorted(m["instance_id"] for m in plan["moves"]) == sorted([*over, resumed])
    text = runner.invoke(rules_app, ["recompute", "--dry-run"]).output
    assert "(1 suspended: kept, due again on resume)" in text and "+1d" in text
    assert {iid: stack.timers(iid)[0].due_at for iid in due} == due  # a dry run changes nothing

    applied = runner.invoke(rules_app, ["recompute", "--operator", "wang.fang"])
    assert applied.exit_code == 0, applied.output
    assert applied.output.splitlines()[-1] == "3 of 4 armed timers moved, on 3 instances"
    for iid in (*over, resumed):
        assert stack.timers(iid)[0].due_at == due[iid] + timedelta(days=1)
        audit = stack.history(iid)[-1]
        assert (audit.trigger, audit.operator) == ("rules_recompute", "wang.fang")
        assert audit.payload["timers"][0]["to"] == (due[iid] + timedelta(days=1)).isoformat()
    assert stack.timers(untouched)[0].due_at == due[untouched]
    assert stack.history(untouched)[-1].trigger == "start"
    held_after = stack.timers(held)[0]
    assert (held_after.status, held_after.remaining, held_after.ledger) == (
        "suspended",
        held_before.remaining,
        held_before.ledger,
    )
    assert stack.history(held)[-1].trigger == "timer_suspended"
    # resumed on the new calendar, the held one counts its 5 working days from then
    operator(held, "resume")  # Wed 3 Mar (off): 4, 5, 8, 9, 10 Mar
    assert stack.timers(held)[0].due_at == end_of(3, 10)
