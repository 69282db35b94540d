"""What lint found: problems with file, line, column and field path, and the error a load raises."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

Severity = Literal["error", "warning"]


@dataclass(frozen=True, order=True)
class Problem:
    """One finding. ``line``/``column`` are 1-based; ``path`` is the field path (``routes[3].permit``),
    empty for a whole file; ``file`` is the file name inside the rules directory."""

    file: str
    line: int
    column: int
    severity: Severity
    path: str
    message: str

    def format(self, directory: Path | None = None) -> str:
        where = str(directory / self.file) if directory is not None else self.file
        path = f"{self.path}: " if self.path else ""
        return f"{where}:{self.line}:{self.column}: {self.severity}: {path}{self.message}"


@dataclass(frozen=True)
class LintReport:
    """Every problem in a rules directory, sorted by file, line and column."""

    directory: Path
    problems: tuple[Problem, ...] = ()
    content_hash: str = ""

    @property
    def errors(self) -> tuple[Problem, ...]:
        return tuple(p for p in self.problems if p.severity == "error")

    @property
    def warnings(self) -> tuple[Problem, ...]:
        return tuple(p for p in self.problems if p.severity == "warning")

    @property
    def ok(self) -> bool:
        """True when there is no error (warnings do not block a rule set)."""
        return not self.errors

    def summary(self) -> str:
        errors, warnings = len(self.errors), len(self.warnings)
        return f"{errors} error{'s' * (errors != 1)}, {warnings} warning{'s' * (warnings != 1)}"


def format_report(report: LintReport, *, with_directory: bool = True, summary: bool = True) -> str:
    """``file:line:column: severity: path: message`` per problem, then ``N errors, M warnings``."""
    directory = report.directory if with_directory else None
    lines = [problem.format(directory) for problem in report.problems]
    if summary:
        lines.append(report.summary())
    return "\n".join(lines)


class RulesError(Exception):
    """Base of the errors the rules package raises on purpose."""


class RulesInvalid(RulesError):
    """The rule set has errors; nothing was loaded. ``report`` holds every problem."""

    def __init__(self, report: LintReport) -> None:
        first = "\n".join(p.format(report.directory) for p in report.errors[:5])
        more = len(report.errors) - 5
        tail = f"\n… and {more} more (run `yunshang rules lint {report.directory}`)" if more > 0 else ""
        super().__init__(f"rules in {report.directory} are invalid ({report.summary()}):\n{first}{tail}")
        self.report = report


@dataclass
class Collector:
    """Gathers findings as (severity, file, path, message); positions are added by the loader."""

    findings: list[tuple[Severity, str, tuple[str | int, ...], str]] = field(default_factory=list)

    def error(self, file: str, path: tuple[str | int, ...], message: str) -> None:
        self.findings.append(("error", file, path, message))

    def warning(self, file: str, path: tuple[str | int, ...], message: str) -> None:
        self.findings.append(("warning", file, path, message))
