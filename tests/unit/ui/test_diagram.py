"""The instance page's Mermaid diagram (``workflows.ui.diagram``), pure: generated from the flow's
definition, the current state and the path highlighted, and names that would break Mermaid's syntax
(or HTML) written as entity codes."""

from __future__ import annotations

import re

from state_machines import dual_notification
from state_machines.base import Flow, State, Trigger, transition
from workflows.ui.diagram import escape, state_diagram, state_id

HOSTILE = ('draft "x"', "<b>审核</b>", "a --> b : c", "end; class s0 evil", "done")


def hostile_flow() -> Flow:
    a, b, c, d, e = HOSTILE
    return Flow(
        name="hostile",
        version=1,
        initial=a,
        states=(State(a), State(b), State(c), State(d), State(e, final=True)),
        triggers=(Trigger("go"), Trigger("x%y\nz"), Trigger("stay")),
        transitions=(
            transition("go", a, b),
            transition("x%y\nz", (b, c), d),
            transition("go", d, e),
            transition("stay", d, None),
        ),
    )


def test_names_cannot_break_out_of_their_labels() -> None:
    text = state_diagram(hostile_flow(), current=HOSTILE[3], visited=HOSTILE[:2])
    lines = text.splitlines()
    assert lines[0] == "stateDiagram-v2"
    labels = [line for line in lines if line.lstrip().startswith("state ")]
    assert labels == [
        '    state "draft #34;x#34;" as s0',
        '    state "#60;b#62;审核#60;#47;b#62;" as s1',
        '    state "a --#62; b #58; c" as s2',
        '    state "end#59; class s0 evil" as s3',
        '    state "done" as s4',
    ]
    assert "    s1 --> s3 : x#37;y#10;z" in lines and "    s2 --> s3 : x#37;y#10;z" in lines
    assert "    [*] --> s0" in lines and "    s4 --> [*]" in lines
    # every label holds only safe characters and entity codes: nothing of a name got through raw
    safe = re.compile(r"(?:[A-Za-z0-9_ .\-\u4e00-\u9fff]|#\d+;)*")
    for line in lines[1:]:
        state = re.fullmatch(r'    state "(.*)" as s\d+', line)
        edge = re.fullmatch(r"    (?:s\d+|\[\*\]) --> (?:s\d+|\[\*\])(?: : (.*))?", line)
        style = re.fullmatch(r"    (?:classDef \w+ [\w:#,.-]+|class [s\d,]+ \w+|direction LR)", line)
        assert state or edge or style, line
        label = state.group(1) if state else edge.group(1) if edge else None
        assert label is None or safe.fullmatch(label), line
    assert lines[-2:] == ["    class s0,s1 visited", "    class s3 current"]
    assert "stay" not in text  # internal transitions change no state


def test_escape_keeps_plain_names_and_chinese() -> None:
    assert escape("awaiting_claim") == "awaiting_claim"
    assert escape("待认领 v1.2-x") == "待认领 v1.2-x"
    assert escape("a:b") == "a#58;b"


def test_the_dual_notification_diagram() -> None:
    flow = dual_notification.FLOW
    text = state_diagram(flow, "claimed", ["created", "awaiting_claim", "claimed"])
    ids = {s.name: state_id(flow, s.name) for s in flow.states}
    assert f"    {ids['created']} --> {ids['awaiting_claim']} : push#44; request_permit" in text
    assert f"    {ids['awaiting_claim']} --> {ids['claimed']} : claim" in text
    assert f"    {ids['permit_issued']} --> [*]" in text
    assert text.rstrip().endswith(
        f"class {ids['created']},{ids['awaiting_claim']} visited\n    class {ids['claimed']} current"
    )
    assert state_id(flow, "nope") is None
