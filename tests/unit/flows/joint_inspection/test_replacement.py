"""Replacing a drawn officer from the draw's own stream: the pool's rules, the stream positions, a
second replacement continuing the first, verification of the replacements, tampering and exhaustion."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from tests.unit.flows.joint_inspection.draws import PLAN, REVEALED, snapshot
from workflows.flows.joint_inspection.draw import Infeasible, recused
from workflows.flows.joint_inspection.receipt import build_receipt, commit, verify
from workflows.flows.joint_inspection.replacement import current_groups, replace_officer
from workflows.flows.joint_inspection.stream import Stream, sample


def receipt() -> dict[str, Any]:
    return build_receipt(PLAN, snapshot(), commit("public_value", REVEALED), REVEALED, [])


def seed(r: dict[str, Any]) -> bytes:
    return bytes.fromhex(r["seed"])


def with_replacement(r: dict[str, Any], officer: str) -> dict[str, Any]:
    made = replace_officer(r, snapshot(), seed(r), officer)
    return {**r, "replacements": [*r.get("replacements", []), {**made.as_json(), "reason": "病假"}]}


def test_the_replacement_is_of_the_department_free_and_drawn_where_the_draw_stopped() -> None:
    r = receipt()
    out = r["result"]["groups"][1][2]  # an officer of the second group
    made = replace_officer(r, snapshot(), seed(r), out)
    department = out.split("-")[0]
    taken = {o for g in r["result"]["groups"] for o in g}
    pool = [
        o.officer_id
        for o in snapshot().officers
        if o.department == department and o.officer_id not in taken and o.officer_id != out
    ]
    stream = Stream(seed(r), skip=r["result"]["stream_words"])
    [index] = sample(stream, len(pool), 1)
    assert (made.group, made.department, made.officer) == (1, department, out)
    assert made.replacement == pool[index] and made.replacement not in taken
    assert (made.stream_from, made.stream_to) == (r["result"]["stream_words"], stream.words)
    assert replace_officer(r, snapshot(), seed(r), out) == made  # deterministic


def test_a_second_replacement_continues_the_stream_and_never_brings_back_one_replaced() -> None:
    r = receipt()
    first_out = next(o for o in r["result"]["groups"][0] if o.startswith("SCJG"))  # 2 of 6 left
    once = with_replacement(r, first_out)
    first = once["replacements"][0]
    second = replace_officer(once, snapshot(), seed(once), first["replacement"])
    assert second.stream_from == first["stream_to"]
    assert second.replacement not in {first_out, first["replacement"]}
    twice = {**once, "replacements": [*once["replacements"], second.as_json()]}
    assert second.replacement in current_groups(twice)[0]
    assert first_out not in current_groups(twice)[0]
    assert verify(twice, snapshot(), []) == []


def test_a_tampered_replacement_fails_verification() -> None:
    r = with_replacement(receipt(), receipt()["result"]["groups"][0][0])
    assert verify(r, snapshot(), []) == []
    others = [o.officer_id for o in snapshot().officers if o.department == r["replacements"][0]["department"]]
    tampered = copy.deepcopy(r)
    tampered["replacements"][0]["replacement"] = next(
        o for o in others if o not in {r["replacements"][0]["replacement"], r["replacements"][0]["officer"]}
    )
    differs = verify(tampered, snapshot(), [])
    assert len(differs) == 1 and differs[0].startswith("replacements[0].replacement: the receipt has")
    shifted = copy.deepcopy(r)
    shifted["replacements"][0]["stream_from"] += 1
    assert any(d.startswith("replacements[0].stream_from") for d in verify(shifted, snapshot(), []))


def test_recused_officers_are_never_drawn_in_and_an_empty_pool_is_refused() -> None:
    r = receipt()
    # GAFJ has 5 officers, 4 drawn (2 groups × 2); GAFJ-000 is recused from objects()[0]
    out = next(o for o in r["result"]["groups"][0] if o.startswith("GAFJ"))
    made = replace_officer(r, snapshot(), seed(r), out)
    group_objects = {o["uscc"] for o in r["result"]["objects"] if o["group"] == 0}
    officer = next(o for o in snapshot().officers if o.officer_id == made.replacement)
    assert not any(recused(officer, c) for c in snapshot().objects if c.uscc in group_objects)
    once = with_replacement(r, out)
    again = next(o for o in once["result"]["groups"][1] if o.startswith("GAFJ"))
    with pytest.raises(Infeasible, match="no officer of GAFJ is left to replace"):
        replace_officer(once, snapshot(), seed(once), again)
    with pytest.raises(Infeasible, match="officer: SCJG-999 is in no group"):
        replace_officer(r, snapshot(), seed(r), "SCJG-999")
