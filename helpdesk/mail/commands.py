"""``helpdesk mail …``: ingest messages from files or a pipe, run the SMTP/LMTP listener, poll IMAP."""

from __future__ import annotations

import json
import signal
import sys
import threading
from pathlib import Path

import click
from flask import current_app
from flask.cli import with_appcontext
from sqlalchemy import select
from sqlalchemy.exc import SQLAlchemyError

from helpdesk.extensions import db
from helpdesk.tickets.models import Queue

# Messages stored, then processed, per transaction by `mail ingest` (SQLite; see ingest_batch). Larger
# batches save little more and make other writers wait longer for the database.
INGEST_BATCH_SIZE = 25


@click.group("mail")
def mail_command() -> None:
    """Incoming email: ingest files or a pipe, listen for SMTP/LMTP, poll IMAP mailboxes."""


def _queue_by_name(name: str | None) -> Queue | None:
    if not name:
        return None
    queue = db.session.scalar(select(Queue).where(Queue.slug == name))
    if queue is None:
        known = ", ".join(db.session.scalars(select(Queue.slug).order_by(Queue.slug))) or "none"
        raise click.ClickException(f"No queue named {name!r} (known queues: {known}).")
    return queue


@mail_command.command("ingest")
@click.option("--queue", "queue_name", help="Put new tickets in this queue (its short name).")
@click.argument("files", nargs=-1, required=True, type=click.Path(allow_dash=True, dir_okay=False))
@with_appcontext
def ingest_command(queue_name: str | None, files: tuple[str, ...]) -> None:
    """Ingest .eml FILES (or - for one message on standard input), one JSON line per message.

    A bad message is recorded as failed and reported, not a crash; the exit code is non-zero only
    when the command itself cannot run (unknown queue, unreadable file).
    """
    from helpdesk.mail.inbound import ingest_batch

    queue = _queue_by_name(queue_name)
    queue_id = queue.id if queue is not None else None
    batch: list[tuple[str, bytes]] = []

    def ingest_and_report() -> None:
        """One JSON line per message of the batch, once its results are committed."""
        if not batch:
            return
        try:
            queue = db.session.get(Queue, queue_id) if queue_id else None
            results = ingest_batch([raw for _name, raw in batch], source="pipe", queue=queue)
        except SQLAlchemyError as exc:  # the database is unreachable or broken: the command cannot run
            names = ", ".join(name for name, _raw in batch)
            raise click.ClickException(f"Database error while storing {names}: {exc}") from exc
        for (name, _raw), result in zip(batch, results, strict=True):
            # The file first: a batch's lines can be matched to files even without a Message-ID.
            click.echo(json.dumps({"file": name, **result.as_json()}, ensure_ascii=False))
        batch.clear()

    for name in files:
        if name == "-":
            raw = sys.stdin.buffer.read()
        else:
            try:
                raw = Path(name).read_bytes()
            except OSError as exc:
                ingest_and_report()  # the files before this one are done and reported
                raise click.ClickException(f"Cannot read {name}: {exc.strerror or exc}") from exc
        batch.append((name, raw))
        if len(batch) >= INGEST_BATCH_SIZE:
            ingest_and_report()
    ingest_and_report()


@mail_command.command("listen")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=2525, show_default=True, type=int)
@click.option("--lmtp", is_flag=True, help="Speak LMTP instead of SMTP.")
@with_appcontext
def listen_command(host: str, port: int, lmtp: bool) -> None:
    """Receive mail over SMTP (or LMTP) and turn it into tickets, until SIGTERM or Ctrl-C."""
    from helpdesk.mail.listener import start_listener

    app = current_app._get_current_object()
    try:
        controller = start_listener(app, host, port, lmtp=lmtp)
    except OSError as exc:
        raise click.ClickException(f"Cannot listen on {host}:{port}: {exc.strerror or exc}") from exc
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_a: stop.set())
    signal.signal(signal.SIGINT, lambda *_a: stop.set())
    click.echo(f"Listening for {'LMTP' if lmtp else 'SMTP'} on {host}:{port} (Ctrl-C to stop)", err=True)
    try:
        stop.wait()
    finally:
        controller.stop()


@mail_command.command("poll")
@with_appcontext
def poll_command() -> None:
    """Poll every active IMAP mailbox once."""
    from helpdesk.mail.imap import poll_all

    for mailbox, count in poll_all().items():
        click.echo(f"{mailbox}: {count} message(s)")


@mail_command.command("mailbox")
@click.option("--queue", "queue_name", required=True, help="The queue this mailbox feeds.")
@click.option("--host", required=True)
@click.option("--port", default=993, show_default=True, type=int)
@click.option("--security", type=click.Choice(["tls", "starttls", "none"]), default="tls", show_default=True)
@click.option("--user", "username", required=True)
@click.option("--password-env", help="Name of the environment variable holding the password.")
@click.option("--folder", default="INBOX", show_default=True)
@click.option("--move-to", help="Move read messages to this folder (default: flag them as seen).")
@click.option("--disable", is_flag=True, help="Stop polling this mailbox.")
@with_appcontext
def mailbox_command(
    queue_name, host, port, security, username, password_env, folder, move_to, disable
) -> None:
    """Configure the IMAP mailbox of a queue (the password comes from the environment)."""
    from helpdesk.mail.mailboxes import save_mailbox

    queue = _queue_by_name(queue_name)
    save_mailbox(
        queue,
        host=host,
        port=port,
        security=security,
        username=username,
        password_env=password_env,
        password=None,
        folder=folder,
        move_to=move_to,
        is_active=not disable,
    )
    db.session.commit()
    click.echo(f"Mailbox {username}@{host}:{port}/{folder} → queue {queue.slug}")
