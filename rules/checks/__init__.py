"""Checks across the rule files, run after each file has been validated on its own."""

from __future__ import annotations

from rules.checks.calendar import check_calendar
from rules.checks.context import SAMPLING, Context, duplicates
from rules.checks.ladders import check_escalation_coverage, check_ladders
from rules.checks.organisation import check_organisation
from rules.checks.routing import check_routing


def check_sampling(ctx: Context) -> None:
    sampling = ctx.sampling
    if sampling is None:
        return
    codes = [risk.code for risk in sampling.risk_classes]
    for index, first in duplicates(codes):
        line = ctx.line_of(SAMPLING, ("risk_classes", first))
        ctx.error(
            SAMPLING,
            ("risk_classes", index, "code"),
            f"risk class '{codes[index]}' is defined twice (also at line {line})",
        )
    results = [result.code for result in sampling.results]
    for index, first in duplicates(results):
        line = ctx.line_of(SAMPLING, ("results", first))
        ctx.error(
            SAMPLING,
            ("results", index, "code"),
            f"result '{results[index]}' is defined twice (also at line {line})",
        )
    for index, code in enumerate(sampling.exclusion.no_problem_results if results else ()):
        if code not in results:
            ctx.error(
                SAMPLING,
                ("exclusion", "no_problem_results", index),
                f"no_problem_results names '{code}', which is not among the results",
            )


def run_checks(ctx: Context) -> None:
    """Every cross-file check; each adds its findings to ``ctx.out`` and never stops the others."""
    check_organisation(ctx)
    check_routing(ctx)
    check_ladders(ctx)
    check_sampling(ctx)
    check_escalation_coverage(ctx)
    check_calendar(ctx)


__all__ = ["Context", "run_checks"]
