"""End to end through the HTTP API: the real app under uvicorn, on both stacks, with the default rules.

Every test posts CloudEvents to ``POST /events`` with the admin token, drives the simulated clock
(advance, sweep, settle) and asserts through the query API and the ``deliveries`` table.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from pathlib import Path
from typing import Any

import chinese_calendar
import httpx
import pytest
from sqlalchemy import func, select

from tests.e2e.api.conftest import Api, serve
from tests.support import Stack, running_stack
from worker import PLUGINS
from workflows import uscc
from workflows.ruleset.adapter import RuleDeadlines
from workflows.settings import RULES_DIR
from workflows.store.models import Base, Delivery
from workflows.time.calendar import SHANGHAI

PHARMACY = uscc.make("91370212MA3QK7T84")  # 青岛崂山仁心大药房有限公司
HOTEL = uscc.make("92370212MA3R0HTL1")  # 崂山海韵宾馆
BAKERY = uscc.make("92370212MA3R1BKR2")
NOBODY = uscc.make("91370212MA3YYYYY9")  # never licensed

REGISTRATION = "/registration/370212"

_ids = itertools.count(1)


def event_id(prefix: str) -> str:
    return f"{prefix}-{next(_ids)}"


def cloudevent(etype: str, data: dict[str, Any], *, id: str, source: str = REGISTRATION) -> dict[str, Any]:
    return {"specversion": "1.0", "id": id, "source": source, "type": etype, "data": data}


def license_data(code: str, name: str, scope: str, issued_at: datetime, **extra: Any) -> dict[str, Any]:
    return {
        "uscc": code,
        "name": name,
        "business_scope": scope,
        "address": "青岛市崂山区海尔路1号",
        "street": "ZHONGHAN",
        "grid": "ZH-001",
        "legal_representative": "张三",
        "issued_at": issued_at.isoformat(),
        **extra,
    }


@dataclass
class E2E:
    """The API of one running stack, driven the way the registration system and departments do."""

    api: Api
    http: httpx.Client

    @property
    def stack(self) -> Stack:
        return self.api.stack

    def now(self) -> datetime:
        return self.stack.clock.now()

    # ---------------------------------------------------------------- events
    def post(self, event: dict[str, Any]) -> httpx.Response:
        return self.http.post("/events", json=event)

    def emit(
        self, etype: str, data: dict[str, Any], *, id: str | None = None, source: str = REGISTRATION
    ) -> dict[str, Any]:
        """Post one event that must be accepted; returns the intake's answer."""
        response = self.post(cloudevent(etype, data, id=id or event_id(etype), source=source))
        assert response.status_code == 202, response.text
        body: dict[str, Any] = response.json()
        assert body["status"] == "accepted", body
        return body

    def license(
        self, code: str, name: str, scope: str, issued_at: datetime | None = None, **extra: Any
    ) -> dict[str, Any]:
        return self.emit("license.issued", license_data(code, name, scope, issued_at or self.now(), **extra))

    def claim(self, notice: int, officer: str, at: datetime | None = None, **extra: Any) -> dict[str, Any]:
        data = {"notice": notice, "officer": officer, "claimed_at": (at or self.now()).isoformat(), **extra}
        return self.emit("notice.claimed", data, source="/departments/app")

    def permit(
        self, code: str, permit_item: str, department: str, permit_no: str, issued_at: datetime
    ) -> dict[str, Any]:
        data = {
            "uscc": code,
            "permit_item": permit_item,
            "department": department,
            "permit_no": permit_no,
            "issued_at": issued_at.isoformat(),
        }
        return self.emit("permit.issued", data, source=f"/approvals/{department}")

    # ---------------------------------------------------------------- clock
    def tick(self, hours: float) -> None:
        """Advance the simulated clock, fire what fell due, and wait for every consequence."""
        self.stack.advance(hours)
        self.stack.runtime.sweeper.sweep()
        self.stack.settle()

    def tick_to(self, moment: datetime) -> None:
        """Advance the simulated clock to ``moment`` (which must be ahead), sweep and settle."""
        ahead = moment - self.now()
        assert ahead > timedelta(0), f"{moment.isoformat()} is already past"
        self.tick(ahead.total_seconds() / 3600)

    # ---------------------------------------------------------------- queries
    def get(self, path: str, **params: Any) -> Any:
        response = self.http.get(path, params=params)
        assert response.status_code == 200, response.text
        return response.json()

    def instances(self, **params: Any) -> list[dict[str, Any]]:
        items: list[dict[str, Any]] = self.get("/instances", limit=500, **params)["items"]
        return items

    def instance(self, instance_id: int) -> dict[str, Any]:
        detail: dict[str, Any] = self.get(f"/instances/{instance_id}")
        return detail

    def notices(self, code: str) -> dict[tuple[str, str], dict[str, Any]]:
        """The enterprise's notices by (permit item, department), in full."""
        found = self.instances(flow="dual_notification", subject=code)
        details = [self.instance(item["id"]) for item in found]
        return {(d["context"]["permit"], d["context"]["department"]): d for d in details}

    def notice(self, code: str, permit: str, department: str) -> dict[str, Any]:
        return self.notices(code)[(permit, department)]

    def overdue_ids(self) -> set[int]:
        return {i["id"] for i in self.instances(flow="dual_notification", overdue="true")}

    def scorecard(self, start: datetime, end: datetime) -> dict[str, Any]:
        card: dict[str, Any] = self.get("/scorecard", start=start.isoformat(), end=end.isoformat())
        return card

    def deliveries(self, instance_id: int | None = None, kind: str | None = None) -> list[Delivery]:
        query = select(Delivery).order_by(Delivery.id)
        if instance_id is not None:
            query = query.where(Delivery.instance_id == instance_id)
        if kind is not None:
            query = query.where(Delivery.kind == kind)
        with self.stack.runtime.db.read() as session:
            return list(session.execute(query).scalars())

    def counts(self) -> dict[str, int]:
        """Rows per table: what "nothing changed" is checked against."""
        with self.stack.runtime.db.read() as session:
            return {
                t.name: int(session.execute(select(func.count()).select_from(t)).scalar_one())
                for t in Base.metadata.sorted_tables
            }


@contextmanager
def e2e_stack(kind: str, tmp_path: Path, **overrides: Any) -> Iterator[E2E]:
    """A stack with the default rule set's deadlines, served over HTTP, with an admin client."""
    with running_stack(kind, tmp_path, deadlines=RuleDeadlines.load(RULES_DIR), **overrides) as stack:
        with contextmanager(serve)(stack) as api, api.client(api.admin) as http:
            yield E2E(api, http)


#: dual notification without the other plug-ins that route licenses too (their own tests run them all)
NOTICE_PLUGINS = tuple(p for p in PLUGINS if p.name not in ("grid_check", "joint_inspection"))


@pytest.fixture
def e2e(stack_kind: str, tmp_path: Path) -> Iterator[E2E]:
    with e2e_stack(stack_kind, tmp_path, plugins=NOTICE_PLUGINS) as running:
        yield running


def at(text: str) -> datetime:
    return datetime.fromisoformat(text)


def end_of_next_working_day(moment: datetime) -> datetime:
    """By hand from the holiday tables: 00:00 Asia/Shanghai after the first working day that follows
    ``moment``'s Shanghai date (make-up Saturdays count, holidays and weekends do not)."""
    day = moment.astimezone(SHANGHAI).date() + timedelta(days=1)
    while not chinese_calendar.is_workday(day):
        day += timedelta(days=1)
    return datetime.combine(day + timedelta(days=1), time(0), SHANGHAI)
