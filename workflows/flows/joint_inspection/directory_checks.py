"""The checks of an inspection-objects or officers file, row by row, and the entries they build.

A reader (``directory_parse``) hands each row's fields to a builder as ``Cell``s; the builder (a
``workflows.directories`` checker) records every problem and carries on, so one pass reports them all,
and ``finish`` returns the whole directory or raises ``DirectoryInvalid`` with the problems in line
order. A file is a whole directory: an import replaces the table, so a file without rows is refused.
"""

from __future__ import annotations

import re
from collections.abc import Collection
from dataclasses import dataclass
from datetime import date
from typing import Any

from workflows.directories.fields import Cell, Checker
from workflows.flows.joint_inspection.directory_models import (
    CERTIFICATE_LENGTH,
    CODE_LENGTH,
    FIELD_LENGTH,
    INDUSTRY_LENGTH,
    NAME_LENGTH,
    OBJECT_TYPES,
    OFFICER_ID_LENGTH,
    OFFICER_NAME_LENGTH,
)

#: a GB/T 4754 code as ``license.issued`` carries it: an optional section letter, 2-4 digits
INDUSTRY = re.compile(r"[A-Z]?\d{2,4}")


@dataclass(frozen=True, slots=True)
class ObjectEntry:
    """One inspection object as the file gives it."""

    uscc: str
    name: str
    type: str
    industry: str | None
    street: str
    grid: str
    risk_class: str
    risk_as_of: date
    last_inspected_at: date | None = None
    last_result: str | None = None
    last_inspectors: tuple[str, ...] = ()

    def values(self) -> dict[str, Any]:
        """The row of ``inspection_objects``."""
        return {
            "uscc": self.uscc,
            "name": self.name,
            "type": self.type,
            "industry": self.industry,
            "street": self.street,
            "grid": self.grid,
            "risk_class": self.risk_class,
            "risk_as_of": self.risk_as_of,
            "last_inspected_at": self.last_inspected_at,
            "last_result": self.last_result,
            "last_inspectors": list(self.last_inspectors),
        }


@dataclass(frozen=True, slots=True)
class OfficerEntry:
    """One officer as the file gives them."""

    officer_id: str
    name: str
    department: str
    certificate_no: str
    fields: tuple[str, ...]
    active: bool
    conflicts: tuple[str, ...] = ()

    def values(self) -> dict[str, Any]:
        """The row of ``inspection_officers``."""
        return {
            "officer_id": self.officer_id,
            "name": self.name,
            "department": self.department,
            "certificate_no": self.certificate_no,
            "fields": list(self.fields),
            "active": self.active,
            "conflicts": list(self.conflicts),
        }


@dataclass(frozen=True)
class ObjectsDirectory:
    """A whole, checked objects file (in the order of the file) and the SHA-256 of the file."""

    objects: tuple[ObjectEntry, ...]
    sha256: str


@dataclass(frozen=True)
class OfficersDirectory:
    """A whole, checked officers file (in the order of the file) and the SHA-256 of the file."""

    officers: tuple[OfficerEntry, ...]
    sha256: str


