"""The draw receipt: everything needed to re-run a draw and check it, and ``verify``, which does.

A receipt names the algorithm, the plan, the snapshot's hashes and sizes (and of the exclusions), the
commitment made when the snapshot was frozen, the revealed value, the seed, the result and the result's
hash. ``verify(receipt, snapshot)`` re-derives the seed, re-runs the draw over the snapshot given and
answers the list of what differs — empty when the draw is the one the receipt records. Officers replaced
after the draw (``replacements``, from the same stream: ``replacement``) are re-run too.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any, Literal

from workflows.errors import BadInput
from workflows.flows.joint_inspection.draw import ALGORITHM, Drawn, DrawPlan, Snapshot, draw, seed_of
from workflows.flows.joint_inspection.replacement import replay

CommitKind = Literal["public_value", "committed_secret"]


def canonical(value: Any) -> bytes:
    """The bytes hashed for a JSON value: sorted keys, no spaces, UTF-8."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def sha256(data: bytes | str) -> str:
    return hashlib.sha256(data.encode() if isinstance(data, str) else data).hexdigest()


def plan_json(plan: DrawPlan) -> dict[str, Any]:
    return {
        "id": plan.plan_id,
        "departments": sorted(plan.departments),
        "quotas": dict(sorted(plan.quotas.items())),
        "per_department": plan.per_department,
        "groups": plan.groups,
    }


def plan_of(data: dict[str, Any]) -> DrawPlan:
    return DrawPlan(
        plan_id=str(data["id"]),
        departments=tuple(data["departments"]),
        quotas={str(k): int(v) for k, v in data["quotas"].items()},
        per_department=int(data["per_department"]),
        groups=int(data["groups"]),
    )


def snapshot_json(snapshot: Snapshot, excluded: list[str]) -> dict[str, Any]:
    return {
        "hash": snapshot.hash,
        "objects_sha256": snapshot.objects_sha256,
        "objects": len(snapshot.objects),
        "by_class": {k: len(v) for k, v in sorted(snapshot.by_class().items())},
        "officers_sha256": snapshot.officers_sha256,
        "officers": len(snapshot.officers),
        "excluded": len(excluded),
        "excluded_sha256": sha256("".join(f"{u}\n" for u in sorted(excluded))),
    }


def result_json(drawn: Drawn) -> dict[str, Any]:
    return {
        "objects": [{"uscc": u, "risk_class": c, "group": g} for u, c, g in drawn.objects],
        "groups": drawn.groups,
        "stream_words": drawn.stream_words,
    }


def commit(kind: CommitKind, value: str) -> dict[str, Any]:
    """What is recorded when the snapshot is frozen: for a committed secret, only its hash."""
    return {"kind": kind, "value_sha256": sha256(value) if kind == "committed_secret" else None}


def build_receipt(
    plan: DrawPlan, snapshot: Snapshot, commitment: dict[str, Any], revealed: str, excluded: list[str]
) -> dict[str, Any]:
    """Draw and write the receipt. Raises Infeasible, and BadInput for a revealed value that does not
    match the commitment."""
    if commitment["kind"] == "committed_secret" and sha256(revealed) != commitment["value_sha256"]:
        raise BadInput("revealed: its SHA-256 is not the one committed with the snapshot")
    seed = seed_of(revealed, plan.plan_id, snapshot.hash)
    result = result_json(draw(plan, snapshot, seed))
    return {
        "algorithm": ALGORITHM,
        "plan": plan_json(plan),
        "snapshot": snapshot_json(snapshot, excluded),
        "commitment": commitment,
        "revealed": revealed,
        "seed": seed.hex(),
        "result": result,
        "result_sha256": sha256(canonical(result)),
    }


def verify(receipt: dict[str, Any], snapshot: Snapshot, excluded: list[str]) -> list[str]:
    """What differs between the receipt and a re-run over ``snapshot`` (empty: verified)."""
    differs: list[str] = []
    if receipt.get("algorithm") != ALGORITHM:
        return [f"algorithm: the receipt names {receipt.get('algorithm')!r}; this verifier runs {ALGORITHM}"]
    recorded = receipt["snapshot"]
    for key, value in snapshot_json(snapshot, excluded).items():
        if recorded.get(key) != value:
            differs.append(
                f"snapshot.{key}: the receipt has {recorded.get(key)!r}, the snapshot gives {value!r}"
            )
    commitment, revealed = receipt["commitment"], str(receipt["revealed"])
    if commitment.get("kind") == "committed_secret" and sha256(revealed) != commitment.get("value_sha256"):
        differs.append("revealed: its SHA-256 is not the value committed with the snapshot")
    plan = plan_of(receipt["plan"])
    seed = seed_of(revealed, plan.plan_id, snapshot.hash)
    if receipt.get("seed") != seed.hex():
        differs.append(f"seed: the receipt has {receipt.get('seed')}, the revealed value gives {seed.hex()}")
    if sha256(canonical(receipt["result"])) != receipt.get("result_sha256"):
        differs.append("result_sha256: it is not the hash of the receipt's result")
    try:
        rerun = result_json(draw(plan, snapshot, seed))
    except Exception as exc:  # an infeasible re-run is a difference too
        return [*differs, f"result: the re-run fails: {exc}"]
    for key in ("objects", "groups", "stream_words"):
        if receipt["result"].get(key) != rerun[key]:
            differs.append(
                f"result.{key}: the re-run gives {_short(rerun[key])}, "
                f"the receipt {_short(receipt['result'].get(key))}"
            )
    return [*differs, *replay(receipt, snapshot, seed)]


def _short(value: Any) -> str:
    text = json.dumps(value, ensure_ascii=False)
    return text if len(text) <= 120 else text[:117] + "..."
