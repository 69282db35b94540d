"""An instance's facets: the parts of its context that the dashboard filters, scopes and counts by,
kept by the database itself as generated columns of ``instances`` (migration 0015).

- ``department``: the context's ``department`` (a notice's department, a grid task's follow-up
  department, a joint inspection's lead, a follow-up case's department);
- ``departments``: the context's ``departments`` (every department of a joint inspection: a list, or
  an object keyed by department), ``jsonb`` on PostgreSQL so that ``?`` asks it through a GIN index;
- ``street``: the context's ``street``;
- ``name``: the context's ``name`` (the enterprise's: the list's name search, through a trigram index
  on PostgreSQL — migration 0016);
- ``escalation_level``: the highest escalation kind the context records in ``escalations`` (each flow
  appends ``{"kind": "warning" | "overdue" | "supervision", …}`` as its ladder climbs), ``none``
  without one.

Generated columns are computed on every write of the row, whoever writes it (the engine's ORM path,
its PostgreSQL statements, a migration, a benchmark's ``INSERT … SELECT``), so they can never disagree
with the context, and no flow needs to know of them. On PostgreSQL they are ``STORED`` (the overview
reads them from an index alone); on SQLite ``VIRTUAL`` (computed when read, indexable), with the
``->``/``->>`` operators of SQLite 3.38 and later.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import JSON, text
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.elements import ColumnElement, TextClause

#: escalation kinds from the highest down (the first one a case records is its level)
LEVELS = ("supervision", "overdue", "warning")
NO_LEVEL = "none"

DEPARTMENT_SQL = "context ->> 'department'"
STREET_SQL = "context ->> 'street'"
NAME_SQL = "context ->> 'name'"
#: the level; guarded by a LIKE over the context's text (free: ``json`` is text), so that the common
#: context without ``escalations`` is not parsed (each ``->`` of a ``json`` value parses it anew:
#: ~4 µs a time here, ~0.5 µs for the LIKE)
LEVEL_SQL = (
    "CASE WHEN CAST(context AS TEXT) NOT LIKE '%\"escalations\"%' THEN 'none' "
    + " ".join(f"WHEN CAST(context -> 'escalations' AS TEXT) LIKE '%\"{k}\"%' THEN '{k}'" for k in LEVELS)
    + f" ELSE '{NO_LEVEL}' END"
)
#: the ``departments`` expression per dialect (PostgreSQL: jsonb, for ``?`` and the GIN index)
#: (guarded as the level is: most contexts have no ``departments``)
_LISTED = "CAST(context AS TEXT) LIKE '%\"departments\"%'"
DEPARTMENTS_SQL = {
    "postgresql": f"CASE WHEN {_LISTED} THEN CAST((context -> 'departments') AS JSONB) END",
    "sqlite": f"CASE WHEN {_LISTED} THEN context -> 'departments' END",
}


def department() -> TextClause:
    return text(DEPARTMENT_SQL)


def street() -> TextClause:
    return text(STREET_SQL)


def name() -> TextClause:
    return text(NAME_SQL)


def escalation_level() -> TextClause:
    return text(LEVEL_SQL)


class _Departments(ColumnElement[Any]):
    """``departments``' generation expression, compiled per dialect."""

    inherit_cache = True
    type = JSON()


@compiles(_Departments)
def _departments_sqlite(element: _Departments, compiler: SQLCompiler, **kw: object) -> str:
    return DEPARTMENTS_SQL["sqlite"]


@compiles(_Departments, "postgresql")
def _departments_postgres(element: _Departments, compiler: SQLCompiler, **kw: object) -> str:
    return DEPARTMENTS_SQL["postgresql"]


def departments() -> ColumnElement[Any]:
    return _Departments()
