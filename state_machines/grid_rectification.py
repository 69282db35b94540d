"""A rectification period (责令限期改正) inside the street's enforcement of the grid first check
(``state_machines.grid_check``): the payloads, guards and effects of its order and its end.

While the street office holds an unlicensed operator in ``street_enforcement`` it may order the operator
to rectify within a period (apply for the licence, stop the unlicensed part of the business). The order
is an internal transition that suspends every timer of the state (the enforcement deadline, its warning
and its supervision step: DOMAIN.md, "a rectification period suspends the clock of the level waiting
for it"); its end resumes them with the budget they had left, and the street then reports its
enforcement as before (``street.enforcement.reported``). One order is open at a time; a later one, after
the first ended, is a new period, kept in ``rectification_orders``.

Pure functions of (context, payload, now), like ``grid_effects``; what only the database can tell (the
task, its street, an order already open) is checked at the edge by the plug-in's routes as well.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from state_machines.base import Context, Effect, Payload

#: the context key of the open (or last) rectification order, and the list of the earlier ones
ORDER = "rectification_order"
ORDERS = "rectification_orders"


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class RectificationOrderPayload(_Strict):
    """``street.rectification.ordered``: the street orders the operator to rectify by ``until``."""

    street: str = Field(min_length=1, max_length=64)
    period: str | None = Field(default=None, max_length=200)
    """The period as ordered (``15 natural days``), when the order gave one; ``until`` is its end."""
    until: AwareDatetime
    comment: str = Field(default="", max_length=2000)
    ordered_at: AwareDatetime


class RectificationEndPayload(_Strict):
    """``street.rectification.ended``: the period is over, rectified or not."""

    street: str = Field(min_length=1, max_length=64)
    rectified: bool
    comment: str = Field(default="", max_length=2000)
    ended_at: AwareDatetime


def is_open(ctx: Context) -> bool:
    """Whether the task has a rectification order that has not ended."""
    order = ctx.get(ORDER)
    return isinstance(order, dict) and not order.get("ended_at")


def no_open_order(ctx: Context, payload: Payload, now: datetime) -> str | None:
    if is_open(ctx):
        return f"the operator was ordered to rectify already (until {ctx[ORDER]['until']}); end it first"
    return None


def open_order(ctx: Context, payload: Payload, now: datetime) -> str | None:
    if not is_open(ctx):
        return "no rectification order is open: nothing to end"
    return None


def _same_street(ctx: Context, payload: Payload) -> str | None:
    if payload.get("street") != ctx.get("street"):
        return f"the task is with street {ctx.get('street')}, not {payload.get('street')}"
    return None


def order_guard(ctx: Context, payload: Payload, now: datetime) -> str | None:
    return _same_street(ctx, payload) or no_open_order(ctx, payload, now)


def end_guard(ctx: Context, payload: Payload, now: datetime) -> str | None:
    return _same_street(ctx, payload) or open_order(ctx, payload, now)


def order(ctx: Context, payload: Payload, now: datetime) -> Effect:
    """The order is recorded; the engine suspends the state's timers (``suspends`` of the transition)."""
    entry: dict[str, Any] = {
        key: payload.get(key) for key in ("street", "period", "until", "comment", "ordered_at")
    }
    entry.update(recorded_at=now.isoformat(), ended_at=None, rectified=None, end_comment="")
    update: dict[str, Any] = {ORDER: entry}
    if ctx.get(ORDER):  # an earlier order, ended: kept in the list
        update[ORDERS] = [*ctx.get(ORDERS, []), ctx[ORDER]]
    return Effect(update)


def end(ctx: Context, payload: Payload, now: datetime) -> Effect:
    """The period is over; the engine resumes the state's timers with the budget they had left."""
    entry = {
        **ctx[ORDER],
        "ended_at": payload["ended_at"],
        "rectified": bool(payload["rectified"]),
        "end_comment": payload.get("comment", ""),
        "end_recorded_at": now.isoformat(),
    }
    return Effect({ORDER: entry})
