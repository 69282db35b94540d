"""The double-random draw (双随机), pure and re-runnable: objects per risk stratum, officers per
department into groups, each object matched to a group — all from one SHA-256 stream (``stream``).

The candidate snapshot is frozen before the seed can be known: the eligible objects in USCC order and
the eligible officers in id order, hashed line by line (``snapshot_hash``). The seed is then
``SHA-256(revealed ‖ "|" ‖ plan id ‖ "|" ‖ snapshot hash)``, the revealed value being a public one
entered afterwards (a lottery result, a beacon round) or a secret whose hash was committed with the
snapshot. The same snapshot, plan and revealed value give the same draw in any process, on any machine.

Order of the draw, all from the one stream: each risk class in sorted order, ``quota`` objects drawn
from that stratum's candidates (in USCC order) by ``sample``; then each department in sorted order,
``groups × per_department`` officers drawn from its officers (in id order), the ``t``-th drawn going to
group ``t mod groups``; then each object, in draw order, to the least-loaded group none of whose officers
is recused from it (the object on the officer's conflict list, or the officer among its last
inspectors), ties to the lowest group number. Loads must end within one of each other.
"""

from __future__ import annotations

import bisect
import hashlib
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import overload

from workflows.errors import BadInput
from workflows.flows.joint_inspection.stream import Stream, sample

ALGORITHM = "yunshang-draw/1"


class Infeasible(BadInput):
    """The plan cannot be drawn as it stands; the message names what is short. Nothing is drawn."""

    code = "infeasible_plan"


@dataclass(frozen=True, slots=True)
class Candidate:
    """An object that may be drawn (slots: 5,000,000 of them are read in the hash and the strata)."""

    uscc: str
    risk_class: str
    last_inspectors: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Officer:
    officer_id: str
    department: str
    conflicts: frozenset[str] = frozenset()

    def line(self) -> str:
        return f"{self.officer_id}\t{self.department}\t{';'.join(sorted(self.conflicts))}\n"


@dataclass(frozen=True)
class DrawPlan:
    plan_id: str
    departments: tuple[str, ...]
    quotas: Mapping[str, int]
    """Objects to draw per risk class."""
    per_department: int = 2
    groups: int = 1


class ObjectLines(Sequence[Candidate]):
    """Objects held as their hashed lines (``uscc TAB risk_class TAB inspectors`` and a newline, in USCC
    order), each parsed into a ``Candidate`` only when read: a draw reads 190 of 75,000."""

    def __init__(self, lines: list[str]) -> None:
        self.lines = lines

    @classmethod
    def of_text(cls, text: str) -> ObjectLines:
        return cls(text.splitlines(keepends=True))

    def __len__(self) -> int:
        return len(self.lines)

    @overload
    def __getitem__(self, index: int) -> Candidate: ...
    @overload
    def __getitem__(self, index: slice) -> ObjectLines: ...
    def __getitem__(self, index: int | slice) -> Candidate | ObjectLines:
        if isinstance(index, slice):
            return ObjectLines(self.lines[index])
        uscc, risk_class, inspectors = self.lines[index].rstrip("\n").split("\t")
        return Candidate(uscc, risk_class, tuple(inspectors.split(";")) if inspectors else ())

    def text(self) -> str:
        return "".join(self.lines)

    def by_class(self) -> dict[str, Sequence[Candidate]]:
        strata: dict[str, list[str]] = {}
        for line in self.lines:
            strata.setdefault(line.split("\t", 2)[1], []).append(line)
        return {risk_class: ObjectLines(lines) for risk_class, lines in strata.items()}


@dataclass
class Snapshot:
    """The frozen candidates: objects in USCC order, officers in id order, and their hashes.
    ``objects_text`` is the objects' hashed text (``object_chunks``) when the caller has it already."""

    objects: Sequence[Candidate]
    officers: Sequence[Officer]
    objects_text: str | None = field(default=None, repr=False)
    objects_sha256: str = field(init=False)
    officers_sha256: str = field(init=False)
    _strata: dict[str, Sequence[Candidate]] | None = field(default=None, init=False, repr=False)

    def __post_init__(self) -> None:
        if self.objects_text is None and isinstance(self.objects, ObjectLines):
            self.objects_text = self.objects.text()
        if self.objects_text is None:
            self.objects_sha256 = _objects_hash(self.objects)
        else:
            self.objects_sha256 = hashlib.sha256(self.objects_text.encode()).hexdigest()
        self.officers_sha256 = _lines_hash(o.line() for o in self.officers)

    @property
    def hash(self) -> str:
        return hashlib.sha256(
            f"{ALGORITHM}|{self.objects_sha256}|{self.officers_sha256}".encode()
        ).hexdigest()

    def by_class(self) -> dict[str, Sequence[Candidate]]:
        """The candidates of each risk class, in USCC order (built once)."""
        if self._strata is None:
            if isinstance(self.objects, ObjectLines):
                self._strata = self.objects.by_class()
            else:
                strata: dict[str, list[Candidate]] = {}
                for o in self.objects:
                    strata.setdefault(o.risk_class, []).append(o)
                self._strata = dict(strata)
        return self._strata

    def find(self, uscc: str) -> Candidate | None:
        """The object ``uscc`` of the snapshot (a binary search: the objects are in USCC order)."""
        if isinstance(self.objects, ObjectLines):
            lines = self.objects.lines
            i = bisect.bisect_left(lines, f"{uscc}\t")
            return self.objects[i] if i < len(lines) and lines[i].startswith(f"{uscc}\t") else None
        i = bisect.bisect_left(self.objects, uscc, key=lambda o: o.uscc)
        return self.objects[i] if i < len(self.objects) and self.objects[i].uscc == uscc else None


