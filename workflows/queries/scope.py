"""Department scope: which instances an operator scoped to one department may see and act on.

An instance is a department's work when its context names the department (``department``: the
notice's department, a grid task's follow-up department, a joint inspection's lead or a follow-up
case's department) or lists it (``departments``: every department of a joint inspection). The SQL
clause and the check on a loaded context say the same thing, on SQLite and PostgreSQL alike.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy import String, cast, or_
from sqlalchemy.sql.elements import ColumnElement

from workflows.errors import InstanceNotFound
from workflows.store.models import Instance


def in_department(department: str) -> ColumnElement[bool]:
    """The instances of ``department`` (a code of ``[A-Z0-9_]``: ``_`` is escaped for LIKE)."""
    quoted = '%"' + department.replace("_", "\\_") + '"%'
    return or_(
        Instance.context["department"].as_string() == department,
        cast(Instance.context["departments"], String).like(quoted, escape="\\"),
    )


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
