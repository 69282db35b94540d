"""The grid first check benchmark's street offices and department (``Follower``), the end state it
requires, the timings it reads from the database afterwards (every time is the writer's system clock:
the worker's inside its transaction) and its CPU per task."""

from __future__ import annotations

import threading
import time
from collections.abc import Collection
from typing import Any

from bench.common import summary_ms
from bench.grid_events import Posted, Poster, case_event, enforcement_event
from bench.grid_stack import FLOW, TOKEN, GridStack, Task


def cpu_ms_per_task(used: dict[str, float], tasks: int) -> dict[str, float]:
    own = [k for k in used if k not in ("other", "wall", "cores_available")]
    out = {k: round(used[k] * 1000 / tasks, 3) for k in own}
    out["own_total"] = round(sum(used[k] for k in own) * 1000 / tasks, 3)
    return out


class Follower(threading.Thread):
    """The street offices and the department: each unlicensed task's hand-over once it is with the
    street, the department's case report once it holds it."""

    def __init__(self, stack: GridStack, tasks: list[Task], tag: str, timeout: float) -> None:
        super().__init__(daemon=True)
        self.stack, self.tag, self.timeout = stack, tag, timeout
        self.tasks = {t.id: t for t in tasks}
        self.posted = Posted()
        self.error: BaseException | None = None

    def run(self) -> None:
        poster = Poster(self.stack.port, TOKEN)
        enforced: set[int] = set()
        cased: set[int] = set()
        deadline = time.perf_counter() + self.timeout
        try:
            while len(cased) < len(self.tasks) or not self._closed():
                if time.perf_counter() > deadline:
                    raise TimeoutError(f"unlicensed chain: {len(cased)} of {len(self.tasks)} reached a case")
                rows = self.stack.states_of(list(self.tasks)) if self.tasks else []
                street = [i for i, s, _ in rows if s == "street_enforcement" and i not in enforced]
                dept = [(i, d) for i, s, d in rows if s == "department_case" and i not in cased]
                events = [enforcement_event(i, self.tasks[i].street, self.tag) for i in street]
                events += [case_event(i, d or "SCJG", self.tag) for i, d in dept]
                if events:
                    self.posted.add(poster.batches(events, 100))
                enforced.update(street)
                cased.update(i for i, _ in dept)
                time.sleep(0.25)
        except BaseException as exc:
            self.error = exc
        finally:
            poster.close()

    def _closed(self) -> bool:
        return all(s == "case_closed" for _, s, _ in self.stack.states_of(list(self.tasks)))


_HISTORY_LAST = (
    "SELECT extract(epoch FROM max(h.at)) FROM history h JOIN instances i ON i.id = h.instance_id "
    "WHERE i.flow = :f AND h.trigger = :t AND h.outcome = 'applied'"
)


def end_state(stack: GridStack, tasks: int, unlicensed: int, start: str) -> dict[str, Any]:
    """Every task verified or, if unlicensed, closed by the department; one push of each kind per task
    that had it; no rejection, no dead letter, no unfinished outbox row, nothing refused."""
    states = stack.states()
    pushes = {
        str(kind): [int(n), int(distinct)]
        for kind, n, distinct in stack.rows(
            "SELECT d.kind, count(*), count(DISTINCT d.instance_id) FROM deliveries d "
            "JOIN instances i ON i.id = d.instance_id WHERE i.flow = :f GROUP BY d.kind",
            f=FLOW,
        )
    }
    found: dict[str, Any] = {
        "states": states,
        "pushes": pushes,
        "dead_letters": int(stack.value("SELECT count(*) FROM dead_letters")),
        "rejected_history_rows": int(stack.value("SELECT count(*) FROM history WHERE outcome <> 'applied'")),
        "outbox_unfinished": int(stack.value("SELECT count(*) FROM outbox WHERE done_at IS NULL")),
        "undelivered_pushes": int(stack.value("SELECT count(*) FROM deliveries WHERE status <> 'sent'")),
        "inbox_events": int(stack.value("SELECT count(*) FROM inbox")),
    }
    wanted_states = {"verified": tasks - unlicensed, "case_closed": unlicensed}
    wanted_pushes = {
        "task": [tasks, tasks],
        "enforcement": [unlicensed] * 2,
        "department_case": [unlicensed] * 2,
    }
    if not unlicensed:
        wanted_states.pop("case_closed")
        for kind in ("enforcement", "department_case"):
            wanted_pushes.pop(kind)
    if start == "license":
        found["registrations"] = stack.states("license_registration")
    problems = []
    if states != wanted_states:
        problems.append(f"states {states} != {wanted_states}")
    if pushes != wanted_pushes:
        problems.append(f"pushes {pushes} != {wanted_pushes}")
    if start == "license" and found["registrations"] != {"no_permit_needed": tasks}:
        problems.append(f"registrations {found['registrations']} != no_permit_needed × {tasks}")
    for key in ("dead_letters", "rejected_history_rows", "outbox_unfinished", "undelivered_pushes"):
        if found[key]:
            problems.append(f"{key} = {found[key]}")
    found["problems"] = problems
    found["ok"] = not problems
    return found


def last_applied(stack: GridStack, trigger: str) -> float | None:
    return stack.last(_HISTORY_LAST, f=FLOW, t=trigger)


def drive_times(stack: GridStack, t1: float, unlicensed: Collection[int]) -> dict[str, Any]:
    """Seconds from the first acknowledgement's POST (``t1``) to the last acknowledgement, first check
    and closed task; the unlicensed chain per task (its check applied → the department's case
    closed)."""
    ack, report = last_applied(stack, "acknowledge"), last_applied(stack, "report")
    closed = stack.last("SELECT extract(epoch FROM max(closed_at)) FROM instances WHERE flow = :f", f=FLOW)
    implied = stack.value(
        "SELECT count(*) FROM instances WHERE flow = :f AND context->>'acknowledgement_implied' = 'true'",
        f=FLOW,
    )
    chain: dict[str, Any] = {"tasks": len(unlicensed)}
    if unlicensed:
        rows = stack.rows(
            "SELECT extract(epoch FROM h.at), extract(epoch FROM i.closed_at) FROM instances i "
            "JOIN history h ON h.instance_id = i.id AND h.trigger = 'report' AND h.outcome = 'applied' "
            "WHERE i.id = ANY(:ids)",
            ids=list(unlicensed),
        )
        chain["check_to_case_closed_ms"] = summary_ms([float(c) - float(r) for r, c in rows if c])
        chain["last_closed_after_s"] = round(max(float(c) for _, c in rows if c) - t1, 2)
    return {
        "last_acknowledgement_after_s": round(ack - t1, 2) if ack else None,
        "last_first_check_after_s": round(report - t1, 2) if report else None,
        "last_closed_after_s": round(closed - t1, 2) if closed else None,
        "acknowledgements_implied_by_the_check": int(implied),
        "unlicensed_chain": chain,
    }
