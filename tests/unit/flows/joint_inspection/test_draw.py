"""The verifiable draw without a database: its stream against the spec, a golden receipt, determinism
across processes and hash seeds, exact quotas, officer rules, infeasible plans, tamper checks."""

from __future__ import annotations

import copy
import hashlib
import os
import subprocess
import sys
from collections import Counter
from dataclasses import replace
from pathlib import Path

import pytest

from tests.unit.flows.joint_inspection.draws import PLAN, REVEALED, objects, officers, snapshot
from workflows.flows.joint_inspection.draw import (
    Candidate,
    Infeasible,
    ObjectLines,
    Snapshot,
    draw,
    object_chunks,
    seed_of,
)
from workflows.flows.joint_inspection.receipt import build_receipt, commit, verify
from workflows.flows.joint_inspection.stream import Stream, sample

ROOT = Path(__file__).resolve().parents[4]
GOLDEN_OBJECTS = [
    ("91370212MA0000010F", "A", 0),
    ("91370212MA0000013Q", "A", 1),
    ("91370212MA00000061", "A", 0),
    ("91370212MA00000276", "B", 1),
    ("91370212MA0000022N", "B", 0),
    ("91370212MA0000032P", "C", 1),
    ("91370212MA0000030H", "C", 0),
    ("91370212MA00000377", "D", 1),
]
GOLDEN_GROUPS = [
    ["GAFJ-003", "GAFJ-004", "SCJG-001", "SCJG-000", "WJJ-002", "WJJ-004"],
    ["GAFJ-000", "GAFJ-001", "SCJG-005", "SCJG-004", "WJJ-003", "WJJ-000"],
]
GOLDEN_SHA256 = "a25a8d4a5d100fd1b178d7a8d955eb81fae5f46fc3613d4e898edaf8a65a7065"


def receipt() -> dict[str, object]:
    return build_receipt(PLAN, snapshot(), commit("public_value", REVEALED), REVEALED, [])


def test_the_stream_is_the_specified_sha256_counter_stream() -> None:
    stream = Stream(b"seed")
    first = hashlib.sha256(b"seed" + (0).to_bytes(8, "big")).digest()
    second = hashlib.sha256(b"seed" + (1).to_bytes(8, "big")).digest()
    words = [stream.word() for _ in range(5)]
    assert words[:4] == [int.from_bytes(first[i : i + 8], "big") for i in range(0, 32, 8)]
    assert words[4] == int.from_bytes(second[:8], "big")
    resumed = Stream(b"seed", skip=4)
    assert resumed.word() == words[4]


def test_below_rejects_the_biased_tail_and_sample_draws_distinct_indices() -> None:
    stream = Stream(b"x")
    assert {stream.below(3) for _ in range(200)} == {0, 1, 2}
    counts = Counter(stream.below(6) for _ in range(6000))
    assert all(850 < counts[v] < 1150 for v in range(6)), counts  # uniform within sampling noise
    whole = sample(Stream(b"y"), 50, 50)
    assert sorted(whole) == list(range(50))  # a full draw is a permutation
    few = sample(Stream(b"y"), 5_000_000, 190)
    assert len(set(few)) == 190 and all(0 <= i < 5_000_000 for i in few)
    assert few == sample(Stream(b"y"), 5_000_000, 190)


def test_a_golden_receipt_gives_the_result_written_here() -> None:
    r = receipt()
    result = r["result"]
    assert isinstance(result, dict)
    assert [(o["uscc"], o["risk_class"], o["group"]) for o in result["objects"]] == GOLDEN_OBJECTS
    assert result["groups"] == GOLDEN_GROUPS
    assert r["result_sha256"] == GOLDEN_SHA256
    assert r["seed"] == seed_of(REVEALED, PLAN.plan_id, snapshot().hash).hex()
    assert verify(r, snapshot(), []) == []


@pytest.mark.parametrize("hash_seed", ["0", "1", "4242"])
def test_another_process_with_another_hash_seed_draws_the_same(hash_seed: str) -> None:
    code = (
        "from tests.unit.flows.joint_inspection.draws import PLAN, REVEALED, snapshot\n"
        "from workflows.flows.joint_inspection.receipt import build_receipt, commit\n"
        "print(build_receipt(PLAN, snapshot(), commit('public_value', REVEALED), REVEALED, [])['result_sha256'])"
    )
    env = {**os.environ, "PYTHONHASHSEED": hash_seed, "PYTHONPATH": str(ROOT)}
    out = subprocess.run(
        [sys.executable, "-c", code], env=env, cwd=ROOT, capture_output=True, text=True, check=True
    )
    assert out.stdout.strip() == GOLDEN_SHA256


def test_each_stratum_gives_exactly_its_quota_and_only_its_candidates() -> None:
    drawn = draw(PLAN, snapshot(), b"any seed")
    assert Counter(c for _, c, _ in drawn.objects) == Counter(PLAN.quotas)
    candidates = {o.uscc: o.risk_class for o in objects()}
    assert all(candidates[u] == c for u, c, _ in drawn.objects)
    assert len({u for u, _, _ in drawn.objects}) == len(drawn.objects)


