"""The grid directory (网格目录) in the database: streets, their grids, the grid workers, and an audit
row per import.

The whole directory is replaced by each import (``directory.replace_directory``); the grid first check
routes a case by its grid code to the grid's worker. Codes are the stable identifiers of
``rules/organisation.yaml`` (street ``ZHONGHAN``, grid ``ZH-001``); names may change between imports.
A worker's backup is a worker id of the same directory, checked when the file is read (no foreign key,
so one import can insert workers in any order).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from workflows.store.models import Base, Id, UtcDateTime

#: column widths, checked by the parser so that SQLite and PostgreSQL refuse the same files
CODE_LENGTH = 32
NAME_LENGTH = 100
WORKER_ID_LENGTH = 64
RECIPIENT_LENGTH = 200


class GridStreet(Base):
    """A street office (街道) that has grids."""

    __tablename__ = "grid_streets"

    code: Mapped[str] = mapped_column(String(CODE_LENGTH), primary_key=True)
    name: Mapped[str] = mapped_column(String(NAME_LENGTH))


class GridCell(Base):
    """One grid (网格) of a street."""

    __tablename__ = "grid_cells"
    __table_args__ = (Index("ix_grid_cells_street", "street"),)

    code: Mapped[str] = mapped_column(String(CODE_LENGTH), primary_key=True)
    name: Mapped[str] = mapped_column(String(NAME_LENGTH))
    street: Mapped[str] = mapped_column(ForeignKey("grid_streets.code"))


class GridWorker(Base):
    """A full-time grid worker (专职网格员) of one grid; ``recipient`` is the app's recipient id."""

    __tablename__ = "grid_workers"
    __table_args__ = (Index("ix_grid_workers_grid", "grid", "worker_id"),)

    worker_id: Mapped[str] = mapped_column(String(WORKER_ID_LENGTH), primary_key=True)
    name: Mapped[str] = mapped_column(String(NAME_LENGTH))
    grid: Mapped[str] = mapped_column(ForeignKey("grid_cells.code"))
    backup_worker: Mapped[str | None] = mapped_column(String(WORKER_ID_LENGTH))
    active: Mapped[bool] = mapped_column(Boolean)
    recipient: Mapped[str] = mapped_column(String(RECIPIENT_LENGTH))


class GridDirectoryImport(Base):
    """The audit of one import: which file (name and SHA-256), when, what it held and replaced."""

    __tablename__ = "grid_directory_imports"

    id: Mapped[int] = mapped_column(Id, primary_key=True, autoincrement=True)
    imported_at: Mapped[datetime] = mapped_column(UtcDateTime)
    source: Mapped[str] = mapped_column(String(300))
    sha256: Mapped[str] = mapped_column(String(64))
    streets: Mapped[int] = mapped_column(Integer)
    grids: Mapped[int] = mapped_column(Integer)
    workers: Mapped[int] = mapped_column(Integer)
    active_workers: Mapped[int] = mapped_column(Integer)
    replaced_grids: Mapped[int] = mapped_column(Integer)
    replaced_workers: Mapped[int] = mapped_column(Integer)
