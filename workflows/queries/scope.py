"""Department scope: which instances an operator scoped to one department may see and act on.

An instance is a department's work when its context names the department (``department``: the
notice's department, a grid task's follow-up department, a joint inspection's lead or a follow-up
case's department) or lists it (``departments``: every department of a joint inspection). The SQL
clause and the check on a loaded context say the same thing, on SQLite and PostgreSQL alike.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy import Boolean, String, bindparam, cast, or_
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.elements import ColumnElement
from sqlalchemy.sql.expression import ColumnElement as Element
from sqlalchemy.sql.visitors import InternalTraversal

from workflows.errors import InstanceNotFound
from workflows.store.models import Instance


class _InDepartment(Element[bool]):
    """``in_department``'s clause: on PostgreSQL in the very expressions of the indexes
    ``ix_instances_department`` (btree) and ``ix_instances_departments`` (GIN over jsonb), so that a
    scoped operator's list is a BitmapOr of two index scans, not a scan of every instance."""

    # the department is part of the statement cache's key: its value is bound inside the compilers
    _traverse_internals = [("department", InternalTraversal.dp_string)]  # noqa: RUF012
    inherit_cache = True
    type = Boolean()

    def __init__(self, department: str) -> None:
        self.department = department


@compiles(_InDepartment)
def _portable(element: _InDepartment, compiler: SQLCompiler, **kw: object) -> str:
    quoted = '%"' + element.department.replace("_", "\\_") + '"%'
    clause = or_(
        Instance.context["department"].as_string() == element.department,
        cast(Instance.context["departments"], String).like(quoted, escape="\\"),
    )
    return f"({compiler.process(clause, **kw)})"


@compiles(_InDepartment, "postgresql")
def _postgres(element: _InDepartment, compiler: SQLCompiler, **kw: object) -> str:
    code = compiler.process(bindparam("scope_department", element.department, type_=String()), **kw)
    return (
        f"((instances.context ->> 'department') = {code}"
        f" OR CAST((instances.context -> 'departments') AS JSONB) ? {code})"
    )


def in_department(department: str) -> ColumnElement[bool]:
    """The instances of ``department`` (a code of ``[A-Z0-9_]``): its context names it
    (``department``) or lists it (``departments``, a list or an object keyed by department)."""
    return _InDepartment(department)


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
