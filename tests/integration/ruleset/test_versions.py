"""Stored rule versions: content hash, note, activation, rejected edits, references, start-up."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from rules import content_hash
from tests.integration.ruleset.conftest import MakeRuntime, copy_rules, replace_line, set_toy_deadline
from tests.support import Stack
from worker import PLUGINS, compose
from workflows.cli.app import build_app
from workflows.engine.commands import Cause
from workflows.ruleset.adapter import RuleDeadlines
from workflows.ruleset.versions import LINT_REPORT, RuleVersionNotFound, RuleVersions, version_of

BROKEN_LINE = "      claim_deadline: 48小时                # broken on purpose"
BROKEN_REPORT = (
    "deadlines.yaml:14:7: error: flows.dual_notification.awaiting_claim.claim_deadline: "
    "deadline '48小时' is not a duration: write 48h or 2 working days"
)


def versions_of(stack: Stack) -> RuleVersions:
    return RuleVersions(stack.runtime.db, stack.runtime.clock, stack.runtime.registry.flows)


def test_a_reload_stores_the_files_hash_and_note_and_activates(stack: Stack, rules_dir: Path) -> None:
    versions = versions_of(stack)
    result = versions.reload(rules_dir, note="初始规则 / first rule set", author="li.wei")
    assert result.outcome == "activated"
    digest = content_hash(rules_dir)
    assert result.version == digest[:16] == version_of(digest)
    (stored,) = versions.all()
    assert (stored.content_hash, stored.note, stored.author, stored.status) == (
        digest,
        "初始规则 / first rule set",
        "li.wei",
        "active",
    )
    assert stored.files == {p.name: p.read_text(encoding="utf-8") for p in sorted(rules_dir.glob("*.yaml"))}
    assert stored.created_at == stored.activated_at
    assert versions.active_ref() == (stored.id, digest)
    # the stored texts load to the very same rule set
    assert RuleDeadlines.from_files(stored.files).ruleset.content_hash == digest

    again = versions.reload(rules_dir, note="nothing changed")
    assert (again.outcome, again.version, len(versions.all())) == ("unchanged", result.version, 1)


def test_a_broken_edit_is_rejected_and_the_previous_version_stays(stack: Stack, rules_dir: Path) -> None:
    versions = versions_of(stack)
    good = versions.reload(rules_dir, note="good")
    replace_line(rules_dir, "deadlines.yaml", "      claim_deadline:", BROKEN_LINE)

    rejected = versions.reload(rules_dir, note="try 48小时", author="zhang.min")
    assert rejected.outcome == "rejected"
    assert rejected.ruleset is None
    assert [p.format() for p in rejected.report.errors] == [BROKEN_REPORT]
    assert rejected.active is not None and rejected.active.version == good.version
    assert f"version {good.version} stays active" in rejected.describe()
    assert f"{rules_dir}/{BROKEN_REPORT}" in rejected.describe()

    active = versions.active()
    assert active is not None and active.version == good.version
    record = versions.find(rejected.version)
    assert (record.status, record.active, record.activated_at) == ("rejected", False, None)
    assert record.note == "rejected: 1 error, 0 warnings; try 48小时"
    assert record.lint_report is not None and BROKEN_REPORT in record.lint_report
    assert LINT_REPORT not in record.rule_files

    # the same broken files again: recorded once, the active version untouched
    versions.reload(rules_dir)
    assert [v.status for v in versions.all()] == ["active", "rejected"]


def test_a_valid_edit_is_picked_up_by_reload(stack: Stack, rules_dir: Path) -> None:
    versions = versions_of(stack)
    first = versions.reload(rules_dir)
    set_toy_deadline(rules_dir, "3h")
    second = versions.reload(rules_dir, note="toy reviews get 3h")
    assert (second.outcome, second.ruleset is not None) == ("activated", True)
    assert second.version != first.version
    assert [(v.version, v.status) for v in versions.all()] == [
        (first.version, "superseded"),
        (second.version, "active"),
    ]
    # going back to the first files re-activates the stored version, no new row
    set_toy_deadline(rules_dir, "2h")
    back = versions.reload(rules_dir)
    assert (back.outcome, back.version) == ("activated", first.version)
    assert [v.status for v in versions.all()] == ["active", "superseded"]


def test_versions_are_found_by_id_hash_prefix_or_active(stack: Stack, tmp_path: Path) -> None:
    versions = versions_of(stack)
    a = versions.reload(copy_rules(tmp_path / "a", toy="2h"))
    b = versions.reload(copy_rules(tmp_path / "b", toy="3h"))
    first, second = versions.all()
    assert versions.find(str(first.id)).version == a.version
    assert versions.find(b.version[:8]).id == second.id
    assert versions.find(b.version.upper()).id == second.id
    assert versions.find("active").id == second.id
    with pytest.raises(RuleVersionNotFound, match="no stored rule version has id or hash prefix 'ffff"):
        versions.find("ffff" if not b.version.startswith("ffff") else "eeee")
    with pytest.raises(RuleVersionNotFound, match="is not a rule version"):
        versions.find("v1")


def test_start_up_takes_the_active_stored_version_over_the_folder(
    stack: Stack, rules_dir: Path, runtimes: MakeRuntime
) -> None:
    first = runtimes(rules_dir)  # nothing stored yet: the folder is stored and activated
    stored = versions_of(stack).all()
    assert [(v.version, v.status, v.note) for v in stored] == [
        (first.engine.deadlines.version, "active", f"initial rule set from {rules_dir}")
    ]
    set_toy_deadline(rules_dir, "5h")
    later = runtimes(rules_dir, rules_poll_interval=0)
    assert later.engine.deadlines.version == first.engine.deadlines.version
    assert later.engine.deadlines.deadline("toy", "awaiting_review", "review_deadline") == "2h"
    assert len(versions_of(stack).all()) == 1


def test_instances_record_the_stored_version(stack: Stack, rules_dir: Path, runtimes: MakeRuntime) -> None:
    runtime = runtimes(rules_dir)
    with runtime.transaction() as session:
        outcome = runtime.engine.start(
            session, "toy", "v-1", subject=None, context={}, cause=Cause(kind="system")
        )
    active = versions_of(stack).active()
    assert active is not None
    assert stack.instance(outcome.instance_id).rules_version == active.version == active.content_hash[:16]


def test_cli_versions_reload_and_diff(stack: Stack, rules_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    settings = stack.runtime.settings
    monkeypatch.setenv("YUNSHANG_DATABASE_URL", settings.database_url)
    monkeypatch.setenv("YUNSHANG_CLOCK", "simulated")
    monkeypatch.setenv("YUNSHANG_RULES_DIR", str(rules_dir))
    runner = CliRunner()
    cli = build_app(compose, PLUGINS)
    first = runner.invoke(cli, ["rules", "reload", "--note", "first", "--author", "li.wei"])
    assert first.exit_code == 0, first.output
    v1 = version_of(content_hash(rules_dir))
    assert first.output.strip() == f"rules version {v1} activated"  # no warnings: no summary

    replace_line(rules_dir, "deadlines.yaml", "      claim_deadline:", BROKEN_LINE)
    broken = runner.invoke(cli, ["rules", "reload", "--note", "typo"])
    assert broken.exit_code == 1
    assert f"version {v1} stays active" in broken.output
    assert BROKEN_REPORT in broken.output
    listing = runner.invoke(cli, ["rules", "versions"])
    assert listing.exit_code == 0, listing.output
    lines = listing.output.splitlines()
    assert lines[1].split()[:3] == ["1", v1, "active"]
    assert lines[1].endswith("li.wei                    first")
    assert lines[2].split()[2] == "rejected"
    assert "rejected: 1 error, 0 warnings; typo" in lines[2]
    assert "rejected — the active version stays in force" in listing.output
    assert BROKEN_REPORT in listing.output

    replace_line(rules_dir, "deadlines.yaml", "      claim_deadline:", "      claim_deadline: 72h")
    assert runner.invoke(cli, ["rules", "reload", "--note", "72h"]).exit_code == 0
    v3 = version_of(content_hash(rules_dir))
    changed = "~ deadline dual_notification/awaiting_claim/claim_deadline: 48h → 72h"
    assert runner.invoke(cli, ["rules", "diff", "1", "active"]).output.strip() == changed
    assert runner.invoke(cli, ["rules", "diff", v1[:6], str(rules_dir)]).output.strip() == changed
    assert runner.invoke(cli, ["rules", "diff", v3, str(rules_dir)]).output.strip() == "no changes"
    unknown = runner.invoke(cli, ["rules", "diff", "nope", "active"])
    assert unknown.exit_code == 1
    assert "'nope' is not a rule version" in unknown.output
    rejected = runner.invoke(cli, ["rules", "diff", "2", "active"])
    assert rejected.exit_code == 1
    assert "is invalid" in rejected.output or "are invalid" in rejected.output
