"""The contract between a rule set and the flows the engine runs, checked before a rule set is used.

The rules linter (``rules``) knows no flow: it checks the rule files against each other. This check
knows both sides: every timer of every state of every flow the engine runs needs a deadline rule
(else each push into that state is dead-lettered with ``MissingDeadline``), and an escalation ladder
of a running flow must name real states of it and real timers of those states. Rules for a flow the
engine does not run (yet) are warnings: they take effect when its plug-in is added.

It reads the files' YAML itself (not the validated rule set), so ``rules lint`` reports a broken
contract together with the linter's own problems, even when those keep the rule set from loading.
Problems have the linter's shape (``file:line:column: severity: field: message``, ``rules.Problem``).
``lint_with_contract`` lints a snapshot of rule files (``snapshot``) and checks it, for every path
that accepts a rule set: ``yunshang rules lint``, ``rules reload``, hot reload and start-up.
"""

from __future__ import annotations

import tempfile
from collections.abc import Iterator, Mapping
from dataclasses import replace
from pathlib import Path
from typing import Any

from rules import LintReport, Loaded, Problem, read_rules
from rules.report import Severity
from rules.schema import FILES
from rules.yaml_source import ParsedYaml, PathKey, format_path, parse_yaml, position_of
from state_machines.base import Flow

DEADLINES = "deadlines.yaml"
ESCALATION = "escalation.yaml"

#: rule file name → its bytes or text, as read (``versions.snapshot``) or stored
RuleFiles = Mapping[str, bytes | str]


def check_contract(files: RuleFiles, flows: Mapping[str, Flow]) -> tuple[Problem, ...]:
    """Every problem between the rule files and ``flows`` (flow name → definition), sorted."""
    deadlines, escalation = _parse(files, DEADLINES), _parse(files, ESCALATION)
    problems = [*_deadline_problems(deadlines, flows), *_ladder_problems(escalation, flows)]
    return tuple(sorted(set(problems)))


def with_contract(report: LintReport, files: RuleFiles, flows: Mapping[str, Flow]) -> LintReport:
    """The linter's ``report`` with the contract's problems merged in, in file, line, column order."""
    merged = sorted(set(report.problems) | set(check_contract(files, flows)))
    return replace(report, problems=tuple(merged))


def snapshot(directory: str | Path) -> dict[str, bytes]:
    """The bytes of every rule file in ``directory``, read once (missing files are left out)."""
    root = Path(directory)
    return {name: (root / name).read_bytes() for name in FILES if (root / name).is_file()}


def lint_files(files: Mapping[str, bytes | str], label: str | Path = "stored rules") -> Loaded:
    """Lint a set of rule files given as contents; the report names ``label`` as their folder."""
    with tempfile.TemporaryDirectory(prefix="yunshang-rules-") as tmp:
        for name, body in files.items():
            if name in FILES:
                data = body.encode("utf-8") if isinstance(body, str) else body
                (Path(tmp) / name).write_bytes(data)
        loaded = read_rules(tmp)
    return Loaded(replace(loaded.report, directory=Path(label)), loaded.ruleset)


def lint_with_contract(files: RuleFiles, label: str | Path, flows: Mapping[str, Flow]) -> Loaded:
    """``lint_files`` with the contract merged in: the rule set only when neither found an error."""
    loaded = lint_files(files, label)
    report = with_contract(loaded.report, files, flows)
    return Loaded(report, loaded.ruleset if report.ok else None)


def _parse(files: RuleFiles, name: str) -> ParsedYaml | None:
    """The file's YAML, or None when it is missing or unreadable (the linter reports that)."""
    body = files.get(name)
    if body is None:
        return None
    try:
        text = body.decode("utf-8") if isinstance(body, bytes) else body
    except UnicodeDecodeError:
        return None
    parsed = parse_yaml(text)
    return parsed if parsed.syntax_error is None else None


def _problem(parsed: ParsedYaml, file: str, severity: Severity, path: PathKey, message: str) -> Problem:
    line, column = position_of(parsed.positions, path)
    return Problem(file, line, column, severity, format_path(path), message)


def _mapping(value: object) -> dict[str, Any]:
    return {str(k): v for k, v in value.items()} if isinstance(value, dict) else {}


def _running(flows: Mapping[str, Flow]) -> str:
    return ", ".join(sorted(flows)) or "none"


