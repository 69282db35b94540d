"""Flow definitions: pure data (states, triggers, transitions, guards). No I/O, no clock, no database.

One module per flow; the flow plug-in of ``workflows/flows/`` that runs it names it.
"""

from __future__ import annotations

from state_machines.base import Flow

__all__ = ["Flow"]
