"""The events of the grid first check benchmark, and the client that posts them to ``POST /events``.

A task starts from ``license.issued`` (the registration system): the seed's "73,000 items pushed to grid
workers" are information checks (信息核查) of enterprises, which is the task a license starts
(``task_kind: info_check``). The scopes need no permit, so dual notification — which routes the same
event — only records a registration (``no_match``) and opens no notice: the grid check stays the
measured flow. ``--start complaint`` uses 12345 ``complaint.received`` events instead.
"""

from __future__ import annotations

import csv
import itertools
import random
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx

from workflows.flows.dual_notification.demo_data import GENERIC, make_uscc

BATCH_TYPE = "application/cloudevents-batch+json"
REGISTRATION = "/bench/registration"
HOTLINE = "/bench/hotline/12345"
GRID_APP = "/bench/grid/app"
DEPARTMENT = "/bench/departments/SCJG"
CHECKLIST = [{"item": "亮照经营", "result": "ok"}, {"item": "经营地址与登记一致", "result": "ok"}]


@dataclass(frozen=True)
class Place:
    grid: str
    street: str


def directory_places(path: Path) -> list[Place]:
    """Every grid of a directory CSV with its street, in file order (a grid once)."""
    places: dict[str, Place] = {}
    with path.open(encoding="utf-8", newline="") as handle:
        for row in csv.DictReader(handle):
            places.setdefault(row["grid"], Place(row["grid"], row["street"]))
    return list(places.values())


def unique_usccs(count: int, seed: int) -> list[str]:
    """``count`` distinct valid USCCs of Laoshan (370212)."""
    rng = random.Random(seed)
    seen: set[str] = set()
    out: list[str] = []
    while len(out) < count:
        code = make_uscc(rng)
        if code not in seen:
            seen.add(code)
            out.append(code)
    return out


def _now() -> str:
    return datetime.now(UTC).isoformat()


def _event(source: str, event_id: str, etype: str, data: dict[str, Any]) -> dict[str, Any]:
    return {"specversion": "1.0", "id": event_id, "source": source, "type": etype, "data": data}


def start_event(kind: str, i: int, place: Place, uscc: str, tag: str) -> dict[str, Any]:
    """The event that starts task ``i`` in ``place``: ``license`` or ``complaint``."""
    address = f"山东省青岛市崂山区{place.grid}网格{i % 97 + 1}号"
    if kind == "complaint":
        data = {
            "complaint_id": f"{tag}-C{i}",
            "address": address,
            "grid": place.grid,
            "uscc": uscc,
            "name": f"崂山{i}商行",
            "content": "群众反映: 经营场所无营业执照公示",
            "received_at": _now(),
        }
        return _event(HOTLINE, f"{tag}-start-{i}", "complaint.received", data)
    data = {
        "uscc": uscc,
        "name": f"青岛崂山{i}贸易有限公司",
        "business_scope": "；".join(GENERIC[j % len(GENERIC)] for j in (i, i + 3)),
        "address": address,
        "street": place.street,
        "grid": place.grid,
        "legal_representative": "王伟",
        "issued_at": _now(),
    }
    return _event(REGISTRATION, f"{tag}-start-{i}", "license.issued", data)


def ack_event(task: int, worker: str, tag: str) -> dict[str, Any]:
    data = {"task": task, "worker_id": worker, "acknowledged_at": _now()}
    return _event(GRID_APP, f"{tag}-ack-{task}", "grid.task.acknowledged", data)


def check_event(task: int, worker: str, outcome: str, tag: str) -> dict[str, Any]:
    data = {
        "task": task,
        "worker_id": worker,
        "outcome": outcome,
        "checklist": CHECKLIST,
        "gps": {"lat": 36.1, "lon": 120.47},
        "photos": [f"photo/{task}.jpg"],
        "checked_at": _now(),
    }
    return _event(GRID_APP, f"{tag}-check-{task}", "grid.check.reported", data)


def enforcement_event(task: int, street: str, tag: str) -> dict[str, Any]:
    """The street hands an operator without a business licence over (§6: market supervision)."""
    data = {
        "task": task,
        "street": street,
        "result": "handed_over",
        "missing": "licence",
        "comment": "责令停止经营未果, 移交市场监管",
        "reported_at": _now(),
    }
    return _event(f"/bench/streets/{street}", f"{tag}-enforce-{task}", "street.enforcement.reported", data)


def case_event(task: int, department: str, tag: str) -> dict[str, Any]:
    data = {"task": task, "department": department, "result": "penalised", "reported_at": _now()}
    return _event(DEPARTMENT, f"{tag}-case-{task}", "department.case.reported", data)


@dataclass
class Posted:
    """What a run of posts gave: events answered ``accepted``, the others (with a few examples), and
    each request's round trip."""

    accepted: int = 0
    refused: int = 0
    examples: list[Any] = field(default_factory=list)
    round_trips: list[float] = field(default_factory=list)

    def add(self, other: Posted) -> None:
        self.accepted += other.accepted
        self.refused += other.refused
        self.examples = (self.examples + other.examples)[:5]
        self.round_trips += other.round_trips


class Poster:
    """An API client with the bench token; posts lone events or batches and counts the answers."""

    def __init__(self, port: int, token: str) -> None:
        self.client = httpx.Client(
            base_url=f"http://127.0.0.1:{port}", timeout=120, headers={"Authorization": f"Bearer {token}"}
        )

    def close(self) -> None:
        self.client.close()

    def batches(self, events: Sequence[dict[str, Any]], size: int) -> Posted:
        posted = Posted()
        for i in range(0, len(events), size):
            self.post_batch(list(events[i : i + size]), posted)
        return posted

    def post_batch(self, events: list[dict[str, Any]], posted: Posted) -> None:
        self._post(events, posted)

    def one(self, event: dict[str, Any], posted: Posted) -> None:
        self._post([event], posted, lone=True)

    def _post(self, events: list[dict[str, Any]], posted: Posted, lone: bool = False) -> None:
        began = time.perf_counter()
        if lone:
            response = self.client.post("/events", json=events[0])
        else:
            response = self.client.post("/events", json=events, headers={"Content-Type": BATCH_TYPE})
        posted.round_trips.append(time.perf_counter() - began)
        if response.status_code != 202:
            posted.refused += len(events)
            posted.examples = [*posted.examples, response.text[:500]][:5]
            return
        body = response.json()
        for status in body if isinstance(body, list) else [body]:
            if status.get("status") == "accepted":
                posted.accepted += 1
            else:
                posted.refused += 1
                if len(posted.examples) < 5:
                    posted.examples.append(status)


def post_all(
    ports: Sequence[int], token: str, events: Sequence[dict[str, Any]], size: int, clients: int
) -> Posted:
    """``events`` in batches of ``size``, from ``clients`` concurrent clients (each takes the next
    batch when its last one is answered); client ``k`` posts to ``ports[k % len(ports)]``."""
    starts = itertools.count(0, size)
    lock = threading.Lock()
    results = [Posted() for _ in range(clients)]

    def client(k: int) -> None:
        poster = Poster(ports[k % len(ports)], token)
        try:
            while True:
                with lock:
                    i = next(starts)
                if i >= len(events):
                    return
                poster.post_batch(list(events[i : i + size]), results[k])
        finally:
            poster.close()

    threads = [threading.Thread(target=client, args=(k,)) for k in range(clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    total = Posted()
    for r in results:
        total.add(r)
    return total
