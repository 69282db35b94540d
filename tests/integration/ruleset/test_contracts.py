"""Every path that accepts a rule set checks it against the flows the engine runs: a folder that
breaks the contract (here: no ``claim_deadline``) is refused whole by ``rules reload``, by the hot
reload and at start-up, with its report stored, and the previous version stays in force."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from rules import RulesInvalid, content_hash
from tests.integration.ruleset.conftest import MakeRuntime, copy_rules, replace_line
from tests.support import Stack
from worker import PLUGINS, compose
from workflows.cli.app import build_app
from workflows.ruleset.adapter import RulesWatcher
from workflows.ruleset.versions import RuleVersions, version_of

MISSING = (
    "deadlines.yaml:12:5: error: flows.dual_notification.awaiting_claim.claim_deadline: no deadline for "
    "dual_notification.awaiting_claim.claim_deadline"
)


def drop_claim_deadline(directory: Path) -> Path:
    path = directory / "deadlines.yaml"
    lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
    kept = [line for line in lines if not line.startswith("      claim_deadline:")]
    assert len(kept) == len(lines) - 1
    path.write_text("".join(kept), encoding="utf-8")
    return directory


def versions_of(stack: Stack) -> RuleVersions:
    return RuleVersions(stack.runtime.db, stack.runtime.clock, stack.runtime.registry.flows)


def assert_refused(stack: Stack, good: str, broken: str) -> None:
    """The broken folder is recorded as rejected with its report; nothing else changed."""
    versions = versions_of(stack)
    assert [(v.version, v.status) for v in versions.all()] == [(good, "active"), (broken, "rejected")]
    rejected = versions.find(broken)
    assert rejected.lint_report is not None and MISSING in rejected.lint_report
    assert rejected.note.startswith("rejected: 2 errors, 0 warnings")


def test_rules_reload_refuses_a_folder_without_claim_deadline(
    stack: Stack, rules_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("YUNSHANG_DATABASE_URL", stack.runtime.settings.database_url)
    monkeypatch.setenv("YUNSHANG_CLOCK", "simulated")
    monkeypatch.setenv("YUNSHANG_RULES_DIR", str(rules_dir))
    runner, app = CliRunner(), build_app(compose, PLUGINS)
    assert runner.invoke(app, ["rules", "reload", "--note", "good"]).exit_code == 0
    good = version_of(content_hash(rules_dir))

    drop_claim_deadline(rules_dir)
    refused = runner.invoke(app, ["rules", "reload", "--note", "no claim deadline"])
    assert refused.exit_code == 1
    assert f"version {good} stays active" in refused.output
    assert any(line.startswith(f"{rules_dir}/{MISSING}") for line in refused.output.splitlines())
    assert_refused(stack, good, version_of(content_hash(rules_dir)))


def test_the_hot_reload_refuses_it_and_keeps_the_running_rules(
    stack: Stack, rules_dir: Path, runtimes: MakeRuntime
) -> None:
    runtime = runtimes(rules_dir)  # stores and activates the folder
    good = version_of(content_hash(rules_dir))
    assert runtime.follower is not None and runtime.engine.deadlines.version == good
    watcher = RulesWatcher(runtime.follower, rules_dir)
    watcher.poll(), watcher.poll()  # the folder is the active version: nothing to do

    drop_claim_deadline(rules_dir)
    assert watcher.poll() is None  # changed: wait until it holds still
    result = watcher.poll()
    assert result is not None and result.outcome == "rejected"
    assert MISSING in result.describe()
    assert runtime.engine.deadlines.version == good
    assert runtime.engine.deadlines.deadline("dual_notification", "awaiting_claim", "claim_deadline") == "48h"
    assert_refused(stack, good, version_of(content_hash(rules_dir)))


def test_start_up_refuses_to_store_it_when_nothing_is_active(
    stack: Stack, tmp_path: Path, runtimes: MakeRuntime
) -> None:
    broken = drop_claim_deadline(copy_rules(tmp_path / "rules"))
    with pytest.raises(RulesInvalid) as refused:
        runtimes(broken)
    assert any(MISSING in p.format() for p in refused.value.report.errors)
    assert [v.status for v in versions_of(stack).all()] == ["rejected"]


def test_start_up_on_an_active_version_that_breaks_the_contract_says_so(
    stack: Stack, tmp_path: Path, runtimes: MakeRuntime, caplog: pytest.LogCaptureFixture
) -> None:
    # lints alone (no ladder names the toy's timer), but the toy flow arms review_deadline
    broken = replace_line(
        copy_rules(tmp_path / "rules"), "deadlines.yaml", "      review_deadline:", "      review_due: 2h"
    )
    unchecked = RuleVersions(stack.runtime.db, stack.runtime.clock, {})  # e.g. stored by an older engine
    assert unchecked.reload(broken).outcome == "activated"
    runtime = runtimes(broken)
    assert runtime.engine.deadlines.version == version_of(content_hash(broken))
    assert "breaks the contract with the flows this engine runs" in caplog.text
    assert "error: flows.toy.awaiting_review.review_deadline: no deadline for" in caplog.text
