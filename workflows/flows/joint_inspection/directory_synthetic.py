"""A synthetic Laoshan (崂山区) for the joint inspection: 75,000 inspection objects and 800 officers.

Objects spread over the five streets and their grids (the grid directory's codes ``ZH-001`` …, the
urban 中韩 and 金家岭 holding the most), enterprises (91…), individual businesses (92…, more of them in
the rural streets) and cooperatives (93…) with valid USCCs of division 370212, GB/T 4754 industries,
risk classes A 40 %, B 35 %, C 20 %, D 5 % (sampling.yaml's), and a third of them inspected in the
three years before 2026-11-30 — about one object in nine within the last twelve months — by two officers
of the department leading that industry's inspections, with a result. Officers: 800 over
organisation.yaml's 17 departments (market supervision and its sections the most; ids ``SCJG-0001``,
certificate numbers ``370212`` + department + number), about 4 % inactive but every department keeping
at least 4 active, and 3 % with a conflict list of one or two of the objects.

Generated on demand, the same bytes for the same seed on any Python (``random.Random.random`` is the
one thing its documentation promises never to change, and the only one used):
``write_synthetic_objects(path)``, ``write_synthetic_officers(path)`` or ``yunshang directory
synthetic objects|officers --out FILE`` (75,000 objects are about 10 MB of CSV: not shipped).
"""

from __future__ import annotations

import csv
import random
from bisect import bisect_right
from collections.abc import Iterable, Iterator, Sequence
from datetime import timedelta
from functools import cache
from pathlib import Path
from typing import Generic, TypeVar

from workflows import uscc
from workflows.flows.joint_inspection import directory_synthetic_data as data
from workflows.flows.joint_inspection.directory_parse import OBJECTS_HEADER, OFFICERS_HEADER

SEED = 370212
OBJECTS = 75_000
T = TypeVar("T")


class Dice:
    """Choices from ``random.Random(seed).random()`` alone."""

    def __init__(self, seed: int | str) -> None:
        self._random = random.Random(seed).random

    def below(self, n: int) -> int:
        return min(int(self._random() * n), n - 1)

    def pick(self, items: Sequence[T]) -> T:
        return items[self.below(len(items))]

    def chance(self, p: float) -> bool:
        return self._random() < p

    def weighted(self, table: Weighted[T]) -> T:
        index = bisect_right(table.bounds, self._random() * table.total)
        return table.items[min(index, len(table.items) - 1)]


class Weighted(Generic[T]):
    """Items with their weights, ready to be drawn from (``Dice.weighted``)."""

    def __init__(self, pairs: Iterable[tuple[T, float]]) -> None:
        self.items: list[T] = []
        self.bounds: list[float] = []
        self.total = 0.0
        for item, weight in pairs:
            self.total += weight
            self.items.append(item)
            self.bounds.append(self.total)


@cache
def officer_ids(department: str) -> tuple[str, ...]:
    """The synthetic officers' ids of ``department`` (``SCJG-0001`` …)."""
    count = next(n for code, n, _ in data.DEPARTMENTS if code == department)
    return tuple(f"{department}-{n:04d}" for n in range(1, count + 1))


def _name(dice: Dice) -> str:
    given = "".join(dice.pick(data.GIVEN) for _ in range(dice.pick((1, 2, 2, 2))))
    return dice.pick(data.SURNAMES) + given


def _brand(dice: Dice) -> str:
    return dice.pick(data.BRANDS) + dice.pick(data.BRANDS)


