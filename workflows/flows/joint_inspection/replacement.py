"""Replacing a drawn officer (sick, recused late) from the draw's own stream, so that the replacement is
as re-runnable as the draw.

The ``n``-th replacement of a draw continues the stream where the draw (or the replacement before it)
stopped: ``Stream(seed, skip=position)``, ``position`` starting at the result's ``stream_words``. Its pool
is the snapshot's officers of the same department, in id order, leaving out those now in any group, those
replaced out before, and those recused from any object of the group (the object on their conflict list,
or the officer among its last inspectors); one index is drawn with ``sample``. Each replacement is
recorded in the receipt (``replacements``) with the stream positions it used; ``replay`` re-runs them in
order and says what differs.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from workflows.flows.joint_inspection.draw import Candidate, Infeasible, Snapshot, recused
from workflows.flows.joint_inspection.stream import Stream, sample


@dataclass(frozen=True)
class Replacement:
    group: int
    department: str
    officer: str
    """The officer replaced (out)."""
    replacement: str
    """The officer drawn in."""
    stream_from: int
    stream_to: int

    def as_json(self) -> dict[str, Any]:
        return {
            "group": self.group,
            "department": self.department,
            "officer": self.officer,
            "replacement": self.replacement,
            "stream_from": self.stream_from,
            "stream_to": self.stream_to,
        }


def current_groups(receipt: Mapping[str, Any]) -> list[list[str]]:
    """The officer ids of each group after the receipt's replacements, in order."""
    groups = [list(members) for members in receipt["result"]["groups"]]
    for done in receipt.get("replacements", []):
        members = groups[int(done["group"])]
        members[members.index(str(done["officer"]))] = str(done["replacement"])
    return groups


def stream_position(receipt: Mapping[str, Any]) -> int:
    """Where the next replacement starts reading the stream."""
    done = receipt.get("replacements", [])
    return int(done[-1]["stream_to"]) if done else int(receipt["result"]["stream_words"])


def replace_officer(receipt: Mapping[str, Any], snapshot: Snapshot, seed: bytes, officer: str) -> Replacement:
    """Draw the replacement of ``officer`` (now in a group of the receipt); raises Infeasible when the
    officer is in no group or the department has nobody left to draw."""
    groups = current_groups(receipt)
    where = [g for g, members in enumerate(groups) if officer in members]
    if not where:
        raise Infeasible(f"officer: {officer} is in no group of this draw")
    group = where[0]
    by_id = {o.officer_id: o for o in snapshot.officers}
    department = by_id[officer].department
    objects = _objects_of(receipt, snapshot, group)
    taken = {o for members in groups for o in members}
    out = {str(done["officer"]) for done in receipt.get("replacements", [])} | {officer}
    pool = [
        o
        for o in snapshot.officers
        if o.department == department
        and o.officer_id not in taken
        and o.officer_id not in out
        and not any(recused(o, obj) for obj in objects)
    ]
    if not pool:
        raise Infeasible(
            f"officer: no officer of {department} is left to replace {officer} in group {group} "
            "(every other one is drawn, replaced out or recused from an object of the group)"
        )
    start = stream_position(receipt)
    stream = Stream(seed, skip=start)
    [index] = sample(stream, len(pool), 1)
    return Replacement(group, department, officer, pool[index].officer_id, start, stream.words)


def replay(receipt: Mapping[str, Any], snapshot: Snapshot, seed: bytes) -> list[str]:
    """What differs between the receipt's replacements and a re-run of them (empty: they verify)."""
    differs: list[str] = []
    done: list[dict[str, Any]] = list(receipt.get("replacements", []))
    for n, recorded in enumerate(done):
        before = {**receipt, "replacements": done[:n]}
        try:
            rerun = replace_officer(before, snapshot, seed, str(recorded.get("officer"))).as_json()
        except Infeasible as exc:
            differs.append(f"replacements[{n}]: the re-run fails: {exc}")
            break
        for key, value in rerun.items():
            if recorded.get(key) != value:
                had = recorded.get(key)
                differs.append(f"replacements[{n}].{key}: the receipt has {had!r}, a re-run gives {value!r}")
    return differs


def _objects_of(receipt: Mapping[str, Any], snapshot: Snapshot, group: int) -> Sequence[Candidate]:
    found = (snapshot.find(str(o["uscc"])) for o in receipt["result"]["objects"] if int(o["group"]) == group)
    return [o for o in found if o is not None]
