"""An instance's flow as a Mermaid ``stateDiagram-v2``, generated from the flow's definition (its
states and transitions, ``state_machines``), with the path the instance took and its current state
highlighted (``classDef``).

States get generated ids (``s0``, ``s1``, …) and their names are labels (``state "name" as s0``),
transition labels are triggers; both are written with every character outside ``[A-Za-z0-9_ .-]`` and
CJK as a Mermaid entity code (``#35;``), so no name can break out of its label or inject syntax (nor
HTML: the text is also autoescaped in the page). Internal transitions (``dest`` None: a warning
passed, a late claim recorded) change no state and are left out; final states lead to ``[*]``.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from state_machines.base import Flow

_SAFE = re.compile(r"[A-Za-z0-9_ .\-\u4e00-\u9fff]")
CURRENT = "current"
VISITED = "visited"
STYLES = {
    CURRENT: "fill:#f0a202,stroke:#14324f,stroke-width:3px,color:#14324f,font-weight:bold",
    VISITED: "fill:#cfe3f7,stroke:#0b5cad,stroke-width:2px,color:#14324f",
}


def escape(text: str) -> str:
    """``text`` with every character outside the safe set as a Mermaid entity code."""
    return "".join(ch if _SAFE.fullmatch(ch) else f"#{ord(ch)};" for ch in text)


def state_diagram(flow: Flow, current: str | None = None, visited: Iterable[str] = ()) -> str:
    """The flow's diagram; ``current`` (the instance's state) and ``visited`` (the states its history
    passed through) are highlighted."""
    ids = {state.name: f"s{i}" for i, state in enumerate(flow.states)}
    lines = ["stateDiagram-v2", "    direction LR"]
    lines += [f"    classDef {name} {style}" for name, style in STYLES.items()]
    lines += [f'    state "{escape(state.name)}" as {ids[state.name]}' for state in flow.states]
    lines.append(f"    [*] --> {ids[flow.initial]}")
    edges: dict[tuple[str, str], list[str]] = {}
    for t in flow.transitions:
        if t.dest is None:
            continue
        for source in t.source:
            triggers = edges.setdefault((source, t.dest), [])
            if t.trigger not in triggers:
                triggers.append(t.trigger)
    for (source, dest), triggers in edges.items():
        label = escape(", ".join(triggers))
        lines.append(f"    {ids[source]} --> {ids[dest]} : {label}")
    lines += [f"    {ids[state.name]} --> [*]" for state in flow.states if state.final]
    seen = [name for name in dict.fromkeys(visited) if name in ids and name != current]
    if seen:
        lines.append(f"    class {','.join(ids[name] for name in seen)} {VISITED}")
    if current in ids:
        lines.append(f"    class {ids[current]} {CURRENT}")
    return "\n".join(lines) + "\n"


def state_id(flow: Flow, state: str) -> str | None:
    """The diagram id of ``state`` (``s3``), None for a state the flow does not declare."""
    for i, s in enumerate(flow.states):
        if s.name == state:
            return f"s{i}"
    return None
