"""``helpdesk sla …``: default set-up, bulk recomputation and a manual breach check."""

from __future__ import annotations

import click
from flask.cli import AppGroup

from helpdesk.transaction import unit_of_work

sla_command = AppGroup("sla", help="SLA calendars, policies and due times.")


@sla_command.command("setup")
def setup_command() -> None:
    """Create the default Riyadh calendar and policies unless some exist, then recompute."""
    from helpdesk.sla.service import ensure_default_setup, recompute_all_open

    with unit_of_work():
        calendar = ensure_default_setup()
    click.echo(f"Calendar: {calendar.name}; recomputed {recompute_all_open()} open tickets.")


@sla_command.command("recompute")
@click.option("--all", "include_done", is_flag=True, help="Solved and closed tickets too.")
def recompute_command(include_done: bool) -> None:
    """Recompute the due times of every open ticket (after changing customer tiers in bulk, say)."""
    from helpdesk.sla.service import recompute_all_open

    count = recompute_all_open(include_done=include_done)
    click.echo(f"Recomputed {count} {'' if include_done else 'open '}tickets.")


@sla_command.command("check")
def check_command() -> None:
    """Record and notify due warnings and breaches now (the worker does this every minute)."""
    from helpdesk.sla.breaches import check_breaches

    counts = check_breaches()
    click.echo(f"New warnings: {counts['warnings']}, new breaches: {counts['breaches']}.")
