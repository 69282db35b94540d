"""calendar.yaml is a rule file like the others: an edited calendar is stored, hot-reloaded and counted
on by the engine; a malformed one is rejected whole, with file:line, and the previous calendar stays."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from tests.integration.ruleset.conftest import MakeRuntime, copy_rules, set_toy_deadline
from tests.support import Stack
from workflows.engine.commands import Cause
from workflows.ruleset.adapter import RulesWatcher
from workflows.ruleset.versions import RuleVersions
from workflows.runtime import Runtime
from workflows.time.calendar import SHANGHAI

#: a made-up 2027 schedule as a rule author would enter it (the real one is not announced yet)
YEAR_2027 = """  2027:
    reference: 国务院办公厅关于2027年部分节假日安排的通知（测试）
    holidays:
      - {name: 春节, first: 2027-02-05, last: 2027-02-12}
    workdays: [2027-02-20]
"""


def review_timer(stack: Stack, runtime: Runtime, key: str) -> tuple[datetime, bool]:
    with runtime.transaction() as session:
        started = runtime.engine.start(
            session, "toy", key, subject=None, context={}, cause=Cause(kind="system")
        )
    (timer,) = stack.timers(started.instance_id)
    return timer.due_at, timer.provisional


def end_of(month: int, day: int) -> datetime:
    """The end of that day of 2027 in Shanghai, as the engine stores it (UTC)."""
    return datetime(2027, month, day + 1, tzinfo=SHANGHAI).astimezone(UTC)


def reload(watcher: RulesWatcher) -> str:
    """The scheduler's job, polled until the edited folder has held still and been reloaded."""
    result = watcher.poll() or watcher.poll()
    assert result is not None
    return result.outcome


def test_an_entered_year_is_reloaded_and_a_malformed_calendar_changes_nothing(
    stack: Stack, tmp_path: Path, runtimes: MakeRuntime
) -> None:
    rules_dir = set_toy_deadline(copy_rules(tmp_path / "rules"), "5 working days")
    runtime = runtimes(rules_dir)  # stores and activates the folder
    assert runtime.follower is not None
    watcher = RulesWatcher(runtime.follower, rules_dir)
    assert watcher.poll() is None and watcher.poll() is not None  # the folder as stored: unchanged
    runtime.clock.advance(datetime(2027, 2, 1, 10, tzinfo=SHANGHAI) - runtime.clock.now())

    # 2027 is not announced: weekends and the statutory days (除夕 Feb 5 to 初三 Feb 8) → end of Feb 10
    assert review_timer(stack, runtime, "unannounced") == (end_of(2, 10), True)

    calendar = rules_dir / "calendar.yaml"
    calendar.write_text(calendar.read_text(encoding="utf-8") + YEAR_2027, encoding="utf-8")
    assert reload(watcher) == "activated"
    announced = runtime.engine.calendar
    assert announced.year(2027).source.startswith("calendar.yaml, 国务院办公厅关于2027年")
    # Feb 2, 3, 4, then Feb 5–12 off: Mon Feb 15, Tue Feb 16
    assert review_timer(stack, runtime, "announced") == (end_of(2, 16), False)

    calendar.write_text(
        calendar.read_text(encoding="utf-8").replace("workdays: [2027-02-20]", "workdays: [2027-02-22]"),
        encoding="utf-8",
    )
    assert reload(watcher) == "rejected"
    assert watcher.last is not None
    assert [p.format() for p in watcher.last.report.errors] == [
        f"calendar.yaml:{len(calendar.read_text(encoding='utf-8').splitlines())}:16: error: "
        "years[2027].workdays[0]: make-up workday 2027-02-22 is a Monday: a make-up workday (调休上班) must "
        "fall on a Saturday or Sunday"
    ]
    assert runtime.engine.calendar is announced  # the previous calendar stays in force
    assert review_timer(stack, runtime, "after-rejection") == (end_of(2, 16), False)
    versions = RuleVersions(stack.runtime.db, stack.runtime.clock, stack.runtime.registry.flows)
    rejected = [v for v in versions.all() if v.status == "rejected"]
    assert len(rejected) == 1 and "calendar.yaml" in rejected[0].rule_files

    # a process started now runs on the active version, 2027 calendar included
    late = runtimes(copy_rules(tmp_path / "elsewhere"))
    assert not late.engine.calendar.year(2027).provisional


