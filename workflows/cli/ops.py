"""Operator sub-commands: flows, clock, dead letters."""

from __future__ import annotations

import json
from typing import Annotated

import typer

from workflows.cli.app import JsonOpt, fail, runtime
from workflows.cli.front import front, tokens_app
from workflows.cli.rules import rules_app
from workflows.engine.machines import mermaid
from workflows.errors import YunshangError
from workflows.flows.dual_notification.cli import demo_app
from workflows.messaging.deadletters import list_dead, requeue
from workflows.time.clock import SimulatedClock, parse_span

flows = typer.Typer(help="Flow definitions.", no_args_is_help=True)
clock = typer.Typer(help="The engine's clock (advance only when simulated).", no_args_is_help=True)
dead = typer.Typer(help="Messages that exhausted their retries.", no_args_is_help=True)


def register(app: typer.Typer) -> None:
    if not any(group.name == "flows" for group in app.registered_groups):
        app.add_typer(flows, name="flows")
        app.add_typer(clock, name="clock")
        app.add_typer(dead, name="deadletters")
        app.add_typer(rules_app, name="rules")
        app.add_typer(tokens_app, name="tokens")
        for command in [*front.registered_commands, *demo_app.registered_commands]:
            app.registered_commands.append(command)


@flows.command("list")
def flows_list() -> None:
    """The flows this engine runs."""
    from state_machines import FLOWS

    for flow in FLOWS.values():
        typer.echo(
            f"{flow.name} v{flow.version}: {len(flow.states)} states, {len(flow.transitions)} transitions"
        )


@flows.command("diagram")
def flows_diagram(name: str) -> None:
    """Print the flow's Mermaid state diagram."""
    from state_machines import FLOWS

    flow = FLOWS.get(name)
    if flow is None:
        fail(f"unknown flow {name!r}; known flows: {', '.join(sorted(FLOWS))}")
    typer.echo(mermaid(flow), nl=False)


@clock.command("show")
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
        typer.echo(f"{now.isoformat()} ({kind} clock, offset {offset:.0f}s)")


@clock.command("advance")
def clock_advance(ctx: typer.Context, span: Annotated[str, typer.Argument(help="e.g. 49h, 2d, 90m")]) -> None:
    """Move the simulated clock forward (refused on the system clock)."""
    rt = runtime(ctx)
    try:
        now = rt.clock.advance(parse_span(span))
    except YunshangError as exc:
        fail(str(exc))
    typer.echo(f"clock is now {now.isoformat()}")


@dead.command("list")
def dead_list(
    ctx: typer.Context,
    as_json: JsonOpt = False,
    requeued: Annotated[
        bool, typer.Option("--requeued", help="also those already requeued (who, why)")
    ] = False,
) -> None:
    """Dead letters waiting, with the error that killed each."""
    rows = list_dead(runtime(ctx).db, include_requeued=requeued)
    if as_json:
        typer.echo(json.dumps([d.as_json(full_error=True) for d in rows], ensure_ascii=False, indent=2))
        return
    if not rows:
        typer.echo("no dead letters")
    for d in rows:
        when = d.failed_at.strftime("%Y-%m-%d %H:%M:%S")
        typer.echo(f"#{d.id} {d.actor} {d.message_id} after {d.attempts} attempts at {when}: {d.error_line}")
        if d.requeued_at is not None:
            when = d.requeued_at.strftime("%Y-%m-%d %H:%M:%S")
            typer.echo(f"    requeued {when} by {d.requeued_by}: {d.requeue_reason or '-'}")


@dead.command("requeue")
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
