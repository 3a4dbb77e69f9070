"""``helpdesk blobs``: look at and move the stored attachment files."""

from __future__ import annotations

import sys

import click
from flask.cli import with_appcontext
from sqlalchemy import select

from helpdesk.blobs.store import blob_store, make_store
from helpdesk.extensions import db
from helpdesk.tickets.models import Attachment


@click.group("blobs")
def blobs_command() -> None:
    """Attachment files: where they are, and moving them between stores."""


@blobs_command.command("status")
@with_appcontext
def status_command() -> None:
    """Say which store is in use and whether every attachment's file is in it."""
    store = blob_store()
    wanted = set(db.session.scalars(select(Attachment.sha256).distinct()))
    missing = sorted(d for d in wanted if not store.exists(d))
    click.echo(f"store: {store.name}; files referred to: {len(wanted)}; missing: {len(missing)}")
    for digest in missing[:20]:
        click.echo(f"  missing {digest}")
    if missing:
        sys.exit(1)


@blobs_command.command("copy")
@click.option("--to", "target_name", type=click.Choice(["disk", "database"]), required=True)
@with_appcontext
def copy_command(target_name: str) -> None:
    """Copy every stored file from the other store into TO (safe to run again; the source is kept).
    Set HELPDESK_BLOB_STORE to TO afterwards."""
    source = make_store("disk" if target_name == "database" else "database")
    target = make_store(target_name)
    digests = list(source.digests())
    copied = 0
    with click.progressbar(digests, label=f"Copying to {target_name}", file=sys.stderr) as bar:
        for digest in bar:
            if not target.exists(digest):
                with source.open(digest) as reader:
                    stored = target.put(reader.read())
                if stored != digest:
                    db.session.rollback()
                    raise click.ClickException(f"{digest}: the stored file's content does not match its name")
                db.session.commit()  # one file per transaction: an interrupted copy resumes
                copied += 1
    click.echo(f"{copied} copied, {len(digests) - copied} already there")
