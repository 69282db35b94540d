"""Rules that rule authors edit in YAML: schema, loader, lint, scope matching and diff.

Imports only the standard library, pydantic and PyYAML: the engine (``workflows``) builds on it,
never the other way round.

    report = lint("rules")                 # every problem at once, file:line:column + field path
    print(format_report(report))
    ruleset = load_rules("rules")          # or raises RulesInvalid(report); never half-loaded
    ruleset.deadline("dual_notification", "awaiting_claim", "claim_deadline")   # "48h"
    match_scope(ruleset, "药品零售;食品销售(仅销售预包装食品)")
    diff(old, new)
"""

from __future__ import annotations

from rules.diff import Change, diff, format_diff
from rules.durations import duration_problem, is_duration
from rules.loader import DEFAULT_DIRECTORY, Loaded, content_hash, lint, load_rules, read_rules
from rules.matching import Evidence, MatchResult, PermitMatch, ReviewHit, match_scope
from rules.report import LintReport, Problem, RulesError, RulesInvalid, format_report
from rules.schema import RuleSet

__all__ = [
    "DEFAULT_DIRECTORY",
    "Change",
    "Evidence",
    "LintReport",
    "Loaded",
    "MatchResult",
    "PermitMatch",
    "Problem",
    "ReviewHit",
    "RuleSet",
    "RulesError",
    "RulesInvalid",
    "content_hash",
    "diff",
    "duration_problem",
    "format_diff",
    "format_report",
    "is_duration",
    "lint",
    "load_rules",
    "match_scope",
    "read_rules",
]
