"""Flow definitions: pure data (states, triggers, transitions, guards). No I/O, no clock, no database."""

from __future__ import annotations

from state_machines import dual_notification, license_registration, toy
from state_machines.base import Flow

FLOWS: dict[str, Flow] = {
    flow.name: flow for flow in (toy.FLOW, dual_notification.FLOW, license_registration.FLOW)
}

__all__ = ["FLOWS", "Flow"]
