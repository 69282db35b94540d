"""The toy review flow as a plug-in: the smallest complete example of one (README, "Adding a flow").

Its state machine is ``state_machines/toy.py``; its events are ``toy.submitted`` and ``toy.decided``
(``events.py``); its deadline is ``flows.toy.awaiting_review.review_deadline`` in deadlines.yaml. An
escalated review notifies through the ``log.notify`` side-effect actor.
"""

from __future__ import annotations

from state_machines import toy
from workflows.flows.toy.events import EVENTS
from workflows.plugins import FlowPlugin

PLUGIN = FlowPlugin(
    name="toy",
    description="a four-state review flow for the engine's tests, benchmarks and tutorial",
    flows=(toy.FLOW,),
    events=EVENTS,
    rule_sections=("deadlines.yaml: flows.toy",),
)
