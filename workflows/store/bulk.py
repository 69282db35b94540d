"""Many rows into one table in one statement.

On PostgreSQL the rows travel as ONE JSON array parameter (``INSERT … SELECT … FROM
json_to_recordset(:rows)``): the statement text is the same whatever the number of rows, so it is
built, parsed and prepared once. A multi-row ``VALUES`` list (SQLAlchemy's insertmanyvalues) is a new
statement text for every batch size, which the driver parses again on every call — for a batch of a
hundred rows that parse cost more than the INSERT. Elsewhere (SQLite, in-process) the rows go through
``executemany`` of the table's own INSERT.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import datetime
from functools import lru_cache
from typing import Any

from sqlalchemy import Connection, Table, TextClause, insert, text
from sqlalchemy.dialects import postgresql, sqlite

_PG = postgresql.dialect()  # type: ignore[no-untyped-call]


def _iso(value: Any) -> str:
    if isinstance(value, datetime):
        return value.isoformat()
    raise TypeError(f"{type(value).__name__} is not JSON serialisable")


def json_rows(rows: Sequence[dict[str, Any]]) -> str:
    """Rows as one JSON array (datetimes as ISO 8601 with their offset)."""
    return json.dumps(list(rows), default=_iso)


@lru_cache(maxsize=64)
def _statement(
    table: Table, columns: tuple[str, ...], conflict: tuple[str, ...], returning: str
) -> TextClause:
    names = ", ".join(f'"{c}"' for c in columns)
    types = ", ".join(f'"{c}" {table.c[c].type.compile(dialect=_PG)}' for c in columns)
    sql = (
        f'INSERT INTO "{table.name}" ({names}) '
        f"SELECT {names} FROM json_to_recordset(CAST(:rows AS json)) AS x({types})"
    )
    if conflict:
        sql += f" ON CONFLICT ({', '.join(conflict)}) DO NOTHING"
    if returning:
        sql += f' RETURNING "{returning}"'
    return text(sql)


def insert_rows(
    conn: Connection,
    table: Table,
    rows: Sequence[dict[str, Any]],
    *,
    skip_conflicts_on: tuple[str, ...] = (),
    returning: str = "",
) -> list[Any]:
    """Insert ``rows`` (dicts with the same keys) in one statement; rows whose ``skip_conflicts_on``
    columns collide with an existing row are skipped. Returns the ``returning`` column of the rows
    inserted (empty without ``returning``)."""
    if not rows:
        return []
    columns = tuple(rows[0])
    if conn.dialect.name == "postgresql":
        prepared = _statement(table, columns, skip_conflicts_on, returning)
        result = conn.execute(prepared, {"rows": json_rows(rows)})
        return list(result.scalars()) if returning else []
    statement: Any = insert(table)
    if skip_conflicts_on and conn.dialect.name == "sqlite":
        statement = sqlite.insert(table).on_conflict_do_nothing(index_elements=list(skip_conflicts_on))
    if returning:
        return list(conn.execute(statement.returning(table.c[returning]), list(rows)).scalars())
    conn.execute(statement, list(rows))
    return []