# ------------------------------------------------------------------------------ deadlines.yaml
def _deadline_problems(parsed: ParsedYaml | None, flows: Mapping[str, Flow]) -> Iterator[Problem]:
    if parsed is None:
        return
    written = _mapping(_mapping(parsed.data).get("flows"))
    for flow in flows.values():
        for state, timer in flow.timers():
            have = _mapping(_mapping(written.get(flow.name)).get(state.name))
            if timer.name not in have:
                yield _problem(
                    parsed,
                    DEADLINES,
                    "error",
                    ("flows", flow.name, state.name, timer.name),
                    f"no deadline for {flow.name}.{state.name}.{timer.name}: the flow arms timer "
                    f"'{timer.name}' ({timer.kind}) in state '{state.name}', so every case entering it "
                    f"would be dead-lettered (MissingDeadline); add `{timer.name}: <duration>` under "
                    f"flows.{flow.name}.{state.name}",
                )
    for name, states in written.items():
        running = flows.get(name)
        if running is None:
            yield _problem(
                parsed,
                DEADLINES,
                "warning",
                ("flows", name),
                f"flow '{name}' is not run by this engine (it runs {_running(flows)}): its deadlines "
                "take effect when its plug-in is added",
            )
            continue
        yield from _unused_deadlines(parsed, running, _mapping(states))


def _unused_deadlines(parsed: ParsedYaml, flow: Flow, states: dict[str, Any]) -> Iterator[Problem]:
    for state_name, timers in states.items():
        if state_name not in flow.state_names:
            known = ", ".join(s.name for s in flow.states if s.timers) or "none"
            yield _problem(
                parsed,
                DEADLINES,
                "warning",
                ("flows", flow.name, state_name),
                f"flow '{flow.name}' has no state '{state_name}'; its states with timers: {known}",
            )
            continue
        declared = {t.name for t in flow.state(state_name).timers}
        for timer in _mapping(timers):
            if timer not in declared:
                yield _problem(
                    parsed,
                    DEADLINES,
                    "warning",
                    ("flows", flow.name, state_name, timer),
                    f"flow '{flow.name}' arms no timer '{timer}' in state '{state_name}' (it arms "
                    f"{', '.join(sorted(declared)) or 'none'}): this deadline is never used",
                )


# ------------------------------------------------------------------------------ escalation.yaml
def _ladder_problems(parsed: ParsedYaml | None, flows: Mapping[str, Flow]) -> Iterator[Problem]:
    if parsed is None:
        return
    ladders = _mapping(parsed.data).get("ladders")
    for index, raw in enumerate(ladders if isinstance(ladders, list) else []):
        ladder = _mapping(raw)
        code, flow_name, state_name = ladder.get("code"), ladder.get("flow"), ladder.get("state")
        if not isinstance(flow_name, str) or not isinstance(state_name, str):
            continue  # the linter reports a ladder without flow or state
        path: PathKey = ("ladders", index)
        flow = flows.get(flow_name)
        if flow is None:
            yield _problem(
                parsed,
                ESCALATION,
                "warning",
                (*path, "flow"),
                f"ladder '{code}' is for flow '{flow_name}', which this engine does not run (it runs "
                f"{_running(flows)}): it takes effect when that flow's plug-in is added",
            )
            continue
        if state_name not in flow.state_names:
            yield _problem(
                parsed,
                ESCALATION,
                "error",
                (*path, "state"),
                f"ladder '{code}' runs in state '{state_name}', which flow '{flow_name}' does not have; "
                f"its states with timers: {', '.join(s.name for s in flow.states if s.timers) or 'none'}",
            )
            continue
        timers = {t.name for t in flow.state(state_name).timers}
        for ref_path, at in _refs(ladder, path):
            if at not in timers:
                yield _problem(
                    parsed,
                    ESCALATION,
                    "error",
                    ref_path,
                    f"ladder '{code}' waits for timer '{at}', which flow '{flow_name}' does not arm in "
                    f"state '{state_name}' (it arms {', '.join(sorted(timers)) or 'none'})",
                )


def _refs(ladder: dict[str, Any], path: PathKey) -> Iterator[tuple[PathKey, object]]:
    """(path of ``at``, the timer) of the ladder's start and of every step's ``next``."""
    start = _mapping(ladder.get("start"))
    if "at" in start:
        yield (*path, "start", "at"), start["at"]
    steps = ladder.get("steps")
    for index, step in enumerate(steps if isinstance(steps, list) else []):
        ref = _mapping(_mapping(step).get("next"))
        if "at" in ref:
            yield (*path, "steps", index, "next", "at"), ref["at"]
