"""Cross-department double-random joint inspection (双随机联合抽查) as a flow plug-in: a plan frozen with
its candidate snapshot and commitment, a draw anyone can re-run and verify, an inspection per drawn
object dispatched to its group, results per department, publication, follow-up cases.

It brings the state machines ``state_machines/joint_inspection.py`` (the inspection and its follow-up
case), the directories of inspection objects and officers (``directory*.py``), the draw (``stream.py``,
``draw.py``, ``receipt.py``), plans and draws as stored (``plans.py``, ``service.py``), its events
(``events.py``, ``routes.py``), its endpoints (``api.py``), ``yunshang draw verify`` (``cli.py``), who
receives its pushes (``recipients.py``) and its part of ``yunshang demo`` (``demo*.py``).
"""

from __future__ import annotations

from pathlib import Path

import typer

from state_machines import joint_inspection
from workflows.cli.common import composer
from workflows.flows.joint_inspection import directory_models as _tables  # noqa: F401  (its tables)
from workflows.flows.joint_inspection.api import router
from workflows.flows.joint_inspection.cli import add_commands as add_draw_commands
from workflows.flows.joint_inspection.demo import JointInspectionDemo
from workflows.flows.joint_inspection.directory import record_inspections
from workflows.flows.joint_inspection.directory_cli import add_directory_commands
from workflows.flows.joint_inspection.listing import list_licenses
from workflows.flows.joint_inspection.pages import pages
from workflows.flows.joint_inspection.recipients import TITLES, resolve
from workflows.flows.joint_inspection.routes import EVENTS
from workflows.plugins import FlowPlugin


def add_commands(app: typer.Typer) -> None:
    """``directory import objects|officers``, ``directory synthetic …`` and ``draw verify``."""
    add_directory_commands(app, composer)
    add_draw_commands(app)


PLUGIN = FlowPlugin(
    name="joint_inspection",
    description="double-random joint inspection (双随机联合抽查) with a draw anyone can verify",
    flows=(joint_inspection.FLOW, joint_inspection.FOLLOW_UP_FLOW),
    events=EVENTS,
    batch_write=list_licenses,
    router=router,
    pages=pages,
    templates=str(Path(__file__).parent / "templates"),
    nav=(("Draws", "/ui/draws", False),),
    cli=add_commands,
    recipients=resolve,
    titles=TITLES,
    local_effects={joint_inspection.RECORD_EFFECT: record_inspections},
    demo=JointInspectionDemo,
    rule_sections=(
        "deadlines.yaml: flows.joint_inspection, flows.inspection_follow_up",
        "escalation.yaml: ladders of joint_inspection and inspection_follow_up",
        "sampling.yaml: risk classes, officers per department, recusal, exclusion, results",
    ),
)
