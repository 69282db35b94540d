"""What changed between two stored rule versions: a unified diff of each rule file's text (with the
line numbers on both sides), and, when both load, the changes in rule terms (``rules.diff``, as
``yunshang rules diff`` prints them).
"""

from __future__ import annotations

import difflib
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Literal

from rules import Change, RulesInvalid, diff
from workflows.ruleset.versions import RuleVersionNotFound, RuleVersions, StoredVersion, load_files

LineKind = Literal["hunk", "context", "removed", "added"]
FileStatus = Literal["changed", "added", "removed", "unchanged"]
_SIGN: dict[LineKind, str] = {"hunk": "@@", "context": " ", "removed": "-", "added": "+"}
CONTEXT = 3


@dataclass(frozen=True)
class DiffLine:
    kind: LineKind
    #: the line's number in the first version (None for an added line or a hunk header)
    old: int | None
    #: the line's number in the second version (None for a removed line or a hunk header)
    new: int | None
    text: str

    @property
    def sign(self) -> str:
        return _SIGN[self.kind]


@dataclass(frozen=True)
class FileDiff:
    name: str
    status: FileStatus
    lines: list[DiffLine]

    @property
    def added(self) -> int:
        return sum(line.kind == "added" for line in self.lines)

    @property
    def removed(self) -> int:
        return sum(line.kind == "removed" for line in self.lines)

    def unified(self, a_label: str, b_label: str) -> str:
        """The classic text of the diff (``--- a/file``, ``+++ b/file``, hunks)."""
        head = [f"--- {a_label}/{self.name}", f"+++ {b_label}/{self.name}"]
        body = [line.text if line.kind == "hunk" else line.sign + line.text for line in self.lines]
        return "\n".join(head + body)


@dataclass(frozen=True)
class VersionDiff:
    a: StoredVersion
    b: StoredVersion
    files: list[FileDiff]
    #: the changes in rule terms; None when a version does not load (``unavailable`` says why)
    changes: list[Change] | None
    unavailable: str = ""

    @property
    def changed(self) -> list[FileDiff]:
        return [f for f in self.files if f.status != "unchanged"]


def file_diff(name: str, before: str | None, after: str | None, context: int = CONTEXT) -> FileDiff:
    """The unified diff of one file's two texts (None: the file is missing on that side)."""
    old, new = (before or "").splitlines(), (after or "").splitlines()
    status: FileStatus = "changed" if old != new else "unchanged"
    if before is None or after is None:
        status = "added" if before is None else "removed"
    lines: list[DiffLine] = []
    matcher = difflib.SequenceMatcher(a=old, b=new, autojunk=False)
    for group in matcher.get_grouped_opcodes(context):
        i1, i2, j1, j2 = group[0][1], group[-1][2], group[0][3], group[-1][4]
        lines.append(DiffLine("hunk", None, None, f"@@ -{_range(i1, i2)} +{_range(j1, j2)} @@"))
        for tag, a1, a2, b1, b2 in group:
            if tag == "equal":
                lines += [DiffLine("context", a1 + k + 1, b1 + k + 1, old[a1 + k]) for k in range(a2 - a1)]
                continue
            lines += [DiffLine("removed", k + 1, None, old[k]) for k in range(a1, a2)]
            lines += [DiffLine("added", None, k + 1, new[k]) for k in range(b1, b2)]
    return FileDiff(name, status, lines)


def _find(versions: RuleVersions, side: str, ref: str, label: str) -> StoredVersion:
    try:
        return versions.find(ref)
    except RuleVersionNotFound as exc:
        raise VersionRefNotFound(side, label, exc) from None


def _range(start: int, end: int) -> str:
    """A hunk's range as ``diff -u`` writes it: the first line (1-based) and the count."""
    count = end - start
    first = start + 1 if count else start
    return f"{first},{count}" if count != 1 else f"{first}"


def file_diffs(a: Mapping[str, str], b: Mapping[str, str], context: int = CONTEXT) -> list[FileDiff]:
    """Every rule file of either side, in name order."""
    return [file_diff(name, a.get(name), b.get(name), context) for name in sorted(a.keys() | b.keys())]


class VersionRefNotFound(RuleVersionNotFound):
    """One side of a comparison names no stored version; ``side`` is ``a`` (old) or ``b`` (new)."""

    def __init__(self, side: str, label: str, problem: RuleVersionNotFound) -> None:
        super().__init__(f"{label}: {problem}")
        self.side = side


def compare_versions(
    versions: RuleVersions, a_ref: str, b_ref: str, labels: tuple[str, str] = ("a", "b")
) -> VersionDiff:
    """Two stored versions (id, hash prefix or ``active``) compared; raises ``VersionRefNotFound``
    naming the side (by its ``labels``) that is not a stored version."""
    a, b = _find(versions, "a", a_ref, labels[0]), _find(versions, "b", b_ref, labels[1])
    files = file_diffs(a.rule_files, b.rule_files)
    try:
        before = load_files(a.rule_files, f"rule version {a.version}")
        after = load_files(b.rule_files, f"rule version {b.version}")
    except RulesInvalid:
        bad = ", ".join(f"#{v.id} {v.version}" for v in (a, b) if v.status == "rejected") or "one of them"
        reason = f"no rule-terms comparison: {bad} was rejected and does not load"
        return VersionDiff(a, b, files, None, reason)
    return VersionDiff(a, b, files, diff(before, after))
