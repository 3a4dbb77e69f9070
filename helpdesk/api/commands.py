"""``helpdesk api token create|list``: tokens for scripts and set-up (the UI does the same)."""

from __future__ import annotations

import click
from flask.cli import AppGroup
from sqlalchemy import select

from helpdesk.api import tokens
from helpdesk.api.models import TokenScope
from helpdesk.auth.models import StaffUser
from helpdesk.extensions import db
from helpdesk.transaction import unit_of_work

api_command = AppGroup("api", help="The REST API: tokens.")
token_group = AppGroup("token", help="Staff API tokens.")
api_command.add_command(token_group)


@token_group.command("create")
@click.option("--email", required=True, help="The staff user the token acts as.")
@click.option("--name", default="cli", show_default=True, help="A label to tell tokens apart.")
@click.option("--scope", type=click.Choice([s.value for s in TokenScope]), default="read", show_default=True)
def create_token(email: str, name: str, scope: str) -> None:
    """Create a token and print it (only the hash is stored: this is the one chance to copy it)."""
    staff = db.session.scalar(select(StaffUser).where(StaffUser.email == email.strip().lower()))
    if staff is None or not staff.is_active:
        raise click.ClickException(f"No active staff user has the email {email!r}.")
    with unit_of_work():
        _token, secret = tokens.issue_token(staff, name=name, scope=TokenScope(scope), actor=staff)
    click.echo(secret)


@token_group.command("list")
def list_tokens() -> None:
    """Every token: id, staff, scope, prefix, state."""
    for token in tokens.tokens_of(None):
        state = "revoked" if token.revoked_at else "active"
        click.echo(
            f"{token.id}\t{token.staff.email}\t{token.scope.value}\t{token.prefix}…\t{state}\t{token.name}"
        )
