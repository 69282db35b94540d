"""Grid first check (网格首检) as a flow plug-in: a task per new enterprise, 12345 complaint, patrol
finding or referral, routed by grid to its worker and escalated grid → street → department → district.

It brings the state machine ``state_machines/grid_check.py``, the grid directory (``directory*.py``:
streets, grids and workers as data, ``yunshang directory import grids FILE``, a synthetic Laoshan
directory in ``data/``), the event types of the grid worker's app, the hotline, the street offices and
the departments (``events.py``, routed in ``routes.py``; ``license.issued`` is shared with dual
notification through ``workflows.upstream``; a rectification period's order and end, which stop and
restart the street's enforcement clock, in ``rectification.py``), who holds a task (``placing.py``),
where the rules send a case on (``handoffs.py``), who receives its pushes (``recipients.py``), the
grid scorecard, and its part of ``yunshang demo`` (``demo*.py``: the synthetic directory's workers,
streets and departments).
"""

from __future__ import annotations

from pathlib import Path

from state_machines import grid_check
from state_machines.grid_effects import ASSIGN_EFFECT
from workflows.flows.grid_check.api import router
from workflows.flows.grid_check.cli import add_commands
from workflows.flows.grid_check.demo import GridCheckDemo
from workflows.flows.grid_check.pages import pages
from workflows.flows.grid_check.placing import assign_referred
from workflows.flows.grid_check.prefetch import prefetch
from workflows.flows.grid_check.recipients import TITLES, resolve
from workflows.flows.grid_check.rectification import EVENTS as RECTIFICATION_EVENTS
from workflows.flows.grid_check.routes import EVENTS
from workflows.plugins import FlowPlugin

PLUGIN = FlowPlugin(
    name="grid_check",
    description="grid first check (网格首检): on-site checks by grid workers, escalated up the chain",
    flows=(grid_check.FLOW,),
    events=(*EVENTS, *RECTIFICATION_EVENTS),
    prefetch=prefetch,
    router=router,
    pages=pages,
    templates=str(Path(__file__).parent / "templates"),
    nav=(("Grid scorecard", "/ui/grid/scorecard", False), ("Grid tasks", "/ui/grid/tasks", True)),
    cli=add_commands,
    recipients=resolve,
    titles=TITLES,
    local_effects={ASSIGN_EFFECT: assign_referred},
    demo=GridCheckDemo,
    rule_sections=(
        "deadlines.yaml: flows.grid_check",
        "escalation.yaml: ladders of grid_check, returns.grid_check",
        "organisation.yaml: streets, grids, referrals",
        "permit_routing.yaml: permit items and their departments",
    ),
)