class ObjectsBuilder(Checker):
    """Checks objects row by row: codes against the rules' sets, each USCC once."""

    def __init__(
        self, file: str, risk_classes: Collection[str], streets: Collection[str], results: Collection[str]
    ) -> None:
        super().__init__(file)
        self.risk_classes, self.streets, self.results = risk_classes, streets, results
        self.objects: list[ObjectEntry] = []
        self._lines: dict[str, int] = {}

    def add(self, line: int, row: list[str], header: tuple[str, ...]) -> None:
        """One row, its cells in the order of ``header`` (``directory_parse.OBJECTS_HEADER``)."""
        before = len(self.problems)
        uscc, name, kind, industry, street, grid, risk, as_of, inspected, result, inspectors = [
            Cell(value, line, field) for value, field in zip(row, header, strict=True)
        ]
        code = self.once(self.uscc(uscc), uscc, self._lines, "USCC")
        entry_name = self.text(name, NAME_LENGTH)
        entry_type = self.member(kind, OBJECT_TYPES, "type", "the types are")
        entry_industry = self._industry(industry)
        entry_street = self.member(street, self.streets, "street", "organisation.yaml has")
        entry_grid = self.word(grid, CODE_LENGTH)
        entry_class = self.member(risk, self.risk_classes, "risk class", "sampling.yaml has")
        entry_as_of = self.date(as_of)
        day, given, ids = self._last(inspected, result, inspectors)
        if (
            len(self.problems) > before
            or code is None
            or entry_name is None
            or entry_type is None
            or entry_street is None
            or entry_grid is None
            or entry_class is None
            or entry_as_of is None
        ):
            return
        self.objects.append(
            ObjectEntry(
                code, entry_name, entry_type, entry_industry, entry_street, entry_grid, entry_class,
                entry_as_of, day, given, ids,
            )
        )  # fmt: skip

    def _industry(self, cell: Cell) -> str | None:
        text = self.text(cell, INDUSTRY_LENGTH, required=False)
        if text is not None and not INDUSTRY.fullmatch(text):
            self.problem(cell.line, cell.field, f"{text!r} is no GB/T 4754 code (F5212, 6513 …)")
        return text

    def _last(
        self, inspected: Cell, result: Cell, inspectors: Cell
    ) -> tuple[date | None, str | None, tuple[str, ...]]:
        """The last inspection: its day, result and officers (all empty: none)."""
        day = self.date(inspected, required=False)
        given = self.text(result, CODE_LENGTH, required=False)
        ids = self.items(inspectors, OFFICER_ID_LENGTH) or []
        if given is not None and given not in self.results:
            known = ", ".join(self.results)
            self.problem(result.line, result.field, f"unknown result {given!r}; the results are {known}")
        if str(inspected.value).strip():
            if day is not None and given is None:
                self.problem(result.line, result.field, "empty; an inspection has a result")
        else:
            for cell, what in ((result, "a result"), (inspectors, "inspectors")):
                if str(cell.value).strip():
                    self.problem(cell.line, cell.field, f"{what} without last_inspected_at")
        for officer in ids:
            if len(officer.split()) > 1:
                self.problem(inspectors.line, inspectors.field, f"officer id {officer!r} has a space inside")
        return day, given, tuple(ids)

    def finish(self, sha256: str) -> ObjectsDirectory:
        if not self.problems and not self.objects:
            self.problem(1, "objects", "the file lists no objects (an import replaces the whole directory)")
        if self.problems:
            raise self.invalid()
        return ObjectsDirectory(tuple(self.objects), sha256)


class OfficersBuilder(Checker):
    """Checks officers row by row: departments of organisation.yaml, ids and certificates once each."""

    def __init__(self, file: str, departments: Collection[str]) -> None:
        super().__init__(file)
        self.departments = departments
        self.officers: list[OfficerEntry] = []
        self._ids: dict[str, int] = {}
        self._certificates: dict[str, int] = {}

    def add(self, line: int, row: list[str], header: tuple[str, ...]) -> None:
        """One row, its cells in the order of ``header`` (``directory_parse.OFFICERS_HEADER``)."""
        before = len(self.problems)
        officer, name, department, certificate, fields, active, conflicts = [
            Cell(value, line, field) for value, field in zip(row, header, strict=True)
        ]
        oid = self.once(self.word(officer, OFFICER_ID_LENGTH), officer, self._ids, "officer id")
        entry_name = self.text(name, OFFICER_NAME_LENGTH)
        entry_department = self.member(department, self.departments, "department", "organisation.yaml has")
        number = self.word(certificate, CERTIFICATE_LENGTH)
        number = self.once(number, certificate, self._certificates, "certificate number")
        entry_fields = self.items(fields, FIELD_LENGTH)
        is_active = self.boolean(active)
        entry_conflicts = [self.uscc_code(item, conflicts) for item in self.items(conflicts, 100) or ()]
        if (
            len(self.problems) > before
            or oid is None
            or entry_name is None
            or entry_department is None
            or number is None
            or entry_fields is None
            or is_active is None
        ):
            return
        self.officers.append(
            OfficerEntry(
                oid,
                entry_name,
                entry_department,
                number,
                tuple(entry_fields),
                is_active,
                tuple(c for c in entry_conflicts if c is not None),
            )
        )

    def finish(self, sha256: str) -> OfficersDirectory:
        if not self.problems and not self.officers:
            self.problem(1, "officers", "the file lists no officers (an import replaces the whole directory)")
        if self.problems:
            raise self.invalid()
        return OfficersDirectory(tuple(self.officers), sha256)
