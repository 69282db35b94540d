"""Read a rules directory: parse, validate, check, and either a whole ``RuleSet`` or nothing.

``lint(directory)`` reports every problem at once; ``load_rules(directory)`` returns the rule set or
raises ``RulesInvalid`` with that report. A rule set is never half-loaded.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import TypeVar

from rules.checks import Context, run_checks
from rules.report import Collector, LintReport, Problem, RulesInvalid
from rules.schema import (
    FILES,
    OPTIONAL,
    Calendar,
    Deadlines,
    Escalation,
    Organisation,
    PermitRouting,
    RuleModel,
    RuleSet,
    Sampling,
)
from rules.validation import Validated, validate
from rules.yaml_source import PathKey, Position, format_path, parse_yaml, position_of

M = TypeVar("M", bound=RuleModel)

DEFAULT_DIRECTORY = Path(__file__).resolve().parent
"""The shipped default rule set (Laoshan district, Qingdao, division 370212)."""


@dataclass
class Loaded:
    """The outcome of reading a directory: the report, and the rule set when there is no error."""

    report: LintReport
    ruleset: RuleSet | None


@dataclass
class _FileState:
    positions: dict[PathKey, Position] = field(default_factory=dict)
    validated: Validated | None = None
    content: bytes | None = None


def content_hash(directory: str | Path) -> str:
    """sha256 over the rule files' names and bytes, in name order (missing files are skipped).
    Cheap enough to poll for hot reload: it changes exactly when a rule file's bytes change."""
    root = Path(directory)
    return _digest({name: (root / name).read_bytes() for name in FILES if (root / name).is_file()})


def _digest(contents: dict[str, bytes]) -> str:
    digest = hashlib.sha256()
    for name in sorted(contents):
        digest.update(f"{name}\0{len(contents[name])}\0".encode())
        digest.update(contents[name])
    return digest.hexdigest()


def read_rules(directory: str | Path) -> Loaded:
    """Read, validate and check every rule file in ``directory``; never raises for bad rules."""
    root = Path(directory)
    problems: list[Problem] = []
    states: dict[str, _FileState] = {}
    schema_out = Collector()
    if not root.is_dir():
        problems.append(Problem(".", 1, 1, "error", "", f"rules directory {root} does not exist"))
    else:
        for name, model in FILES.items():
            states[name] = _read_file(root, name, model, problems, schema_out)
        for extra in sorted(p.name for p in root.glob("*.yml")) + _extra_yaml(root):
            problems.append(
                Problem(
                    extra,
                    1,
                    1,
                    "warning",
                    "",
                    f"{extra} is not a rule file and is ignored: rule files are {', '.join(FILES)}",
                )
            )
    problems += _place(schema_out, states, translate=False)
    check_out = Collector()
    ctx = _context(states, check_out)
    run_checks(ctx)
    problems += _place(check_out, states, translate=True)
    contents = {name: state.content for name, state in states.items() if state.content is not None}
    report = LintReport(root, tuple(sorted(set(problems))), _digest(contents))
    return Loaded(report, _ruleset(ctx, states, report) if report.ok else None)


def lint(directory: str | Path) -> LintReport:
    """Every problem in the rules directory, errors and warnings, with file:line:column and path."""
    return read_rules(directory).report


def load_rules(directory: str | Path = DEFAULT_DIRECTORY) -> RuleSet:
    """The validated rule set of ``directory``; raises ``RulesInvalid`` (with the report) on any error."""
    loaded = read_rules(directory)
    if loaded.ruleset is None:
        raise RulesInvalid(loaded.report)
    return loaded.ruleset


def _extra_yaml(root: Path) -> list[str]:
    return sorted(p.name for p in root.glob("*.yaml") if p.name not in FILES)


def _read_file(
    root: Path, name: str, model: type[RuleModel], problems: list[Problem], out: Collector
) -> _FileState:
    state = _FileState()
    path = root / name
    if not path.is_file():
        if name in OPTIONAL:
            message = f"no {name}: deadlines use the engine's built-in calendar for every year"
            problems.append(Problem(name, 1, 1, "warning", "", message))
        else:
            problems.append(Problem(name, 1, 1, "error", "", f"missing required file {name}"))
        return state
    state.content = path.read_bytes()
    try:
        text = state.content.decode("utf-8")
    except UnicodeDecodeError as exc:
        problems.append(Problem(name, 1, 1, "error", "", f"the file is not UTF-8 text ({exc.reason})"))
        return state
    parsed = parse_yaml(text)
    if parsed.syntax_error is not None:
        (line, column), message = parsed.syntax_error
        problems.append(Problem(name, line, column, "error", "", message))
        return state
    for dup in parsed.duplicates:
        message = f"duplicate key '{dup.key}' (first at line {dup.first[0]}): remove or rename one"
        problems.append(Problem(name, dup.again[0], dup.again[1], "error", format_path(dup.path), message))
    state.positions = parsed.positions
    state.validated = validate(model, parsed.data, name, out)
    return state


def _place(out: Collector, states: dict[str, _FileState], *, translate: bool) -> list[Problem]:
    """Give each finding its line and column; check findings carry model paths, mapped back first."""
    placed = []
    for severity, file, path, message in out.findings:
        state = states.get(file, _FileState())
        if translate and state.validated is not None:
            path = state.validated.original(path)
        line, column = position_of(state.positions, path)
        placed.append(Problem(file, line, column, severity, format_path(path), message))
    return placed


def _model(states: dict[str, _FileState], name: str, cls: type[M]) -> M | None:
    validated = states[name].validated if name in states else None
    found = validated.model if validated is not None else None
    return found if isinstance(found, cls) else None


def _context(states: dict[str, _FileState], out: Collector) -> Context:
    def line_of(file: str, path: PathKey) -> int:
        state = states.get(file, _FileState())
        if state.validated is not None:
            path = state.validated.original(path)
        return position_of(state.positions, path)[0]

    pruned: set[str] = set()
    partial: set[tuple[str, str]] = set()
    unknowable: set[tuple[str, str]] = set()
    for name, state in states.items():
        if state.validated is not None:
            pruned |= state.validated.pruned_codes
            partial |= {(name, collection) for collection in state.validated.partial}
            unknowable |= {(name, collection) for collection in state.validated.unknowable}
    return Context(
        organisation=_model(states, "organisation.yaml", Organisation),
        routing=_model(states, "permit_routing.yaml", PermitRouting),
        deadlines=_model(states, "deadlines.yaml", Deadlines),
        escalation=_model(states, "escalation.yaml", Escalation),
        sampling=_model(states, "sampling.yaml", Sampling),
        calendar=_model(states, "calendar.yaml", Calendar),
        out=out,
        line_of=line_of,
        pruned=pruned,
        partial=partial,
        unknowable=unknowable,
    )


def _ruleset(ctx: Context, states: dict[str, _FileState], report: LintReport) -> RuleSet | None:
    if None in (ctx.organisation, ctx.routing, ctx.deadlines, ctx.escalation, ctx.sampling):
        return None  # pragma: no cover - a missing model always comes with an error
    locations = {
        f"{name}:{format_path(path)}": position
        for name, state in states.items()
        for path, position in state.positions.items()
    }
    return RuleSet.model_validate(
        {
            "organisation": ctx.organisation,
            "permit_routing": ctx.routing,
            "deadlines": ctx.deadlines,
            "escalation": ctx.escalation,
            "sampling": ctx.sampling,
            "calendar": ctx.calendar or Calendar(),
            "content_hash": report.content_hash,
            "locations": locations,
        }
    )
