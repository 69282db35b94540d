"""Reading a grid directory file (CSV or YAML) into a checked ``Directory``, every problem at once.

CSV has one row per grid worker under the header ``HEADER``; YAML nests workers in grids in streets::

    streets:
      - code: ZHONGHAN
        name: 中韩街道
        grids:
          - code: ZH-001
            name: 中韩街道第1网格
            workers:
              - {id: GW-0001, name: 王秀英, backup: GW-0002, active: true, recipient: app:gw-0001}

Each problem is ``FILE:LINE: field: message`` (the column in CSV, the field path in YAML); a file with
any problem raises ``DirectoryInvalid`` listing them all, and nothing is built from it. The checks
themselves, common to both formats, are in ``directory_checks``.
"""

from __future__ import annotations

from collections.abc import Mapping
from functools import partial
from pathlib import Path

from rules.yaml_source import PathKey, format_path, parse_yaml, position_of
from workflows.directories.files import csv_rows, read_source
from workflows.flows.grid_check.directory_checks import (
    Builder,
    Cell,
    Directory,
    DirectoryInvalid,
    GridEntry,
    Problem,
    StreetEntry,
    WorkerEntry,
)

__all__ = [
    "HEADER",
    "Directory",
    "DirectoryInvalid",
    "GridEntry",
    "Problem",
    "StreetEntry",
    "WorkerEntry",
    "parse_directory",
]

#: the columns of a CSV directory, one row per grid worker (any order; ``backup_worker`` may be empty)
HEADER = (
    "street",
    "street_name",
    "grid",
    "grid_name",
    "worker_id",
    "worker_name",
    "backup_worker",
    "active",
    "recipient",
)
SUFFIXES = (".csv", ".yaml", ".yml")


def parse_directory(path: Path, streets_known: Mapping[str, str]) -> Directory:
    """Read ``path`` (``.csv``, ``.yaml`` or ``.yml``); ``streets_known`` maps the street codes of
    organisation.yaml to their names. Raises ``DirectoryInvalid`` with every problem found."""
    source = read_source(path, SUFFIXES)
    builder = Builder(str(path), streets_known)
    if path.suffix.lower() == ".csv":
        _read_csv(source.text, builder)
    else:
        _read_yaml(source.text, builder)
    return builder.finish(source.sha256)


def _read_csv(text: str, builder: Builder) -> None:
    for line, row in csv_rows(text, HEADER, builder):
        cells = {name: Cell(value, line, name) for name, value in zip(HEADER, row, strict=True)}
        street = builder.street(cells["street"], cells["street_name"], once=False)
        grid = builder.grid(cells["grid"], cells["grid_name"], street, once=False)
        builder.worker(
            cells["worker_id"],
            cells["worker_name"],
            grid,
            cells["backup_worker"],
            cells["active"],
            cells["recipient"],
        )


STREET_KEYS = ("code", "name", "grids")
GRID_KEYS = ("code", "name", "workers")
WORKER_KEYS = ("id", "name", "backup", "active", "recipient")


class _Yaml:
    """The nodes of a parsed YAML directory, each with its line and field path."""

    def __init__(self, builder: Builder, positions: dict[PathKey, tuple[int, int]]) -> None:
        self.builder = builder
        self.positions = positions

    def line(self, path: PathKey) -> int:
        return position_of(self.positions, path)[0]

    def cell(self, node: dict[object, object], path: PathKey, key: str) -> Cell:
        return Cell(node.get(key), self.line((*path, key)), format_path((*path, key)))

    def items(self, value: object, path: PathKey, what: str) -> list[tuple[PathKey, dict[object, object]]]:
        """The mappings of the list at ``path`` (absent: none), each with its own path."""
        if value is None:
            return []
        if not isinstance(value, list):
            self.builder.problem(self.line(path), format_path(path), f"must be a list of {what}")
            return []
        found: list[tuple[PathKey, dict[object, object]]] = []
        for index, item in enumerate(value):
            if isinstance(item, dict):
                found.append(((*path, index), item))
            else:
                where = (*path, index)
                self.builder.problem(self.line(where), format_path(where), f"must be a mapping ({what})")
        return found

    def keys(self, node: dict[object, object], path: PathKey, allowed: tuple[str, ...]) -> None:
        for key in node:
            if key not in allowed:
                where = (*path, str(key))
                self.builder.problem(
                    self.line(where), format_path(where), f"unknown field; known: {', '.join(allowed)}"
                )


def _read_yaml(text: str, builder: Builder) -> None:
    parsed = parse_yaml(text)
    if parsed.syntax_error is not None:
        (line, _column), message = parsed.syntax_error
        builder.problem(line, "yaml", message)
        return
    doc = _Yaml(builder, parsed.positions)
    for dup in parsed.duplicates:
        builder.problem(dup.again[0], format_path(dup.path), f"written twice (first on line {dup.first[0]})")
    top = parsed.data
    if not isinstance(top, dict) or "streets" not in top:
        builder.problem(1, "streets", "the file must be a mapping with `streets:`, a list of streets")
        return
    doc.keys(top, (), ("streets",))
    for spath, snode in doc.items(top["streets"], ("streets",), "streets"):
        doc.keys(snode, spath, STREET_KEYS)
        street = builder.street(doc.cell(snode, spath, "code"), doc.cell(snode, spath, "name"), once=True)
        for gpath, gnode in doc.items(snode.get("grids"), (*spath, "grids"), "grids"):
            doc.keys(gnode, gpath, GRID_KEYS)
            grid = builder.grid(
                doc.cell(gnode, gpath, "code"), doc.cell(gnode, gpath, "name"), street, once=True
            )
            for wpath, wnode in doc.items(gnode.get("workers"), (*gpath, "workers"), "workers"):
                doc.keys(wnode, wpath, WORKER_KEYS)
                cell = partial(doc.cell, wnode, wpath)
                builder.worker(
                    cell("id"), cell("name"), grid, cell("backup"), cell("active"), cell("recipient")
                )
