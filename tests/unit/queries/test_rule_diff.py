"""The rules screen's readings: the per-file unified diff (the same hunks as ``diff -u``, with line
numbers on both sides) and a stored lint report read back as file:line:column problems."""

from __future__ import annotations

import difflib

import pytest

from workflows.queries.rule_diff import file_diff, file_diffs
from workflows.queries.rules import problems

OLD = "".join(f"line {n}\n" for n in range(1, 21))
EDITS = [
    OLD.replace("line 3\n", "line three\n"),
    OLD.replace("line 1\n", ""),
    OLD + "line 21\n",
    OLD.replace("line 10\n", "line 10\nline 10½\n").replace("line 18\n", ""),
    "",
]


@pytest.mark.parametrize("new", EDITS)
def test_the_unified_text_is_what_difflib_writes(new: str) -> None:
    found = file_diff("deadlines.yaml", OLD, new)
    expected = difflib.unified_diff(
        OLD.splitlines(), new.splitlines(), "a/deadlines.yaml", "b/deadlines.yaml", lineterm=""
    )
    assert found.unified("a", "b") == "\n".join(expected)
    assert found.status == "changed"


def test_each_line_carries_its_numbers_on_both_sides() -> None:
    found = file_diff("deadlines.yaml", OLD, EDITS[3])
    kinds = [(line.kind, line.old, line.new, line.text) for line in found.lines if line.kind != "context"]
    assert kinds == [
        ("hunk", None, None, "@@ -8,6 +8,7 @@"),
        ("added", None, 11, "line 10½"),
        ("hunk", None, None, "@@ -15,6 +16,5 @@"),
        ("removed", 18, None, "line 18"),
    ]
    assert (found.added, found.removed) == (1, 1)
    context = [line for line in found.lines if line.kind == "context"]
    # one line added after line 10, line 18 removed: the lines between sit one further down
    assert all(line.new == line.old + (10 < line.old < 18) for line in context if line.old)


def test_files_on_one_side_only_are_added_or_removed() -> None:
    found = {
        f.name: f.status
        for f in file_diffs({"a.yaml": "x\n", "b.yaml": "y\n"}, {"b.yaml": "y\n", "c.yaml": "z\n"})
    }
    assert found == {"a.yaml": "removed", "b.yaml": "unchanged", "c.yaml": "added"}


def test_a_stored_lint_report_is_read_back_with_file_line_and_column() -> None:
    report = (
        "/srv/rules/deadlines.yaml:14:7: error: flows.dual_notification.awaiting_claim.claim_deadline: "
        "deadline '48小时' is not a duration: write 48h or 2 working days\n"
        "/srv/rules/escalation.yaml:3:1: warning: ladders.x: unused\n"
        "1 error, 1 warning"
    )
    found, folder = problems(report)
    assert folder == "/srv/rules"
    assert [(p.where, p.severity) for p in found] == [
        ("deadlines.yaml:14:7", "error"),
        ("escalation.yaml:3:1", "warning"),
    ]
    assert found[0].text.startswith(
        "flows.dual_notification.awaiting_claim.claim_deadline: deadline '48小时'"
    )
    assert problems("1 error, 0 warnings") == ([], "")
