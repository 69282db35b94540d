"""The claim flow in DBOS (the PyPI ``dbos`` package): one durable workflow per notice.

``notice_flow``: a ``record_push`` step (the push to the department, checkpointed), then
``DBOS.recv("claim", timeout_seconds=48 h)`` — the durable claim deadline: DBOS records the wait's
deadline in its system database, so a restarted process resumes the wait where it was — and the
workflow ends ``claimed`` when ``DBOS.send`` delivers the claim (``overdue`` after an ``escalate`` step
when the 48 hours pass, never within a benchmark).

Run by ``bench.peers.claim_bench`` as a child process that takes commands on stdin, one JSON line
each, and answers one JSON line on stdout:

* ``{"op": "start", "ids": [...]}`` — start a workflow per id (a notice) and answer once each call
  returned (the harness watches the system database for the pushes and armed waits);
* ``{"op": "claim", "ids": [...]}`` — ``DBOS.send_bulk`` the claims, ``batch`` a transaction;
* ``{"op": "quit"}``.

Modes (``--mode``): ``sync`` (``DBOS.start_workflow`` from ``--drivers`` threads; each waiting
workflow holds an executor thread), ``async`` (``async def`` workflow and step, ``DBOS.recv_async``:
the waits are coroutines on one event loop), ``queue`` (this process enqueues, in transactions of
``batch``, through ``DBOSClient.enqueue_in_transaction``; ``--workers`` processes of ``--mode
queue-worker`` run the queue's workflows).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import sys
import threading
import time
from collections.abc import Callable
from typing import Any

from dbos import DBOS, DBOSClient, DBOSConfig, EnqueueOptions, SendMessage, SetWorkflowID

CLAIM_TOPIC = "claim"
CLAIM_DEADLINE_SECONDS = 48 * 3600
QUEUE = "notices"


# ---------------------------------------------------------------- the flow (sync)
@DBOS.step()
def record_push(notice: dict[str, Any]) -> dict[str, Any]:
    """The push to the department: in the yunshang run a ``log``-channel delivery; here the step's
    checkpointed output is the delivery record."""
    return {"kind": "notice", "recipient": notice["department"], "pushed_at": time.time()}


@DBOS.step()
def escalate(notice: dict[str, Any]) -> dict[str, Any]:
    return {"kind": "overdue", "recipient": f"{notice['department']}:leader", "at": time.time()}


@DBOS.workflow()
def notice_flow(notice: dict[str, Any]) -> dict[str, Any]:
    push = record_push(notice)
    claim = DBOS.recv(CLAIM_TOPIC, timeout_seconds=CLAIM_DEADLINE_SECONDS)
    if claim is None:
        return {"state": "overdue", "push": push, "escalation": escalate(notice)}
    return {"state": "claimed", "push": push, "officer": claim["officer"], "claimed_at": claim["at"]}


# ---------------------------------------------------------------- the flow (async)
@DBOS.step()
async def record_push_async(notice: dict[str, Any]) -> dict[str, Any]:
    return {"kind": "notice", "recipient": notice["department"], "pushed_at": time.time()}


@DBOS.step()
async def escalate_async(notice: dict[str, Any]) -> dict[str, Any]:
    return {"kind": "overdue", "recipient": f"{notice['department']}:leader", "at": time.time()}


@DBOS.workflow()
async def notice_flow_async(notice: dict[str, Any]) -> dict[str, Any]:
    push = await record_push_async(notice)
    claim = await DBOS.recv_async(CLAIM_TOPIC, timeout_seconds=CLAIM_DEADLINE_SECONDS)
    if claim is None:
        return {"state": "overdue", "push": push, "escalation": await escalate_async(notice)}
    return {"state": "claimed", "push": push, "officer": claim["officer"], "claimed_at": claim["at"]}


# ---------------------------------------------------------------- driving
def notice(wid: str) -> dict[str, Any]:
    return {"id": wid, "uscc": f"91370212{wid[-9:]:0>9}X", "permit": "餐饮服务", "department": "SCJG_SP"}


def claim_message(wid: str) -> SendMessage:
    return SendMessage(wid, {"officer": "王伟", "at": time.time()}, CLAIM_TOPIC)


def in_threads(ids: list[str], threads: int, work: Callable[[list[str]], None]) -> None:
    parts = [ids[i::threads] for i in range(threads)]
    runners = [threading.Thread(target=work, args=(p,)) for p in parts if p]
    for r in runners:
        r.start()
    for r in runners:
        r.join()


def batches(ids: list[str], size: int) -> list[list[str]]:
    return [ids[i : i + size] for i in range(0, len(ids), size)]


class Driver:
    def __init__(self, args: argparse.Namespace) -> None:
        self.args = args
        self.client: DBOSClient | None = None
        self.loop: asyncio.AbstractEventLoop | None = None

    def start(self, ids: list[str]) -> None:
        mode, threads = self.args.mode, self.args.drivers
        if mode == "sync":

            def go(part: list[str]) -> None:
                for wid in part:
                    with SetWorkflowID(wid):
                        DBOS.start_workflow(notice_flow, notice(wid))

            in_threads(ids, threads, go)
        elif mode == "async":
            assert self.loop is not None
            asyncio.run_coroutine_threadsafe(self._start_async(ids), self.loop).result()
        else:
            client = self._client()

            def enqueue(part: list[str]) -> None:
                for chunk in batches(part, self.args.batch):
                    with client._sys_db.engine.begin() as conn:
                        for wid in chunk:
                            options: EnqueueOptions = {
                                "queue_name": QUEUE,
                                "workflow_name": "notice_flow",
                                "workflow_id": wid,
                            }
                            client.enqueue_in_transaction(conn, options, notice(wid))

            in_threads(ids, threads, enqueue)

    async def _start_async(self, ids: list[str]) -> None:
        async def one(wid: str) -> None:
            with SetWorkflowID(wid):
                await DBOS.start_workflow_async(notice_flow_async, notice(wid))

        for chunk in batches(ids, self.args.batch):
            await asyncio.gather(*(one(w) for w in chunk))

    def claim(self, ids: list[str]) -> None:
        size = self.args.batch
        send_bulk = self._client().send_bulk if self.args.mode == "queue" else DBOS.send_bulk

        def send(part: list[str]) -> None:
            for chunk in batches(part, size):
                send_bulk([claim_message(w) for w in chunk])

        in_threads(ids, self.args.drivers, send)

    def _client(self) -> DBOSClient:
        if self.client is None:
            self.client = DBOSClient(system_database_url=self.args.url)
        return self.client


def config(args: argparse.Namespace) -> DBOSConfig:
    cfg: DBOSConfig = {
        "name": "yunshang-peer-claim",
        "system_database_url": args.url,
        "log_level": "WARNING",
        "sys_db_pool_size": args.pool,
        "application_version": "bench",
    }
    if args.max_threads:
        cfg["max_executor_threads"] = args.max_threads
    return cfg


def answer(**fields: Any) -> None:
    sys.stdout.write(json.dumps(fields) + "\n")
    sys.stdout.flush()


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--url", required=True, help="the DBOS system database (postgresql://…)")
    p.add_argument("--mode", choices=["sync", "async", "queue", "queue-worker"], default="sync")
    p.add_argument("--drivers", type=int, default=4, help="threads that start workflows / send claims")
    p.add_argument("--batch", type=int, default=100, help="claims per send_bulk; enqueues per transaction")
    p.add_argument("--pool", type=int, default=20, help="sys_db_pool_size")
    p.add_argument("--max-threads", type=int, default=0, help="max_executor_threads (0: DBOS's default)")
    p.add_argument("--poll", type=float, default=0.1, help="queue polling_interval_sec")
    args = p.parse_args()
    logging.getLogger("dbos").setLevel(logging.WARNING)
    driver = Driver(args)
    if args.mode != "queue":
        DBOS(config=config(args))
        DBOS.launch()
        if args.mode == "queue-worker":
            DBOS.register_queue(QUEUE, polling_interval_sec=args.poll, on_conflict="always_update")
    if args.mode == "async":
        driver.loop = asyncio.new_event_loop()
        threading.Thread(target=driver.loop.run_forever, daemon=True).start()
    answer(ready=True, mode=args.mode)
    for line in sys.stdin:
        command = json.loads(line)
        t0 = time.perf_counter()
        if command["op"] == "quit":
            break
        getattr(driver, command["op"])(command["ids"])
        answer(op=command["op"], seconds=round(time.perf_counter() - t0, 3))
    if args.mode != "queue":
        DBOS.destroy(workflow_completion_timeout_sec=0)


if __name__ == "__main__":
    main()
