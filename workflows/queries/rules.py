"""The rule versions as operators read them: the active one, every stored one, how the rules folder
compares, and the last rejected edit with its lint report (``yunshang rules versions``, the
dashboard's rules screen).

A rejected reload is stored in ``rule_versions`` like an accepted one, with its lint report under
``files["_lint_report"]`` (``workflows.ruleset.versions``): the report's lines are
``file:line:column: severity: field: message``, which ``problems`` reads back.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path, PurePath

from rules import RuleSet, content_hash, load_rules
from workflows.ruleset.versions import RuleVersions, StoredVersion, load_files, version_of

_PROBLEM = re.compile(
    r"^(?P<file>.+?):(?P<line>\d+):(?P<column>\d+): (?P<severity>error|warning): (?P<text>.*)$"
)


@dataclass(frozen=True)
class ReportLine:
    """One problem of a stored lint report; ``where`` is ``file:line:column`` (the file's name)."""

    file: str
    line: int
    column: int
    severity: str
    text: str

    @property
    def where(self) -> str:
        return f"{self.file}:{self.line}:{self.column}"


@dataclass(frozen=True)
class Rejection:
    """A rejected edit: the stored candidate, its problems, and whether it came after the activation
    of the version in force (the folder then holds an edit the engine refused)."""

    version: StoredVersion
    problems: list[ReportLine]
    folder: str
    since_active: bool

    @property
    def report(self) -> str:
        return self.version.lint_report or ""


@dataclass(frozen=True)
class RulesOverview:
    active: StoredVersion | None
    #: every stored version, newest first
    versions: list[StoredVersion]
    #: the version this process runs on (it follows the active one within the poll interval)
    in_force: str | None
    folder: Path
    folder_version: str
    folder_status: str
    last_rejection: Rejection | None


def problems(report: str) -> tuple[list[ReportLine], str]:
    """The problems of a stored lint report, and the folder its paths name ('' when none does)."""
    found: list[ReportLine] = []
    folders: list[str] = []
    for raw in report.splitlines():
        match = _PROBLEM.match(raw.strip())
        if match is None:
            continue
        path = PurePath(match["file"])
        folders.append(str(path.parent) if path.parent != PurePath(".") else "")
        found.append(
            ReportLine(path.name, int(match["line"]), int(match["column"]), match["severity"], match["text"])
        )
    return found, next((f for f in folders if f), "")


def last_rejection(stored: list[StoredVersion]) -> Rejection | None:
    """The most recent rejected edit (a candidate seen again is refreshed to its latest time)."""
    rejected = [v for v in stored if v.status == "rejected"]
    if not rejected:
        return None
    latest = max(rejected, key=lambda v: (v.created_at, v.id))
    active = next((v for v in stored if v.active), None)
    since = active is None or active.activated_at is None or latest.created_at >= active.activated_at
    found, folder = problems(latest.lint_report or "")
    return Rejection(latest, found, folder, since)


def folder_status(directory: Path, folder: str, stored: list[StoredVersion]) -> str:
    """How the rules folder compares with the stored versions, in one line (and a rejection's report)."""
    active = next((v for v in stored if v.active), None)
    same = next((v for v in stored if v.version == folder), None)
    line = f"rules folder {directory}: version {folder}"
    if active is not None and active.version == folder:
        return f"{line}, the active version"
    if same is not None and same.lint_report:
        return f"{line}, rejected — the active version stays in force:\n{same.lint_report}"
    return f"{line}, not active: run `yunshang rules reload` (a running scheduler picks it up by itself)"


def rules_overview(versions: RuleVersions, directory: Path, in_force: str | None) -> RulesOverview:
    """The rules screen: the active version, the stored ones, the folder and the last rejection."""
    stored = versions.all()
    folder = version_of(content_hash(directory))
    return RulesOverview(
        active=next((v for v in stored if v.active), None),
        versions=sorted(stored, key=lambda v: v.id, reverse=True),
        in_force=in_force,
        folder=directory,
        folder_version=folder,
        folder_status=folder_status(directory, folder, stored).splitlines()[0],
        last_rejection=last_rejection(stored),
    )


def ruleset_of(
    versions: RuleVersions, ref: str, folder: Path | None = None, folder_ref: str = "folder"
) -> RuleSet:
    """The rule set of a stored version (id, hash prefix or ``active``), or of the rules folder
    ``folder`` when ``ref`` is ``folder_ref``. Raises ``RuleVersionNotFound``, or ``rules.RulesInvalid``
    for a rejected version or a folder that does not lint."""
    if folder is not None and ref == folder_ref:
        return load_rules(folder)
    stored = versions.find(ref)
    return load_files(stored.rule_files, f"rule version {stored.version}")
