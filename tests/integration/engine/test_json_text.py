"""Contexts reach the database as UTF-8 JSON text (a Chinese character is 3 bytes, not a 6-byte
``\\uXXXX`` escape), on both stacks; a text UTF-8 cannot carry (a lone surrogate) keeps its escapes
(PostgreSQL refuses such a ``json`` value either way)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import String, cast, select

from tests.support import Stack
from workflows.engine.commands import Cause
from workflows.store.jsontext import utf8_json
from workflows.store.models import Instance


def test_contexts_are_stored_as_utf8_text_and_read_back_unchanged(stack: Stack) -> None:
    contexts = [{"name": "青岛崂山云商药房", "street": "中韩"}, {"name": "ASCII only", "department": "WJJ"}]
    ids = []
    with stack.runtime.transaction() as session:
        for n, context in enumerate(contexts):
            outcome = stack.runtime.engine.start(
                session, "toy", f"utf8-{n}", subject=None, context=context, cause=Cause(kind="system")
            )
            ids.append(outcome.instance_id)
    with stack.runtime.db.read() as session:
        rows = session.execute(
            select(
                Instance.context,
                cast(Instance.context, String).label("text"),
                Instance.street,
                Instance.department,
            )
            .where(Instance.id.in_(ids))
            .order_by(Instance.id)
        ).all()
    (chinese, chinese_text, street, _), (plain, _, _, department) = rows
    assert chinese == contexts[0] and plain == contexts[1]
    assert "青岛崂山云商药房" in chinese_text and "\\u" not in chinese_text
    assert (street, department) == ("中韩", "WJJ")  # the facets read the UTF-8 text alike


def test_utf8_json_falls_back_to_the_standard_library_only_where_orjson_refuses() -> None:
    assert utf8_json({"a": "崂山", 1: [1.5, None, True]}) == '{"a":"崂山","1":[1.5,null,true]}'
    assert utf8_json({"a": "崂山\udc00"}) == '{"a":"\\u5d02\\u5c71\\udc00"}'  # UTF-8 cannot carry it
    assert utf8_json([2**70]) == f"[{2**70}]"  # beyond 64 bits
    at = datetime(2026, 12, 4, 10, 30, tzinfo=UTC)
    assert utf8_json({"at": at}, default=lambda v: v.isoformat()) == '{"at":"2026-12-04T10:30:00+00:00"}'
    with pytest.raises(TypeError):  # a datetime with no default: refused, as the standard library does
        utf8_json({"at": at})
    with pytest.raises(TypeError):
        utf8_json({"x": object()})
