"""The ``helpdesk`` command (also ``flask --app helpdesk``): set-up, demo data, serving, worker, export."""

from __future__ import annotations

import json
import logging
import signal
import sys
import threading

import click
from flask import Flask, current_app
from flask.cli import FlaskGroup, with_appcontext

from helpdesk import create_app
from helpdesk.config import ConfigError


def _app_or_message() -> Flask:
    """The app; a wrong setting is a one-line message and exit status 1, not a traceback."""
    try:
        return create_app()
    except ConfigError as exc:
        raise click.ClickException(str(exc)) from None


def main() -> None:
    cli = FlaskGroup(create_app=_app_or_message, add_default_commands=True, add_version_option=False)
    cli.help = "Helpdesk: an Arabic-first bilingual customer-support helpdesk."
    cli(prog_name="helpdesk")


def register_commands(app: Flask) -> None:
    from helpdesk.api.commands import api_command
    from helpdesk.backup.commands import backup_command, restore_command
    from helpdesk.blobs.commands import blobs_command
    from helpdesk.customers.commands import customer_command, orders_command
    from helpdesk.integrations.commands import salla_command, zid_command
    from helpdesk.kb.commands import kb_command
    from helpdesk.mail.commands import mail_command
    from helpdesk.schema import db_command
    from helpdesk.search.commands import reindex_command
    from helpdesk.sla.commands import sla_command
    from helpdesk.whatsapp.commands import whatsapp_command

    for command in (
        init_command,
        demo_command,
        serve_command,
        worker_command,
        live_command,
        export_command,
        sla_command,
        kb_command,
        reindex_command,
        orders_command,
        customer_command,
        mail_command,
        backup_command,
        restore_command,
    ):
        app.cli.add_command(command)
    app.cli.add_command(api_command)
    app.cli.add_command(blobs_command)
    app.cli.add_command(db_command)
    app.cli.add_command(salla_command)
    app.cli.add_command(zid_command)
    app.cli.add_command(whatsapp_command)


@click.command("init")
@with_appcontext
def init_command() -> None:
    """Create the instance folder and bring the database schema up to date (safe to run again)."""
    from helpdesk.schema import upgrade_schema

    upgrade_schema()
    click.echo(f"Database ready: {current_app.config['SQLALCHEMY_DATABASE_URI']}")


@click.command("demo")
@click.option("--if-empty", is_flag=True, help="Do nothing when the database already has tickets.")
@click.option("--seed", default=42, show_default=True, help="Random seed, for repeatable data.")
@click.option("--tickets", "ticket_count", default=2000, show_default=True)
@with_appcontext
def demo_command(if_empty: bool, seed: int, ticket_count: int) -> None:
    """Load realistic bilingual demo data (queues, staff, customers, tickets, orders, KB articles)."""
    from helpdesk.demo.loader import DemoAlreadyLoaded, load_demo

    try:
        summary = load_demo(seed=seed, ticket_count=ticket_count, progress=click.progressbar)
    except DemoAlreadyLoaded as exc:
        if if_empty:
            click.echo("Demo data already loaded; nothing to do.")
            return
        raise click.ClickException(str(exc)) from exc
    click.echo("Loaded: " + ", ".join(f"{n} {what}" for what, n in summary.items()))
    from helpdesk.search import apply_pending_jobs

    apply_pending_jobs()  # index the demo articles now, so search works before the worker runs
    _print_demo_logins()


def _print_demo_logins() -> None:
    from helpdesk.demo.loader import DEMO_PASSWORD, demo_logins

    logins = demo_logins()
    if logins:
        click.echo(f"\nDemo sign-ins (password for all: {DEMO_PASSWORD}):")
        for label, email in logins:
            click.echo(f"  {label:<12} {email}")


@click.command("serve")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=5000, show_default=True, type=int)
@click.option("--threads", default=8, show_default=True, type=int)
@click.option("--no-worker", is_flag=True, help="Don't run the embedded background worker.")
@click.option(
    "--live-port",
    type=int,
    default=None,
    help="Port of the embedded live-update stream server (default: PORT + 1; 0: none, pages poll).",
)
@with_appcontext
def serve_command(host: str, port: int, threads: int, no_worker: bool, live_port: int | None) -> None:
    """Serve the app with waitress, with the background worker and the live-update streams
    (an asyncio server on its own port, so open streams hold no waitress thread) in threads."""
    from waitress import serve

    from helpdesk.live.server import start_in_thread
    from helpdesk.worker.runner import run_forever

    app = current_app._get_current_object()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s %(message)s")
    stop = threading.Event()
    if not no_worker:
        threading.Thread(target=run_forever, args=(app, stop), name="helpdesk-worker", daemon=True).start()
    live_port = port + 1 if live_port is None else live_port
    if live_port and start_in_thread(app, host, live_port):
        app.config["LIVE_PORT"] = live_port
    _print_demo_logins()
    click.echo(f"\nHelpdesk is running on http://{host}:{port}/  (Ctrl-C to stop)")
    signal.signal(signal.SIGTERM, _interrupt)
    try:
        serve(app, host=host, port=port, threads=threads, ident="helpdesk")
    except KeyboardInterrupt:
        click.echo("Stopping…", err=True)
    finally:
        stop.set()


def _interrupt(signum, _frame) -> None:
    """SIGTERM stops the server the way Ctrl-C does."""
    raise KeyboardInterrupt


@click.command("live")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=5001, show_default=True, type=int)
@with_appcontext
def live_command(host: str, port: int) -> None:
    """Serve only the live-update streams (beside web processes on PostgreSQL, woken by NOTIFY)."""
    from helpdesk.live.server import serve_live

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s %(message)s")
    click.echo(f"Live updates on http://{host}:{port}/live/stream  (Ctrl-C to stop)")
    try:
        serve_live(current_app._get_current_object(), host, port)
    except KeyboardInterrupt:
        click.echo("Stopping…", err=True)


@click.command("worker")
@click.option("--once", is_flag=True, help="Run every job once and exit.")
@with_appcontext
def worker_command(once: bool) -> None:
    """Run the background worker until SIGTERM or Ctrl-C."""
    from helpdesk.worker.runner import run_forever, run_once

    app = current_app._get_current_object()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s %(message)s")
    if once:
        for name, result in run_once(app).items():
            click.echo(f"{name}: {result}")
        return
    stop = threading.Event()

    def request_stop(signum, _frame) -> None:
        click.echo(f"Stopping the worker (signal {signum})…", err=True)
        stop.set()

    signal.signal(signal.SIGTERM, request_stop)
    signal.signal(signal.SIGINT, request_stop)
    run_forever(app, stop)


@click.command("export")
@click.option("--format", "fmt", type=click.Choice(["jsonl"]), default="jsonl", show_default=True)
@click.option(
    "--output",
    "-o",
    type=click.File("w", encoding="utf-8"),
    default="-",
    help="File to write (default: standard output).",
)
@with_appcontext
def export_command(fmt: str, output) -> None:
    """Export every ticket with its messages, one JSON object per line."""
    from helpdesk.audit import service as audit
    from helpdesk.extensions import db
    from helpdesk.tickets.export import iter_ticket_records

    count = 0
    for record in iter_ticket_records():
        output.write(json.dumps(record, ensure_ascii=False) + "\n")
        count += 1
    audit.record("tickets.exported", target="tickets", count=count, format=fmt)
    db.session.commit()
    click.echo(f"Exported {count} tickets.", err=True)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