def synthetic_objects(n: int = OBJECTS, seed: int = SEED) -> Iterator[tuple[str, ...]]:
    """The rows of the synthetic objects file (without the header), in no particular order."""
    dice = Dice(seed)
    streets = Weighted(((code, prefix, grids), share) for code, prefix, grids, share in data.STREETS)
    industries = Weighted(((code, word, lead), float(w)) for code, word, w, lead in data.INDUSTRIES)
    types = {
        rural: Weighted(((kind, c), country if rural else town) for kind, c, town, country in data.TYPES)
        for rural in (False, True)
    }
    results, classes = Weighted(data.RESULT_SHARES), Weighted(data.RISK_SHARES)
    assessed = Weighted(data.RISK_DAYS)
    seen: set[str] = set()
    for _ in range(n):
        street, prefix, grids = dice.weighted(streets)
        kind, entity = dice.weighted(types[street in data.RURAL])
        code = ""
        while not code or code in seen:
            code = uscc.make(f"9{entity}370212MA" + "".join(dice.pick(uscc.ALPHABET) for _ in range(7)))
        seen.add(code)
        brand = _brand(dice)
        if kind == "cooperative":
            industry, goods = dice.pick(data.COOPERATIVE_GOODS)
            name, lead = f"青岛市崂山区{brand}{goods}专业合作社", "SCJG_SP"
        else:
            industry, word, lead = dice.weighted(industries)
            if kind == "enterprise":
                name = f"青岛{brand}{word}有限公司"
            else:
                name = f"崂山区{brand}{word}{dice.pick(data.SHOPS)}"
        inspected = result = inspectors = ""
        if dice.chance(data.INSPECTED_SHARE):
            ago = 1 + dice.below(365 * data.INSPECTION_YEARS)
            inspected = (data.REFERENCE_DAY - timedelta(days=ago)).isoformat()
            result = dice.weighted(results)
            pool = officer_ids(lead)
            first = dice.below(len(pool))
            second = (first + 1 + dice.below(len(pool) - 1)) % len(pool)
            inspectors = f"{pool[first]};{pool[second]}"
        yield (
            code,
            name,
            kind,
            industry,
            street,
            f"{prefix}-{1 + dice.below(grids):03d}",
            dice.weighted(classes),
            dice.weighted(assessed).isoformat(),
            inspected,
            result,
            inspectors,
        )


def synthetic_officers(seed: int = SEED, objects: int = OBJECTS) -> Iterator[tuple[str, ...]]:
    """The rows of the synthetic officers file (without the header), by department then number; the
    conflict lists name objects of ``synthetic_objects(objects, seed)``."""
    dice = Dice(f"{seed}/officers")
    usccs = [row[0] for row in synthetic_objects(objects, seed)]
    for index, (department, count, fields) in enumerate(data.DEPARTMENTS, start=1):
        area = "3702" + ("00" if department in data.CITY else "12")
        inactive = 0
        for number, officer in enumerate(officer_ids(department), start=1):
            active = count - inactive <= data.MIN_ACTIVE or not dice.chance(data.INACTIVE_SHARE)
            inactive += not active
            chosen = sorted({dice.pick(fields) for _ in range(1 + dice.below(3))}, key=fields.index)
            conflicts = ""
            if usccs and dice.chance(data.CONFLICT_SHARE):
                conflicts = ";".join(sorted({dice.pick(usccs) for _ in range(1 + dice.below(2))}))
            yield (
                officer,
                _name(dice),
                department,
                f"{area}{index:02d}{number:04d}",
                ";".join(chosen),
                "true" if active else "false",
                conflicts,
            )


def _write(path: Path, header: Sequence[str], rows: Iterator[tuple[str, ...]]) -> int:
    path.parent.mkdir(parents=True, exist_ok=True)
    written = 0
    with path.open("w", encoding="utf-8", newline="") as out:
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(header)
        for row in rows:
            writer.writerow(row)
            written += 1
    return written


def write_synthetic_objects(path: Path, n: int = OBJECTS, seed: int = SEED) -> int:
    """Write ``n`` synthetic objects as CSV (UTF-8, header ``OBJECTS_HEADER``) to ``path``; ``n``."""
    return _write(path, OBJECTS_HEADER, synthetic_objects(n, seed))


def write_synthetic_officers(path: Path, seed: int = SEED, objects: int = OBJECTS) -> int:
    """Write the 800 synthetic officers as CSV (UTF-8, header ``OFFICERS_HEADER``) to ``path``, their
    conflicts naming objects of ``write_synthetic_objects(..., objects, seed)``; how many."""
    return _write(path, OFFICERS_HEADER, synthetic_officers(seed, objects))
