"""The checks of a grid directory file, common to its CSV and YAML forms, and what they build.

A reader (``directory_parse``) hands every field to ``Builder`` as a ``Cell`` (value, line, field
label); the builder (a ``workflows.directories`` checker) records each problem and carries on, so one
pass reports them all, and ``finish`` either returns the ``Directory`` or raises ``DirectoryInvalid``
with the problems in line order.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from workflows.directories.fields import Cell, Checker
from workflows.directories.problems import DirectoryInvalid, Problem
from workflows.flows.grid_check.directory_models import (
    CODE_LENGTH,
    NAME_LENGTH,
    RECIPIENT_LENGTH,
    WORKER_ID_LENGTH,
)

__all__ = [
    "Builder",
    "Cell",
    "Directory",
    "DirectoryInvalid",
    "GridEntry",
    "Problem",
    "StreetEntry",
    "WorkerEntry",
]


@dataclass(frozen=True)
class StreetEntry:
    code: str
    name: str


@dataclass(frozen=True)
class GridEntry:
    code: str
    name: str
    street: str


@dataclass(frozen=True)
class WorkerEntry:
    worker_id: str
    name: str
    grid: str
    backup: str | None
    active: bool
    recipient: str


@dataclass(frozen=True)
class Directory:
    """A whole, checked grid directory (in the order of the file) and the SHA-256 of the file."""

    streets: tuple[StreetEntry, ...]
    grids: tuple[GridEntry, ...]
    workers: tuple[WorkerEntry, ...]
    sha256: str


class Builder(Checker):
    """Collects streets, grids and workers field by field, and every problem on the way."""

    def __init__(self, file: str, streets_known: Mapping[str, str]) -> None:
        super().__init__(file)
        self.known = streets_known
        self.streets: dict[str, tuple[StreetEntry, int]] = {}
        self.grids: dict[str, tuple[GridEntry, int]] = {}
        self.workers: list[WorkerEntry] = []
        self._worker_lines: dict[str, int] = {}
        self._backups: list[tuple[str, str, Cell]] = []

    def street(self, code: Cell, name: Cell, *, once: bool) -> str | None:
        """The street code, if usable. ``once``: the format lists each street once (YAML)."""
        street, street_name = self.text(code, CODE_LENGTH), self.text(name, NAME_LENGTH)
        if street is None:
            return None
        if street not in self.known:
            known = ", ".join(sorted(self.known)) or "(none)"
            self.problem(code.line, code.field, f"unknown street {street!r}; organisation.yaml has {known}")
            return None
        seen = self.streets.get(street)
        if seen is None:
            if street_name is not None:
                self.streets[street] = (StreetEntry(street, street_name), code.line)
            return street
        entry, line = seen
        if once:
            self.problem(code.line, code.field, f"street {street} is listed twice (first on line {line})")
        elif street_name is not None and street_name != entry.name:
            self.problem(
                name.line,
                name.field,
                f"street {street} is named {entry.name} on line {line} and {street_name} here",
            )
        return street

    def grid(self, code: Cell, name: Cell, street: str | None, *, once: bool) -> str | None:
        """The grid code, if usable. ``once``: each grid is listed once (YAML); else (CSV, a row per
        worker) every row of a grid must name the same street and grid name."""
        grid, grid_name = self.text(code, CODE_LENGTH), self.text(name, NAME_LENGTH)
        if grid is None:
            return None
        seen = self.grids.get(grid)
        if seen is None:
            if grid_name is not None and street is not None:
                self.grids[grid] = (GridEntry(grid, grid_name, street), code.line)
            return grid
        entry, line = seen
        if once:
            self.problem(code.line, code.field, f"duplicate grid code {grid} (first on line {line})")
            return grid
        if street is not None and street != entry.street:
            self.problem(
                code.line,
                code.field,
                f"grid {grid} is in street {entry.street} on line {line}, {street} here",
            )
        if grid_name is not None and grid_name != entry.name:
            self.problem(
                name.line,
                name.field,
                f"grid {grid} is named {entry.name} on line {line} and {grid_name} here",
            )
        return grid

    def worker(
        self, worker_id: Cell, name: Cell, grid: str | None, backup: Cell, active: Cell, recipient: Cell
    ) -> None:
        wid = self.text(worker_id, WORKER_ID_LENGTH)
        worker_name = self.text(name, NAME_LENGTH)
        backup_id = self.text(backup, WORKER_ID_LENGTH, required=False)
        is_active = self.boolean(active)
        app_id = self.text(recipient, RECIPIENT_LENGTH)
        if wid is None:
            return
        first = self._worker_lines.get(wid)
        if first is not None:
            self.problem(
                worker_id.line, worker_id.field, f"duplicate worker id {wid} (first on line {first})"
            )
            return
        self._worker_lines[wid] = worker_id.line
        if backup_id is not None:
            self._backups.append((wid, backup_id, backup))
        if grid is not None and worker_name is not None and is_active is not None and app_id is not None:
            self.workers.append(WorkerEntry(wid, worker_name, grid, backup_id, is_active, app_id))

    def finish(self, sha256: str) -> Directory:
        """The directory, or ``DirectoryInvalid`` with every problem in line order."""
        for wid, backup_id, cell in self._backups:
            if backup_id == wid:
                self.problem(cell.line, cell.field, f"{wid} cannot be their own backup")
            elif backup_id not in self._worker_lines:
                self.problem(cell.line, cell.field, f"unknown backup worker {backup_id!r}: not in this file")
        if not self.problems and not self.grids:
            self.problem(1, "grids", "the file lists no grids (an import replaces the whole directory)")
        if self.problems:
            raise self.invalid()
        return Directory(
            streets=tuple(entry for entry, _ in self.streets.values()),
            grids=tuple(entry for entry, _ in self.grids.values()),
            workers=tuple(self.workers),
            sha256=sha256,
        )