@dataclass(frozen=True)
class Drawn:
    objects: list[tuple[str, str, int]]
    """(USCC, risk class, group) in draw order."""
    groups: list[list[str]]
    """Officer ids of each group, in draw order."""
    stream_words: int


def _objects_hash(objects: Sequence[Candidate]) -> str:
    digest = hashlib.sha256()
    for text in object_chunks(objects):
        digest.update(text.encode())
    return digest.hexdigest()


def object_chunks(objects: Sequence[Candidate], chunk: int = 65536) -> Iterator[str]:
    """The hashed text of the objects, a chunk at a time: a line per object, ``uscc TAB risk_class TAB
    sorted last inspectors joined by ;`` and a newline (no method call per object: 5,000,000 of them)."""
    for start in range(0, len(objects), chunk):
        yield "".join(
            [
                f"{o.uscc}\t{o.risk_class}\t{_inspectors(o)}\n"
                if o.last_inspectors
                else f"{o.uscc}\t{o.risk_class}\t\n"
                for o in objects[start : start + chunk]
            ]
        )


def officers_of_text(text: str) -> list[Officer]:
    """The officers of their hashed text (``Officer.line``), in its order."""
    out = []
    for line in text.splitlines():
        officer_id, department, conflicts = line.split("\t")
        out.append(
            Officer(officer_id, department, frozenset(conflicts.split(";")) if conflicts else frozenset())
        )
    return out


def _inspectors(o: Candidate) -> str:
    return ";".join(sorted(o.last_inspectors))


def _lines_hash(lines: Iterable[str], chunk: int = 4096) -> str:
    digest, batch = hashlib.sha256(), []
    for line in lines:
        batch.append(line)
        if len(batch) >= chunk:
            digest.update("".join(batch).encode())
            batch.clear()
    digest.update("".join(batch).encode())
    return digest.hexdigest()


def seed_of(revealed: str, plan_id: str, snapshot_hash: str) -> bytes:
    return hashlib.sha256(f"{revealed}|{plan_id}|{snapshot_hash}".encode()).digest()


def check_feasible(plan: DrawPlan, snapshot: Snapshot) -> None:
    """Refuse, naming every shortfall, a plan that cannot be drawn."""
    problems = []
    if plan.per_department < 2:
        problems.append(f"officers per department: {plan.per_department}; at least 2 (行政处罚法 §42)")
    if plan.groups < 1:
        problems.append(f"groups: {plan.groups}; at least 1")
    strata = snapshot.by_class()
    if not snapshot.objects:
        problems.append("objects: no candidate is left (every object is excluded or filtered out)")
    for risk_class, quota in sorted(plan.quotas.items()):
        size = len(strata.get(risk_class, []))
        if quota > size:
            problems.append(f"quotas.{risk_class}: {quota} to draw, but the stratum has {size} candidates")
    if sum(plan.quotas.values()) == 0 and snapshot.objects:
        problems.append("quotas: nothing to draw")
    for department in sorted(plan.departments):
        have = sum(1 for o in snapshot.officers if o.department == department)
        need = plan.groups * plan.per_department
        if have < need:
            problems.append(
                f"officers of {department}: {have} active, but {plan.groups} groups × {plan.per_department} "
                f"need {need}"
            )
    if problems:
        raise Infeasible("the plan cannot be drawn: " + "; ".join(problems))


def draw(plan: DrawPlan, snapshot: Snapshot, seed: bytes) -> Drawn:
    """The draw of ``plan`` over ``snapshot`` with ``seed`` (module docstring); raises Infeasible."""
    check_feasible(plan, snapshot)
    stream = Stream(seed)
    strata = snapshot.by_class()
    chosen: list[Candidate] = []
    for risk_class in sorted(plan.quotas):
        stratum = strata.get(risk_class, [])
        chosen += [stratum[i] for i in sample(stream, len(stratum), plan.quotas[risk_class])]
    groups: list[list[Officer]] = [[] for _ in range(plan.groups)]
    for department in sorted(plan.departments):
        pool = [o for o in snapshot.officers if o.department == department]
        picked = sample(stream, len(pool), plan.groups * plan.per_department)
        for t, index in enumerate(picked):
            groups[t % plan.groups].append(pool[index])
    loads = [0] * plan.groups
    placed: list[tuple[str, str, int]] = []
    for obj in chosen:
        free = [g for g, members in enumerate(groups) if not any(recused(o, obj) for o in members)]
        if not free:
            raise Infeasible(f"object {obj.uscc}: every group holds an officer recused from it (回避)")
        g = min(free, key=lambda i: (loads[i], i))
        loads[g] += 1
        placed.append((obj.uscc, obj.risk_class, g))
    if loads and max(loads) - min(loads) > 1:
        raise Infeasible(f"recusal leaves the group loads {loads} more than one apart; draw more groups")
    return Drawn(placed, [[o.officer_id for o in members] for members in groups], stream.words)


def recused(officer: Officer, obj: Candidate) -> bool:
    return obj.uscc in officer.conflicts or officer.officer_id in obj.last_inspectors
