"""``helpdesk whatsapp connect``: connect a queue to a WhatsApp business number."""

from __future__ import annotations

import click
from flask.cli import with_appcontext
from sqlalchemy import select

from helpdesk.extensions import db
from helpdesk.tickets.errors import DomainError
from helpdesk.tickets.models import Queue
from helpdesk.transaction import unit_of_work
from helpdesk.whatsapp.accounts import Settings, connect
from helpdesk.whatsapp.graph import secret
from helpdesk.whatsapp.models import DEFAULT_GRAPH_URL


@click.group("whatsapp", help="The WhatsApp channel (WhatsApp Business Cloud API).")
def whatsapp_command() -> None:
    """Connect queues to WhatsApp numbers (``helpdesk whatsapp connect``)."""


@whatsapp_command.command("connect")
@click.option("--queue", "queue_slug", required=True, help="The queue's short name.")
@click.option("--phone-number-id", required=True, help="The number's ID in Meta's WhatsApp Manager.")
@click.option("--token-env", required=True, help="Environment variable holding the access token.")
@click.option("--app-secret-env", required=True, help="Environment variable holding the app secret.")
@click.option("--verify-token-env", required=True, help="Environment variable holding the verify token.")
@click.option("--graph-url", default=DEFAULT_GRAPH_URL, show_default=True, help="Graph API base URL.")
@click.option(
    "--idle-hours", default=24, show_default=True, help="Hours after solving that start a new ticket."
)
@click.option("--template", "template_name", help="Approved template offered after the 24-hour window.")
@click.option("--template-languages", default="ar,en", show_default=True)
@with_appcontext
def connect_command(queue_slug: str, **options) -> None:
    """Connect (or re-configure) a queue's WhatsApp number; secrets stay in the environment."""
    queue = db.session.scalar(select(Queue).where(Queue.slug == queue_slug))
    if queue is None:
        raise click.ClickException(f"No queue with the short name {queue_slug!r}.")
    try:
        with unit_of_work():
            account = connect(queue, Settings(**options))
    except DomainError as error:
        raise click.ClickException(error.message) from error
    missing = [
        name
        for name in (account.token_env, account.app_secret_env, account.verify_token_env)
        if not secret(name)
    ]
    click.echo(f"Queue {queue.slug} is connected to WhatsApp number id {account.phone_number_id}.")
    if missing:
        click.echo(f"Warning: not set in this environment: {', '.join(missing)}", err=True)
