"""A chaos run: the production stack as real processes (API, worker supervisor with 2 workers, one
scheduler) over PostgreSQL and a Redis (or a RabbitMQ) of its own, bounded load on loopback, one
fault injected mid-load, then the effects counted with SQL per accepted event.

The load is the toy flow: per case a ``toy.submitted`` (its start is applied inside the intake) and
a ``toy.decided`` (a command through the outbox and a worker). A client posts each event until the
API accepts it (202), retrying through refusals, 503s and a dead API; the accepted events are the
promise. At quiescence every accepted case must be decided, with exactly one ``start`` and one
``decide`` in its history, no outbox row unfinished and no dead letter.

Faults: ``worker_child`` (kill -9 one worker), ``worker_parent`` (kill -9 the supervisor: its workers
must die with it; restarted), ``scheduler`` and ``api`` (kill -9, restarted), ``redis`` (kill -9,
restarted empty: no persistence), ``rabbitmq`` (kill -9, restarted on its data: durable queues,
persistent messages), ``postgres`` (the database refuses connections and its sessions are ended for
``outage`` seconds).
"""

from __future__ import annotations

import os
import signal
import threading
import time
from dataclasses import dataclass, field
from typing import Any

import httpx
from sqlalchemy import create_engine, func, select

from tests.chaos.stack import SOURCE, TOKEN, ChaosRun, alive, children_of, wait_for
from workflows.store.models import DeadLetter, History, Instance, Outbox

FAULTS = ("worker_child", "worker_parent", "scheduler", "api", "redis", "postgres")
#: on RabbitMQ the broker fault kills RabbitMQ
RABBITMQ_FAULTS = ("worker_child", "worker_parent", "scheduler", "api", "rabbitmq", "postgres")


@dataclass
class Load:
    """Posts ``cases`` cases (2 events each) at up to ``rate`` events/s, each until accepted."""

    url: str
    cases: int
    rate: float
    accepted: list[str] = field(default_factory=list)
    refused: int = 0
    done: threading.Event = field(default_factory=threading.Event)
    error: BaseException | None = None

    def run(self) -> None:
        try:
            with httpx.Client(
                base_url=self.url, timeout=10, headers={"Authorization": f"Bearer {TOKEN}"}
            ) as c:
                pause = 1.0 / self.rate
                for i in range(self.cases):
                    self._post(c, f"s-{i}", "toy.submitted", {"case": f"case-{i}"})
                    time.sleep(pause)
                    self._post(c, f"d-{i}", "toy.decided", {"case": f"case-{i}", "decision": "approve"})
                    time.sleep(pause)
        except BaseException as exc:  # reported by the test
            self.error = exc
        finally:
            self.done.set()

    def _post(self, client: httpx.Client, event_id: str, type_: str, data: dict[str, Any]) -> None:
        event = {"specversion": "1.0", "id": event_id, "source": SOURCE, "type": type_, "data": data}
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            try:
                r = client.post("/events", json=event)
                if r.status_code == 202:
                    self.accepted.append(event_id)
                    return
                if r.status_code < 500:
                    raise AssertionError(f"{event_id}: {r.status_code} {r.text}")
            except httpx.TransportError:
                pass
            self.refused += 1
            time.sleep(0.2)
        raise AssertionError(f"{event_id} was never accepted")


@dataclass
class Effects:
    cases_expected: int
    decided: int
    starts: dict[int, int]  # start rows per instance -> how many instances
    decides: dict[int, int]  # decide rows per accepted decided event -> how many events
    unfinished: int
    dead: int

    @property
    def complete(self) -> bool:
        return self.decided >= self.cases_expected and self.unfinished == 0


def count_effects(pg_url: str, accepted: list[str]) -> Effects:
    """Per accepted event, its effect: case-N decided, one start and one decide in its history."""
    cases = {e.split("-", 1)[1] for e in accepted if e.startswith("d-")}
    engine = create_engine(pg_url)
    try:
        with engine.connect() as c:
            decided = c.execute(
                select(func.count())
                .select_from(Instance)
                .where(Instance.flow == "toy", Instance.state == "decided")
            ).scalar_one()
            per_start = (
                c.execute(
                    select(func.count())
                    .select_from(History)
                    .where(History.trigger == "start")
                    .group_by(History.instance_id)
                )
                .scalars()
                .all()
            )
            decide_causes = [f"{SOURCE}#d-{n}" for n in cases]
            per_decide = (
                c.execute(
                    select(func.count())
                    .select_from(History)
                    .where(History.trigger == "decide", History.cause_id.in_(decide_causes))
                    .group_by(History.cause_id)
                )
                .scalars()
                .all()
            )
            unfinished = c.execute(
                select(func.count()).select_from(Outbox).where(Outbox.done_at.is_(None))
            ).scalar_one()
            dead = c.execute(select(func.count()).select_from(DeadLetter)).scalar_one()
    finally:
        engine.dispose()
    starts: dict[int, int] = {}
    for n in per_start:
        starts[int(n)] = starts.get(int(n), 0) + 1
    decides: dict[int, int] = {}
    for n in per_decide:
        decides[int(n)] = decides.get(int(n), 0) + 1
    missing = len(cases) - len(per_decide)
    if missing:
        decides[0] = missing
    return Effects(len(cases), int(decided), starts, decides, int(unfinished), int(dead))


