"""Department scope: which instances an operator scoped to one department may see and act on.

An instance is a department's work when its context names the department (``department``: the
notice's department, a grid task's follow-up department, a joint inspection's lead or a follow-up
case's department) or lists it (``departments``: every department of a joint inspection). The SQL
clause and the check on a loaded context say the same thing, on SQLite and PostgreSQL alike.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy import Boolean, String, and_, bindparam, cast, or_
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.elements import ColumnElement
from sqlalchemy.sql.expression import ColumnElement as Element
from sqlalchemy.sql.visitors import InternalTraversal

from workflows.errors import InstanceNotFound
from workflows.store.models import Instance


class _Listed(Element[bool]):
    """The instances whose ``departments`` (a joint inspection's: a list, or an object keyed by
    department) holds the department: on PostgreSQL ``?`` over the jsonb column, which the GIN index
    ``ix_instances_departments`` answers; elsewhere a LIKE over its JSON text."""

    # the department is part of the statement cache's key: its value is bound inside the compilers
    _traverse_internals = [("department", InternalTraversal.dp_string)]  # noqa: RUF012
    inherit_cache = True
    type = Boolean()

    def __init__(self, department: str) -> None:
        self.department = department


@compiles(_Listed)
def _portable(element: _Listed, compiler: SQLCompiler, **kw: object) -> str:
    quoted = '%"' + element.department.replace("_", "\\_") + '"%'
    clause = cast(Instance.departments, String).like(quoted, escape="\\")
    return f"({compiler.process(clause, **kw)})"


@compiles(_Listed, "postgresql")
def _postgres(element: _Listed, compiler: SQLCompiler, **kw: object) -> str:
    code = compiler.process(bindparam("listed_department", element.department, type_=String()), **kw)
    return f"(instances.departments ? {code})"


def in_department(department: str) -> ColumnElement[bool]:
    """The instances of ``department`` (a code of ``[A-Z0-9_]``): its context names it
    (``department``) or lists it (``departments``, a list or an object keyed by department). Both are
    facets the database keeps of the context (``workflows.store.facets``), indexed: on PostgreSQL a
    BitmapOr of ``ix_instances_department`` and ``ix_instances_departments`` can answer it, and no
    plan parses a context to decide it."""
    return or_(Instance.department == department, _Listed(department))


def halves(department: str) -> tuple[ColumnElement[bool], ColumnElement[bool]]:
    """``in_department`` as two disjoint clauses whose union it is: the instances naming the
    department, and those only listing it. A count of each half is read from one index (the first
    from ``ix_instances_department`` alone, on PostgreSQL), where the OR leads the planner to visit
    every matching row; sum the two."""
    named = Instance.department == department
    listed_only = and_(_Listed(department), or_(Instance.department.is_(None), ~named))
    return named, listed_only


def visible(context: Mapping[str, Any], department: str | None) -> bool:
    """Whether an operator of ``department`` (None: the whole district) sees an instance with
    ``context``."""
    if department is None:
        return True
    listed = context.get("departments")
    return context.get("department") == department or (
        isinstance(listed, list | dict) and department in listed
    )


def check_visible(instance_id: int, context: Mapping[str, Any], department: str | None) -> None:
    """Raise ``InstanceNotFound`` for an instance outside the operator's department: a scoped operator
    learns nothing of other departments' work, not even that it exists."""
    if not visible(context, department):
        raise InstanceNotFound(f"no instance #{instance_id}")
