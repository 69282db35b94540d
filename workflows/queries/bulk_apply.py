"""Applying a bulk selection: the frozen instance ids, in chunks, each through the audited operator
action of one instance; what does not apply to an instance is skipped and reported with it.

Each instance is acted on in its own transaction, through the same engine entry points as the
single-instance operator actions (``POST /instances/{id}/cancel``, a flow's ``/reroute``, ``POST
/deadletters/{id}/requeue``, ``yunshang rules recompute``), with the operator and the reason as the
cause: every affected instance's history names them. (Those routes live in ``workflows.api``, which
the dashboard may not import — the API imports the dashboard — so the few lines of ``act`` that build
and run the command are repeated here.) A command's dedupe key is ``bulk:<selection>:<instance>``: a
redelivered or repeated one is a no-op. Suspend and resume (an approved extension 延期 for many
cases at once) go through ``engine/timer_actions.py`` as ``POST /instances/{id}/suspend`` does.

An apply interrupted mid-way is resumed by applying again (``queries.bulk.claim``): each instance's
command or audit row is keyed ``bulk:<selection>:<instance>``, so an instance the first attempt did is
skipped as "already done", a requeued dead letter is no longer waiting, a moved deadline is where the
rules put it; the result then says ``resumed_from``.

Skipped, with why: an instance gone or closed (also one closed since the dry run), a flow without the
action's trigger, a state where the flow refuses it, an instance with no dead letter waiting, no
deadline to move, or no clock to suspend or resume.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

from sqlalchemy import select

from workflows.engine.commands import Cause
from workflows.engine.timer_actions import act_on_timers
from workflows.errors import BadInput, YunshangError
from workflows.messaging.deadletters import list_dead, requeue
from workflows.queries.bulk import Selection, check_reason, claim, record_result
from workflows.queries.deadletters import dead_letters_for
from workflows.ruleset.adapter import RuleDeadlines
from workflows.ruleset.recompute import Recompute, apply_recompute, plan_recompute
from workflows.runtime import Runtime
from workflows.store.models import History, Instance

log = logging.getLogger("yunshang.bulk")
#: instances acted on per chunk (one read of their rows, then one transaction each)
CHUNK = 100
#: the trigger each flow-trigger action fires
TRIGGERS = {"cancel": "cancel", "reroute": "reroute"}


@dataclass(frozen=True)
class Row:
    id: int
    flow: str
    state: str
    closed: bool


@dataclass(frozen=True)
class Done:
    id: int
    status: str  # applied | skipped
    detail: str

    def as_json(self) -> dict[str, Any]:
        return {"id": self.id, "status": self.status, "detail": self.detail}


def chunks(ids: Sequence[int], size: int = CHUNK) -> Iterator[Sequence[int]]:
    for start in range(0, len(ids), size):
        yield ids[start : start + size]


def apply_selection(runtime: Runtime, selection_id: int, *, operator: str, reason: str) -> Selection:
    """Apply selection ``selection_id`` once, to exactly its frozen ids. Raises FieldInvalid (``reason``,
    nothing done), BulkSelectionNotFound, BulkAlreadyApplied (409, nothing done)."""
    reason = check_reason(reason)
    chosen, resumed = claim(runtime.db, runtime.clock, selection_id, operator)
    act = _Action(runtime, chosen, operator, reason, resuming=resumed is not None)
    done: list[Done] = []
    parts = 0
    try:
        for part in chunks(chosen.instance_ids):
            done += act.chunk(part)
            parts += 1
    except Exception as exc:  # the database went away mid-way: keep what was done, say where it stopped
        stopped = _result(reason, done, parts, resumed, error=f"{type(exc).__name__}: {exc}")
        record_result(runtime.db, chosen.id, stopped)
        raise
    result = _result(reason, done, parts, resumed)
    log.warning(
        "bulk %s #%d by %s (%s): %d applied, %d skipped",
        chosen.action,
        chosen.id,
        operator,
        reason,
        result["applied"],
        result["skipped"],
    )
    return record_result(runtime.db, chosen.id, result)


def _result(
    reason: str, done: list[Done], parts: int, resumed: datetime | None, error: str | None = None
) -> dict[str, Any]:
    applied = sum(d.status == "applied" for d in done)
    return {
        "reason": reason,
        "applied": applied,
        "skipped": len(done) - applied,
        "chunks": parts,
        "chunk_size": CHUNK,
        "items": [d.as_json() for d in done],
        **({"resumed_from": resumed.isoformat()} if resumed else {}),
        **({"error": f"stopped after {len(done)} instances: {error}"} if error else {}),
    }


class _Action:
    def __init__(
        self, runtime: Runtime, chosen: Selection, operator: str, reason: str, *, resuming: bool = False
    ) -> None:
        self.runtime = runtime
        self.resuming = resuming
        self.chosen = chosen
        self.operator = operator
        self.reason = reason
        self.cause = Cause(kind="operator", operator=operator, reason=reason)
        self._plan: Recompute | None = None

    def chunk(self, ids: Sequence[int]) -> list[Done]:
        with self.runtime.db.read() as session:
            query = select(Instance.id, Instance.flow, Instance.state, Instance.closed_at)
            rows = {
                r.id: Row(r.id, r.flow, r.state, r.closed_at is not None)
                for r in session.execute(query.where(Instance.id.in_(list(ids))))
            }
        done_before = self.done_before(ids) if self.resuming else set()
        dead = {}
        if self.chosen.action == "requeue":
            dead = dead_letters_for(self.runtime.db, list_dead(self.runtime.db), ids)
        out = []
        for iid in ids:
            row = rows.get(iid)
            if iid in done_before:
                out.append(
                    Done(iid, "skipped", "already done by this selection, before its apply was interrupted")
                )
            elif row is None:
                out.append(Done(iid, "skipped", "the instance no longer exists"))
            elif row.closed:
                out.append(Done(iid, "skipped", f"closed ({row.state}): an action applies to open instances"))
            else:
                try:
                    out.append(self.one(row, dead.get(iid, [])))
                except YunshangError as exc:  # refused for this instance alone: the others go on
                    out.append(Done(iid, "skipped", str(exc)))
        return out

    def done_before(self, ids: Sequence[int]) -> set[int]:
        """The instances whose history holds this selection's command or audit row."""
        keys = [f"bulk:{self.chosen.id}:{iid}" for iid in ids]
        query = select(History.instance_id).where(
            History.instance_id.in_(list(ids)), History.dedupe_key.in_(keys), History.outcome == "applied"
        )
        with self.runtime.db.read() as session:
            return set(session.scalars(query))

    def one(self, row: Row, dead: list[Any]) -> Done:
        action = self.chosen.action
        if action in TRIGGERS:
            return self.fire(row, TRIGGERS[action])
        if action == "requeue":
            return self.requeue(row, dead)
        if action in ("suspend", "resume"):
            return self.clocks(row, "suspend" if action == "suspend" else "resume")
        return self.recompute(row)

    def fire(self, row: Row, trigger: str) -> Done:
        engine = self.runtime.engine
        flow = engine.flows.get(row.flow)
        spec = flow.trigger(trigger) if flow else None
        if spec is None:
            return Done(row.id, "skipped", f"the flow {row.flow} has no {trigger} trigger")
        fields = spec.payload.model_fields if spec.payload is not None else {}
        payload: dict[str, Any] = {}
        if "reason" in fields:
            payload["reason"] = self.reason
        if trigger == "reroute":
            payload["department"] = self.chosen.options.get("department")
        try:
            command = engine.command(
                row.flow,
                trigger,
                cause=self.cause,
                dedupe_key=f"bulk:{self.chosen.id}:{row.id}",
                payload=payload,
                instance_id=row.id,
            )
        except BadInput as exc:
            return Done(row.id, "skipped", f"the flow {row.flow} refuses the payload: {exc}")
        outcome = self.runtime.execute(command)
        if outcome.status == "rejected":
            return Done(row.id, "skipped", outcome.reason or f"refused by the flow in state {row.state}")
        if outcome.status == "duplicate":
            return Done(row.id, "skipped", "already done (the same command was applied before)")
        return Done(row.id, "applied", f"{trigger}: {row.state} → {outcome.state}")

    def requeue(self, row: Row, dead: list[Any]) -> Done:
        if not dead:
            return Done(row.id, "skipped", "no dead letter of this instance is waiting")
        rt = self.runtime
        ids = []
        for letter in dead:
            requeue(rt.db, rt.relay, rt.clock, letter.id, operator=self.operator, reason=self.reason)
            ids.append(letter.id)
        self.audit(row, "dead_letters_requeued", {"dead_letters": ids})
        return Done(row.id, "applied", "requeued dead letter " + ", ".join(f"#{i}" for i in ids))

    def recompute(self, row: Row) -> Done:
        rules = self.runtime.rules.current
        if not isinstance(rules, RuleDeadlines):
            return Done(row.id, "skipped", "the engine runs on static deadlines: there is no rule set")
        if self._plan is None:
            self._plan = plan_recompute(self.runtime.db, rules.calendar, rules)
        moves = [m for m in self._plan.moves if m.instance_id == row.id]
        if not moves:
            return Done(row.id, "skipped", "its armed deadlines are where the rules in force put them")
        mine = Recompute(self._plan.version, moves=moves)
        moved = apply_recompute(self.runtime.db, self.runtime.clock, mine, self.operator, reason=self.reason)
        if not moved:
            return Done(row.id, "skipped", "its timers fired, were cancelled or moved meanwhile")
        return Done(row.id, "applied", f"{moved} deadline{'s' * (moved != 1)} moved")

    def clocks(self, row: Row, action: Literal["suspend", "resume"]) -> Done:
        """Suspend or resume the open timers of the instance's state (``engine/timer_actions.py``: a
        timer conflict — none armed, suspended already, due already — is raised, and skipped)."""
        rt = self.runtime
        done = act_on_timers(
            rt.db,
            rt.clock,
            rt.engine.deadlines,
            row.id,
            action,
            operator=self.operator,
            reason=self.reason,
            dedupe_key=f"bulk:{self.chosen.id}:{row.id}",
        )
        if done["status"] == "duplicate":
            return Done(row.id, "skipped", "already done (the same action was applied before)")
        names = ", ".join(str(t.get("name")) for t in done["timers"])
        return Done(row.id, "applied", f"{action}ed {names}")

    def audit(self, row: Row, trigger: str, payload: dict[str, Any]) -> None:
        """A history row for an action that is not a transition (the state stays)."""
        with self.runtime.db.transaction() as session:
            session.add(
                History(
                    instance_id=row.id,
                    from_state=row.state,
                    to_state=row.state,
                    trigger=trigger,
                    outcome="applied",
                    reason=self.reason,
                    cause_kind="operator",
                    cause_id=f"bulk:{self.chosen.id}",
                    operator=self.operator[:100],
                    payload=payload,
                    at=self.runtime.clock.now(),
                    dedupe_key=f"bulk:{self.chosen.id}:{row.id}",
                )
            )