def test_a_version_stored_before_calendar_yaml_runs_on_the_built_in_tables_until_the_folder_has_one(
    stack: Stack, tmp_path: Path, runtimes: MakeRuntime
) -> None:
    rules_dir = copy_rules(tmp_path / "rules")
    shipped = (rules_dir / "calendar.yaml").read_bytes()
    (rules_dir / "calendar.yaml").unlink()
    runtime = runtimes(rules_dir)  # the active version has the five files of before
    versions = RuleVersions(stack.runtime.db, stack.runtime.clock, stack.runtime.registry.flows)
    active = versions.active()
    assert active is not None and "calendar.yaml" not in active.rule_files
    assert runtime.engine.calendar.year(2026).source.startswith("chinese-calendar ")

    (rules_dir / "calendar.yaml").write_bytes(shipped)  # the upgrade brings the file
    assert runtime.follower is not None
    assert reload(RulesWatcher(runtime.follower, rules_dir)) == "activated"
    active = versions.active()
    assert active is not None and "calendar.yaml" in active.rule_files
    assert runtime.engine.calendar.year(2026).source == "calendar.yaml, 国办发明电〔2025〕7号"


OFFICE_LINE = 'office_hours: ["08:30-12:00", "13:30-17:30"]'


def test_office_hours_are_reloaded_and_malformed_ones_change_nothing(
    stack: Stack, tmp_path: Path, runtimes: MakeRuntime
) -> None:
    rules_dir = set_toy_deadline(copy_rules(tmp_path / "rules"), "4 working hours")
    runtime = runtimes(rules_dir)
    assert runtime.follower is not None
    watcher = RulesWatcher(runtime.follower, rules_dir)
    assert watcher.poll() is None and watcher.poll() is not None
    # a Friday evening (2027 is not announced: provisional); working hours count from Monday's opening
    runtime.clock.advance(datetime(2027, 3, 5, 19, tzinfo=SHANGHAI) - runtime.clock.now())

    def monday(hour: int) -> tuple[datetime, bool]:
        return datetime(2027, 3, 8, hour, tzinfo=SHANGHAI).astimezone(UTC), True

    assert review_timer(stack, runtime, "shipped") == monday(14)  # 08:30–12:00, 13:30–14:00

    calendar = rules_dir / "calendar.yaml"
    text = calendar.read_text(encoding="utf-8")
    calendar.write_text(text.replace(OFFICE_LINE, 'office_hours: ["09:00-12:00", "14:00-18:00"]'), "utf-8")
    assert reload(watcher) == "activated"
    edited = runtime.engine.calendar
    assert str(edited.office_hours) == "09:00–12:00, 14:00–18:00"
    assert review_timer(stack, runtime, "edited") == monday(15)  # 09:00–12:00, 14:00–15:00

    calendar.write_text(text.replace(OFFICE_LINE, 'office_hours: ["09:00-12:00", "11:00-18:00"]'), "utf-8")
    assert reload(watcher) == "rejected"
    assert watcher.last is not None
    line = text.splitlines().index(OFFICE_LINE) + 1
    assert [p.format() for p in watcher.last.report.errors] == [
        f"calendar.yaml:{line}:31: error: office_hours[1]: office hours 11:00-18:00 overlap 09:00-12:00 "
        f"(line {line}): list the ranges in the order of the day, apart from each other"
    ]
    assert runtime.engine.calendar is edited  # the previous calendar stays in force
    assert review_timer(stack, runtime, "after-rejection") == monday(15)
