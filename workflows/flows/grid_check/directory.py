"""The grid directory (网格目录): replacing it from a checked file, and the lookups the grid first check
routes by.

    directory = parse_directory(Path("laoshan_directory.csv"), {"ZHONGHAN": "中韩街道", ...})
    with db.transaction() as session:
        report = replace_directory(session, directory, "laoshan_directory.csv", at=clock.now())
    with db.read() as session:
        assignee_for(session, "ZH-001")     # Assignee(level="grid", worker_id="GW-0001", ...)

A grid's case goes to its primary worker (the first by worker id); when that worker is inactive, to
their backup if the backup is active; otherwise to the street office (街道) the grid belongs to.
Reading the file is ``directory_parse``; the tables are ``directory_models``.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

from sqlalchemy import Select, bindparam, case, delete, func, insert, select
from sqlalchemy.orm import Session

from workflows.flows.grid_check.directory_models import (
    GridCell,
    GridDirectoryImport,
    GridStreet,
    GridWorker,
)
from workflows.flows.grid_check.directory_parse import Directory, DirectoryInvalid, parse_directory
from workflows.store.models import table

__all__ = [
    "Assignee",
    "Directory",
    "DirectoryCounts",
    "DirectoryInvalid",
    "ImportReport",
    "StreetCounts",
    "Worker",
    "assignee_for",
    "directory_counts",
    "grid_exists",
    "latest_import",
    "parse_directory",
    "prefetch_assignees",
    "replace_directory",
    "worker",
    "worker_in_grid",
]

Level = Literal["grid", "backup", "street"]


@dataclass(frozen=True)
class StreetCounts:
    """One street's grids, workers and active workers."""

    code: str
    name: str
    grids: int
    workers: int
    active: int


@dataclass(frozen=True)
class DirectoryCounts:
    """What the directory holds, per street (by code)."""

    streets: tuple[StreetCounts, ...]

    @property
    def grids(self) -> int:
        return sum(s.grids for s in self.streets)

    @property
    def workers(self) -> int:
        return sum(s.workers for s in self.streets)

    @property
    def active(self) -> int:
        return sum(s.active for s in self.streets)


@dataclass(frozen=True)
class ImportReport:
    """One import: the file, what the directory holds now and what it held before (``replaced``)."""

    import_id: int
    source: str
    sha256: str
    counts: DirectoryCounts
    replaced: DirectoryCounts


@dataclass(frozen=True)
class Assignee:
    """Who receives a grid's case: its worker (``grid``), their backup (``backup``) or, with neither
    active, the street office (``street``: no worker, no recipient; the street's leader takes it)."""

    level: Level
    worker_id: str | None
    worker_name: str | None
    recipient: str | None
    grid: str
    grid_name: str
    street: str
    street_name: str


@dataclass(frozen=True)
class Worker:
    """A grid worker as the directory has them, with the street of their grid."""

    worker_id: str
    name: str
    grid: str
    street: str
    backup_worker: str | None
    active: bool
    recipient: str


def replace_directory(
    session: Session, directory: Directory, source_name: str, *, at: datetime
) -> ImportReport:
    """Replace the whole directory by ``directory`` inside the caller's transaction (a savepoint: on
    any error nothing of it stays) and record the import at ``at``. Imports wait for each other."""
    session.info.pop(_PREFETCHED, None)
    with session.begin_nested():
        if session.get_bind().dialect.name == "postgresql":
            # one importer at a time; readers keep seeing the previous directory until commit
            session.connection().exec_driver_sql(
                "LOCK TABLE grid_streets, grid_cells, grid_workers IN SHARE ROW EXCLUSIVE MODE"
            )
        replaced = directory_counts(session)
        for model in (GridWorker, GridCell, GridStreet):
            session.execute(delete(table(model)))
        if directory.streets:
            session.execute(
                insert(table(GridStreet)), [{"code": s.code, "name": s.name} for s in directory.streets]
            )
        if directory.grids:
            rows = [{"code": g.code, "name": g.name, "street": g.street} for g in directory.grids]
            session.execute(insert(table(GridCell)), rows)
        if directory.workers:
            session.execute(
                insert(table(GridWorker)),
                [
                    {
                        "worker_id": w.worker_id,
                        "name": w.name,
                        "grid": w.grid,
                        "backup_worker": w.backup,
                        "active": w.active,
                        "recipient": w.recipient,
                    }
                    for w in directory.workers
                ],
            )
        counts = directory_counts(session)
        audit = GridDirectoryImport(
            imported_at=at,
            source=source_name,
            sha256=directory.sha256,
            streets=len(counts.streets),
            grids=counts.grids,
            workers=counts.workers,
            active_workers=counts.active,
            replaced_grids=replaced.grids,
            replaced_workers=replaced.workers,
        )
        session.add(audit)
        session.flush()
        import_id = audit.id
    session.expire_all()  # rows this session loaded before are of the replaced directory
    return ImportReport(import_id, source_name, directory.sha256, counts, replaced)


