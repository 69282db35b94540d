"""What every cross-file check gets: the files that validated, what was set aside, where to report."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from rules.report import Collector
from rules.schema import Calendar, Deadlines, Escalation, Organisation, PermitRouting, Sampling
from rules.yaml_source import PathKey

ORG = "organisation.yaml"
ROUTING = "permit_routing.yaml"
DEADLINES = "deadlines.yaml"
ESCALATION = "escalation.yaml"
SAMPLING = "sampling.yaml"
CALENDAR = "calendar.yaml"


@dataclass
class Context:
    """Models are None when their file is missing or unusable; checks that need one then skip."""

    organisation: Organisation | None
    routing: PermitRouting | None
    deadlines: Deadlines | None
    escalation: Escalation | None
    sampling: Sampling | None
    calendar: Calendar | None
    out: Collector
    line_of: Callable[[str, PathKey], int]
    """Line of a node, for messages that point at a second place ("also at line 12")."""
    pruned: set[str] = field(default_factory=set)
    """Codes and keys of entries that had schema errors: references to them are not reported again."""
    partial: set[tuple[str, str]] = field(default_factory=set)
    """(file, collection) that lost entries to schema errors."""
    unknowable: set[tuple[str, str]] = field(default_factory=set)
    """(file, collection) that lost an entry whose code is unreadable: references into it are not judged."""

    def error(self, file: str, path: PathKey, message: str) -> None:
        self.out.error(file, path, message)

    def warning(self, file: str, path: PathKey, message: str) -> None:
        self.out.warning(file, path, message)

    def department_known(self, code: str) -> bool:
        """True when ``code`` is a department, or unknowable (organisation unusable or entry set aside)."""
        if self.organisation is None or code in self.pruned or (ORG, "departments") in self.unknowable:
            return True
        return self.organisation.department(code) is not None

    def unit_known(self, code: str) -> bool:
        """Like ``department_known``, for any unit: department, street or grid."""
        if self.organisation is None or code in self.pruned:
            return True
        if any((ORG, units) in self.unknowable for units in ("departments", "streets", "grids")):
            return True
        return self.organisation.unit_kind(code) is not None


def duplicates(codes: list[str]) -> list[tuple[int, int]]:
    """``(index, index of first)`` for every repeated code."""
    first: dict[str, int] = {}
    found = []
    for index, code in enumerate(codes):
        if code in first:
            found.append((index, first[code]))
        else:
            first[code] = index
    return found
