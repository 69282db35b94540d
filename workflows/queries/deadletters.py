"""Which instance a dead letter was for: the dashboard lists it beside the message, and a bulk requeue
finds an instance's dead letters by it.

An engine message carries one command or a batch of them (``engine.rows.commands_in``); a command names
its instance by id or by (flow, business key) — the latter may be an instance that did not exist yet
when the message died (a command that overtook its case) and exists now. A delivery's message names
``instance_id`` in its body. Anything else is for no instance (None).
"""

from __future__ import annotations

from collections.abc import Collection, Iterable
from typing import Any

from sqlalchemy import select, tuple_

from workflows.engine.rows import commands_in
from workflows.messaging.deadletters import DeadLetterView
from workflows.store.db import Database
from workflows.store.models import Instance

#: (flow, business key) of a command that names its instance by key
Key = tuple[str, str]


def _body(dead: DeadLetterView) -> dict[str, Any]:
    args = dead.message.get("args") or []
    first = args[0] if args else {}
    return first if isinstance(first, dict) else {}


def _targets(dead: DeadLetterView) -> tuple[set[int], set[Key]]:
    ids: set[int] = set()
    keys: set[Key] = set()
    body = _body(dead)
    commands = commands_in(body) if "flow" in body or "commands" in body else []
    for command in commands:
        if not isinstance(command, dict):
            continue
        if isinstance(command.get("instance_id"), int):
            ids.add(command["instance_id"])
        elif isinstance(command.get("flow"), str) and isinstance(command.get("business_key"), str):
            keys.add((command["flow"], command["business_key"]))
    if not commands and isinstance(body.get("instance_id"), int):
        ids.add(body["instance_id"])
    return ids, keys


def instances_of(db: Database, letters: Iterable[DeadLetterView]) -> dict[int, list[int]]:
    """For each dead letter (by id), the instances its message was for (ids, in order; may be empty)."""
    letters = list(letters)
    wanted = {dead.id: _targets(dead) for dead in letters}
    keys = {key for _, found in wanted.values() for key in found}
    known: dict[Key, int] = {}
    if keys:
        query = select(Instance.flow, Instance.business_key, Instance.id).where(
            tuple_(Instance.flow, Instance.business_key).in_(sorted(keys))
        )
        with db.read() as session:
            known = {(flow, key): iid for flow, key, iid in session.execute(query)}
    return {
        dead_id: sorted(ids | {known[key] for key in found if key in known})
        for dead_id, (ids, found) in wanted.items()
    }


def dead_letters_for(
    db: Database, letters: Iterable[DeadLetterView], instance_ids: Collection[int]
) -> dict[int, list[DeadLetterView]]:
    """The waiting dead letters (of ``letters``) of each instance in ``instance_ids``."""
    letters = [dead for dead in letters if dead.requeued_at is None]
    targets = instances_of(db, letters)
    chosen = set(instance_ids)
    found: dict[int, list[DeadLetterView]] = {}
    for dead in letters:
        for iid in targets[dead.id]:
            if iid in chosen:
                found.setdefault(iid, []).append(dead)
    return found