def directory_counts(session: Session) -> DirectoryCounts:
    """Grids, workers and active workers per street, by street code."""
    grids = dict(session.execute(select(GridCell.street, func.count()).group_by(GridCell.street)).all())
    workers = {
        street: (int(total), int(active or 0))
        for street, total, active in session.execute(
            select(GridCell.street, func.count(), func.sum(case((GridWorker.active, 1), else_=0)))
            .select_from(GridWorker)
            .join(GridCell, GridCell.code == GridWorker.grid)
            .group_by(GridCell.street)
        )
    }
    streets = session.execute(select(GridStreet.code, GridStreet.name).order_by(GridStreet.code))
    return DirectoryCounts(
        tuple(
            StreetCounts(code, name, int(grids.get(code, 0)), *workers.get(code, (0, 0)))
            for code, name in streets
        )
    )


def latest_import(session: Session) -> GridDirectoryImport | None:
    """The audit row of the last import, or None before the first."""
    return session.scalars(
        select(GridDirectoryImport).order_by(GridDirectoryImport.id.desc()).limit(1)
    ).first()


def grid_exists(session: Session, grid_code: str) -> bool:
    return session.get(GridCell, grid_code) is not None


def worker(session: Session, worker_id: str) -> Worker | None:
    """The grid worker ``worker_id`` (active or not), or None when the directory has no such worker."""
    found = session.execute(
        select(GridWorker, GridCell.street)
        .join(GridCell, GridCell.code == GridWorker.grid)
        .where(GridWorker.worker_id == worker_id)
    ).first()
    if found is None:
        return None
    row, street = found
    return Worker(row.worker_id, row.name, row.grid, street, row.backup_worker, row.active, row.recipient)


def worker_in_grid(session: Session, worker_id: str, grid_code: str) -> bool:
    """True when ``worker_id`` is a worker of ``grid_code`` (active or not)."""
    found = session.get(GridWorker, worker_id)
    return found is not None and found.grid == grid_code


def _assignee_query() -> Select[tuple[Any, ...]]:
    """The grid, its street, its primary worker (the first by id) and that worker's backup, in one
    statement of plain columns (the routes ask it for every license: no ORM objects to build)."""
    cells, streets = table(GridCell), table(GridStreet)
    primary, backup = table(GridWorker).alias("primary_worker"), table(GridWorker).alias("backup")
    first = select(func.min(table(GridWorker).c.worker_id)).where(table(GridWorker).c.grid == cells.c.code)
    worker_columns = ("worker_id", "name", "recipient", "active")
    return (
        select(
            cells.c.code,
            cells.c.name,
            streets.c.code,
            streets.c.name,
            *(primary.c[name] for name in worker_columns),
            *(backup.c[name] for name in worker_columns),
        )
        .join(streets, streets.c.code == cells.c.street)
        .outerjoin(primary, primary.c.worker_id == first.scalar_subquery())
        .outerjoin(backup, backup.c.worker_id == primary.c.backup_worker)
    )


_ASSIGNEE = _assignee_query().where(table(GridCell).c.code == bindparam("grid"))
_ASSIGNEES = _assignee_query().where(table(GridCell).c.code.in_(bindparam("grids", expanding=True)))
#: ``session.info`` key of the answers ``prefetch_assignees`` read for a batch: grid → Assignee | None
_PREFETCHED = "grid_check.assignees"


def assignee_for(session: Session, grid_code: str) -> Assignee | None:
    """Who receives a case of ``grid_code`` now; None for a grid the directory does not have. A grid
    ``prefetch_assignees`` read in this session is answered from there."""
    prefetched: dict[str, Assignee | None] | None = session.info.get(_PREFETCHED)
    if prefetched is not None and grid_code in prefetched:
        return prefetched[grid_code]
    found = session.execute(_ASSIGNEE, {"grid": grid_code}).first()
    return None if found is None else _assignee(found)


def prefetch_assignees(session: Session, grid_codes: Iterable[str]) -> None:
    """Read who receives the cases of ``grid_codes`` in one query, for ``assignee_for`` to answer in
    this session (a batch of events in the intake's transaction; ``replace_directory`` forgets it)."""
    prefetched: dict[str, Assignee | None] = session.info.setdefault(_PREFETCHED, {})
    wanted = sorted(set(grid_codes) - prefetched.keys())
    if not wanted:
        return
    prefetched.update(dict.fromkeys(wanted))
    for row in session.execute(_ASSIGNEES, {"grids": wanted}):
        prefetched[row[0]] = _assignee(row)


def _assignee(found: Sequence[Any]) -> Assignee:
    """The answer of one row of ``_assignee_query``."""
    grid, grid_name, street, street_name = found[:4]
    primary, backup = found[4:8], found[8:12]

    def to(level: Level, chosen: Sequence[Any] | None) -> Assignee:
        worker_id, name, recipient = chosen[:3] if chosen else (None, None, None)
        return Assignee(level, worker_id, name, recipient, grid, grid_name, street, street_name)

    if primary[0] is None:
        return to("street", None)
    if primary[3]:
        return to("grid", primary)
    if backup[0] is not None and backup[3]:
        return to("backup", backup)
    return to("street", None)