@pytest.mark.parametrize("seed", [b"a", b"b", b"c", b"d", b"e", b"f"])
def test_groups_hold_two_of_every_department_recusal_holds_and_loads_balance(seed: bytes) -> None:
    snap = snapshot()
    drawn = draw(PLAN, snap, seed)
    by_id = {o.officer_id: o for o in snap.officers}
    for members in drawn.groups:
        assert Counter(by_id[m].department for m in members) == {"SCJG": 2, "WJJ": 2, "GAFJ": 2}
    every = [m for members in drawn.groups for m in members]
    assert len(every) == len(set(every))  # no officer in two groups
    inspected = {o.uscc: o.last_inspectors for o in snap.objects}
    for uscc, _, group in drawn.objects:
        for member in drawn.groups[group]:
            assert uscc not in by_id[member].conflicts and member not in inspected[uscc]
    loads = Counter(g for _, _, g in drawn.objects)
    assert max(loads.values()) - min(loads.values()) <= 1


def test_recusal_sends_an_object_away_from_a_conflicted_officers_group() -> None:
    snap = snapshot()
    target = snap.objects[0].uscc  # on GAFJ-000's conflict list
    plan = replace(PLAN, quotas={"A": 16})
    drawn = draw(plan, snap, b"recusal")
    [group] = [g for u, _, g in drawn.objects if u == target]
    assert "GAFJ-000" not in drawn.groups[group]


def test_infeasible_plans_name_every_shortfall() -> None:
    greedy = replace(PLAN, quotas={"A": 17, "D": 5}, groups=3)
    with pytest.raises(Infeasible) as caught:
        draw(greedy, snapshot(), b"s")
    text = str(caught.value)
    assert "quotas.A: 17 to draw, but the stratum has 16 candidates" in text
    assert "quotas.D: 5 to draw, but the stratum has 4 candidates" in text
    assert "officers of WJJ: 5 active, but 3 groups × 2 need 6" in text
    assert "officers of GAFJ: 5 active" in text and "SCJG" not in text
    with pytest.raises(Infeasible, match="every object is excluded"):
        draw(PLAN, Snapshot([], officers()), b"s")
    with pytest.raises(Infeasible, match="at least 2"):
        draw(replace(PLAN, per_department=1), snapshot(), b"s")


def test_any_change_to_the_receipt_or_the_snapshot_fails_verification() -> None:
    good = receipt()
    assert verify(good, snapshot(), []) == []
    swapped = copy.deepcopy(good)
    swapped["result"]["objects"][0]["group"] = 1  # type: ignore[index]
    assert any(d.startswith("result_sha256") for d in verify(swapped, snapshot(), []))
    assert any(d.startswith("result.objects") for d in verify(swapped, snapshot(), []))
    other_value = {**good, "revealed": REVEALED + " "}
    assert any(d.startswith("seed:") for d in verify(other_value, snapshot(), []))
    grown = Snapshot([*objects(), Candidate("91370212MA99999999", "A")], officers())
    found = verify(good, grown, [])
    assert any(d.startswith("snapshot.objects_sha256") for d in found)
    assert any(d.startswith("snapshot.objects:") for d in found)
    assert any(d.startswith("snapshot.excluded") for d in verify(good, snapshot(), ["91370212MA00000061"]))


def test_a_committed_secret_must_be_revealed_as_committed() -> None:
    commitment = commit("committed_secret", "s3cret-drawn-at-freeze")
    assert commitment["value_sha256"] == hashlib.sha256(b"s3cret-drawn-at-freeze").hexdigest()
    r = build_receipt(PLAN, snapshot(), commitment, "s3cret-drawn-at-freeze", [])
    assert verify(r, snapshot(), []) == []
    with pytest.raises(Exception, match="not the one committed"):
        build_receipt(PLAN, snapshot(), commitment, "another", [])
    forged = {**r, "revealed": "another"}
    assert "revealed: its SHA-256 is not the value committed with the snapshot" in verify(
        forged, snapshot(), []
    )


def test_a_snapshot_of_its_stored_lines_hashes_and_draws_as_the_one_of_candidates() -> None:
    text = "".join(object_chunks(objects()))
    lines = ObjectLines.of_text(text)
    stored = Snapshot(lines, officers())
    assert stored.hash == snapshot().hash and len(lines) == len(objects())
    assert list(lines) == objects()  # parsed back, inspectors included
    assert draw(PLAN, stored, b"s") == draw(PLAN, snapshot(), b"s")
    seventh = objects()[7]
    assert stored.find(seventh.uscc) == seventh == snapshot().find(seventh.uscc)
    assert stored.find("91370212MA99999999") is None and snapshot().find("0") is None