@dataclass
class Outcome:
    fault: str
    accepted: int
    refused: int
    #: seconds from the restart (or the end of the outage) until every event accepted by then had its
    #: effect
    recovered_in: float
    effects: Effects
    #: events accepted by the restart (the ones ``recovered_in`` waits for)
    accepted_by_undo: int = 0

    def as_json(self) -> dict[str, Any]:
        return {
            "fault": self.fault,
            "accepted_events": self.accepted,
            "refused_attempts": self.refused,
            "recovered_in_s": round(self.recovered_in, 2),
            "accepted_by_restart": self.accepted_by_undo,
            "decided": self.effects.decided,
            "start_rows_per_instance": self.effects.starts,
            "decide_rows_per_accepted_event": self.effects.decides,
            "unfinished_outbox_rows": self.effects.unfinished,
            "dead_letters": self.effects.dead,
        }


def pause_workers(run: ChaosRun) -> list[int]:
    """SIGSTOP every worker: accepted work piles up in the broker (a backlog for the fault to hit)."""
    workers = children_of(run.procs["workers"].pid)
    for pid in workers:
        os.kill(pid, signal.SIGSTOP)
    return workers


def resume_workers(workers: list[int]) -> None:
    for pid in workers:
        if alive(pid):
            os.kill(pid, signal.SIGCONT)


def inject(run: ChaosRun, fault: str, *, down_for: float, outage: float, paused: list[int]) -> None:
    """Inject ``fault`` and undo it (restart, or end the outage); returns when it is undone. The
    paused workers are resumed once the fault has struck."""
    if fault == "worker_child":
        victim = children_of(run.procs["workers"].pid)[0]
        os.kill(victim, signal.SIGKILL)  # with the messages it had fetched
        resume_workers(paused)
        wait_for(
            lambda: (
                victim not in children_of(run.procs["workers"].pid)
                and len(children_of(run.procs["workers"].pid)) == 2
            ),
            30,
            "the replacement worker",
        )
    elif fault == "worker_parent":
        workers = children_of(run.procs["workers"].pid)
        run.kill("workers")
        resume_workers(paused)
        # liveness, not speed: they die by themselves (a clean stop takes 1–2 s; 10 s was once too
        # short on a machine at load average 700)
        wait_for(lambda: not any(alive(pid) for pid in workers), 30, "the orphaned workers to die")
        time.sleep(down_for)
        run.launch("workers")
    elif fault in ("scheduler", "api"):
        run.kill(fault)
        resume_workers(paused)
        time.sleep(down_for)
        run.launch(fault)
    elif fault == "redis":
        assert run.redis is not None, "the redis fault needs the run's own Redis"
        run.redis.kill()  # with the backlog queued in it
        resume_workers(paused)
        time.sleep(down_for)
        run.redis.start()
    elif fault == "rabbitmq":
        assert run.rabbitmq is not None, "the rabbitmq fault needs the run's own RabbitMQ"
        run.rabbitmq.kill()  # with the backlog queued in it
        resume_workers(paused)
        time.sleep(down_for)
        run.rabbitmq.start()  # on its data
    elif fault == "postgres":
        with run.database_down():
            resume_workers(paused)  # the backlog meets a database that does not answer
            time.sleep(outage)
    else:
        raise ValueError(f"unknown fault {fault!r}; known: {', '.join(sorted({*FAULTS, *RABBITMQ_FAULTS}))}")


def chaos(
    run: ChaosRun,
    fault: str,
    *,
    cases: int = 150,
    rate: float = 50.0,
    fault_at: float = 2.0,
    hold: float = 2.0,
    down_for: float = 1.0,
    outage: float = 10.0,
    settle: float = 120.0,
) -> Outcome:
    """Load; ``hold`` seconds before ``fault_at`` the workers are paused so that a backlog waits in
    the broker when the fault strikes; then wait until every accepted event has its effect."""
    load = Load(f"http://127.0.0.1:{run.api_port}", cases, rate)
    client = threading.Thread(target=load.run, name="chaos-load", daemon=True)
    client.start()
    time.sleep(max(0.0, fault_at - hold))
    paused = pause_workers(run)
    time.sleep(hold)
    inject(run, fault, down_for=down_for, outage=outage, paused=paused)
    undone = time.monotonic()
    before = list(load.accepted)
    wait_for(lambda: applied(run.pg_url, before), settle, "the events accepted by the restart to take effect")
    recovered = time.monotonic() - undone
    load.done.wait(settle)
    if load.error is not None:
        raise load.error
    assert load.done.is_set(), "the load did not finish"
    accepted = list(load.accepted)

    def complete() -> bool:
        return count_effects(run.pg_url, accepted).complete

    wait_for(complete, settle, "every accepted event to have its effect")
    effects = count_effects(run.pg_url, accepted)
    return Outcome(fault, len(accepted), load.refused, recovered, effects, len(before))


def applied(pg_url: str, accepted: list[str]) -> bool:
    """Whether every accepted ``toy.decided`` among ``accepted`` has its decide in the history."""
    causes = [f"{SOURCE}#{e}" for e in accepted if e.startswith("d-")]
    engine = create_engine(pg_url)
    try:
        with engine.connect() as c:
            found = c.execute(
                select(func.count(func.distinct(History.cause_id))).where(
                    History.trigger == "decide", History.cause_id.in_(causes)
                )
            ).scalar_one()
    finally:
        engine.dispose()
    return int(found) == len(causes)
