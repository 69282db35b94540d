"""Dual notification (双告知) as a flow plug-in: a license fans out into one notice per (enterprise,
permit item, department), each claimed within 48 hours, escalated, and followed up to the permit.

It brings two state machines (``state_machines/license_registration.py`` and
``state_machines/dual_notification.py``), the six event types of the registration system and the
departments (``events.py``, routed in ``routes.py`` after planning against the permit-routing rules in
``planning.py``), the operator endpoints ``/instances/{id}/route``, ``/reroute`` and ``/scorecard``
(``api.py``), the ``scorecard`` command (``cli.py``), its part of ``yunshang demo`` (``demo.py``: the
licenses of a synthetic district, ``demo_data.py``, and the departments' habits), who receives its
pushes (``recipients.py``) and the dry run of its events (``explain*.py``).
"""

from __future__ import annotations

from pathlib import Path

from state_machines import dual_notification, license_registration
from workflows.flows.dual_notification.api import router
from workflows.flows.dual_notification.cli import add_commands
from workflows.flows.dual_notification.demo import DualNotificationDemo
from workflows.flows.dual_notification.explain_text import explain_event
from workflows.flows.dual_notification.pages import pages
from workflows.flows.dual_notification.recipients import TITLES, resolve
from workflows.flows.dual_notification.routes import EVENTS, prefetch
from workflows.plugins import FlowPlugin

PLUGIN = FlowPlugin(
    name="dual_notification",
    description="dual notification (双告知): a notice per permit and department, claimed within 48 h",
    flows=(license_registration.FLOW, dual_notification.FLOW),
    events=EVENTS,
    prefetch=prefetch,
    router=router,
    pages=pages,
    templates=str(Path(__file__).parent / "templates"),
    nav=(("Notice scorecard", "/ui/scorecard/notices", True),),
    cli=add_commands,
    recipients=resolve,
    titles=TITLES,
    explainers={"license.issued": explain_event, "scope.changed": explain_event},
    demo=DualNotificationDemo,
    rule_sections=(
        "permit_routing.yaml",
        "deadlines.yaml: flows.dual_notification",
        "escalation.yaml: ladders of dual_notification",
        "organisation.yaml: departments, roles, escalation_levels",
    ),
)
