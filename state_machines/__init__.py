"""Flow definitions: pure data (states, triggers, transitions, guards). No I/O, no clock, no database."""

from __future__ import annotations

from state_machines import toy
from state_machines.base import Flow

FLOWS: dict[str, Flow] = {flow.name: flow for flow in (toy.FLOW,)}

__all__ = ["FLOWS", "Flow"]
