"""Operator sub-commands: flows, clock, dead letters, suspended clocks."""

from __future__ import annotations

import json
from typing import Annotated

import typer

from workflows.cli.common import JsonOpt, composer, fail, runtime
from workflows.engine.machines import mermaid
from workflows.engine.suspend import Action
from workflows.engine.timer_actions import act_on_timers
from workflows.errors import YunshangError
from workflows.messaging.deadletters import list_dead, requeue
from workflows.time.clock import SimulatedClock, parse_span
from workflows.time.days import shown

flows_app = typer.Typer(help="Flow definitions.", no_args_is_help=True)
clock_app = typer.Typer(help="The engine's clock (advance only when simulated).", no_args_is_help=True)
dead_app = typer.Typer(help="Messages that exhausted their retries.", no_args_is_help=True)
timers_app = typer.Typer(
    help="Stop and restart an instance's deadline clocks (an approved extension 延期).", no_args_is_help=True
)


@flows_app.command("list")
def flows_list(ctx: typer.Context) -> None:
    """The flows this engine runs, by plug-in."""
    for plugin in composer(ctx).registry.plugins:
        for flow in plugin.flows:
            typer.echo(
                f"{flow.name} v{flow.version} ({plugin.name}): {len(flow.states)} states, "
                f"{len(flow.transitions)} transitions"
            )


@flows_app.command("diagram")
def flows_diagram(ctx: typer.Context, name: str) -> None:
    """Print the flow's Mermaid state diagram."""
    flows = composer(ctx).registry.flows
    flow = flows.get(name)
    if flow is None:
        fail(f"unknown flow {name!r}; known flows: {', '.join(sorted(flows))}")
    typer.echo(mermaid(flow), nl=False)


@clock_app.command("show")
def clock_show(ctx: typer.Context, as_json: JsonOpt = False) -> None:
    """The engine's current time (and the offset, when simulated)."""
    rt = runtime(ctx)
    now = rt.clock.now()
    offset = rt.clock.offset(fresh=True).total_seconds() if isinstance(rt.clock, SimulatedClock) else 0.0
    if as_json:
        typer.echo(
            json.dumps({"now": now.isoformat(), "simulated": rt.clock.simulated, "offset_seconds": offset})
        )
    else:
        kind = "simulated" if rt.clock.simulated else "system"
        typer.echo(f"{shown(now)} ({kind} clock, offset {offset:.0f}s)")


@clock_app.command("advance")
def clock_advance(ctx: typer.Context, span: Annotated[str, typer.Argument(help="e.g. 49h, 2d, 90m")]) -> None:
    """Move the simulated clock forward (refused on the system clock)."""
    rt = runtime(ctx)
    try:
        now = rt.clock.advance(parse_span(span))
    except YunshangError as exc:
        fail(str(exc))
    typer.echo(f"clock is now {shown(now)}")


@dead_app.command("list")
def dead_list(
    ctx: typer.Context,
    as_json: JsonOpt = False,
    requeued: Annotated[
        bool, typer.Option("--requeued", help="also those already requeued (who, why)")
    ] = False,
) -> None:
    """Dead letters waiting, with the error that killed each (those still only in the broker's
    dead-letter queue are recorded first)."""
    rt = runtime(ctx)
    try:
        drained = rt.recovery.drain_dead()
    except Exception as exc:  # the broker away: list what the database has, and say so
        typer.secho(
            f"warning: the broker's dead letters were not read: {exc}", fg=typer.colors.YELLOW, err=True
        )
        drained = 0
    if drained:
        typer.echo(f"recorded {drained} dead letters that were only in the broker", err=True)
    rows = list_dead(rt.db, include_requeued=requeued)
    if as_json:
        typer.echo(json.dumps([d.as_json(full_error=True) for d in rows], ensure_ascii=False, indent=2))
        return
    if not rows:
        typer.echo("no dead letters")
    for d in rows:
        when = shown(d.failed_at)
        typer.echo(f"#{d.id} {d.actor} {d.message_id} after {d.attempts} attempts at {when}: {d.error_line}")
        if d.requeued_at is not None:
            when = shown(d.requeued_at)
            typer.echo(f"    requeued {when} by {d.requeued_by}: {d.requeue_reason or '-'}")


@dead_app.command("requeue")
def dead_requeue(
    ctx: typer.Context,
    ids: Annotated[list[int], typer.Argument(help="dead letter ids")],
    reason: Annotated[str, typer.Option("--reason", help="why (kept with the dead letter)")] = "",
    operator: Annotated[str, typer.Option("--operator", help="who (kept with the dead letter)")] = "cli",
) -> None:
    """Send dead letters again (same message id; consumers dedupe)."""
    rt = runtime(ctx)
    failed = False
    for dead_id in ids:
        try:
            d = requeue(rt.db, rt.relay, rt.clock, dead_id, operator=operator, reason=reason)
        except YunshangError as exc:
            typer.secho(f"error: {exc}", fg=typer.colors.RED, err=True)
            failed = True
            continue
        typer.echo(f"requeued #{d.id} ({d.actor} {d.message_id})")
    if failed:
        raise typer.Exit(1)


TimerOpt = Annotated[
    str | None, typer.Option("--timer", help="one timer of the state (default: all open ones)")
]
ReasonOpt = Annotated[
    str, typer.Option("--reason", help="why (kept in the history), e.g. 延期 approved by …")
]
OperatorOpt = Annotated[str, typer.Option("--operator", help="who (kept in the history)")]


def _clocks(
    ctx: typer.Context, action: Action, instance_id: int, timer: str | None, reason: str, operator: str
) -> None:
    rt = runtime(ctx)
    try:
        done = act_on_timers(
            rt.db,
            rt.clock,
            rt.engine.deadlines,
            instance_id,
            action,
            operator=operator,
            reason=reason,
            timer=timer,
        )
    except YunshangError as exc:
        fail(str(exc))
    for t in done["timers"]:
        if action == "suspend":
            typer.echo(
                f"#{instance_id} {t['name']} suspended with {t['remaining_text']} left "
                f"(was due {shown(t['was_due_at'])})"
            )
        else:
            typer.echo(
                f"#{instance_id} {t['name']} resumed with {t['remaining_text']}: due {shown(t['due_at'])}"
            )


@timers_app.command("suspend")
def timers_suspend(
    ctx: typer.Context,
    instance_id: int,
    reason: ReasonOpt,
    timer: TimerOpt = None,
    operator: OperatorOpt = "cli",
) -> None:
    """Stop the clocks of an instance's open timers: each keeps the budget it has left and does not fire."""
    _clocks(ctx, "suspend", instance_id, timer, reason, operator)


@timers_app.command("resume")
def timers_resume(
    ctx: typer.Context,
    instance_id: int,
    reason: ReasonOpt,
    timer: TimerOpt = None,
    operator: OperatorOpt = "cli",
) -> None:
    """Start suspended clocks again: each is due when its budget, counted from now, runs out."""
    _clocks(ctx, "resume", instance_id, timer, reason, operator)
