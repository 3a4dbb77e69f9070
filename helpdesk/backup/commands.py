"""``helpdesk backup DIR`` and ``helpdesk restore DIR``."""

from __future__ import annotations

from pathlib import Path

import click
from flask.cli import with_appcontext

from helpdesk.backup import service


@click.command("backup")
@click.argument("target", type=click.Path(file_okay=False, path_type=Path))
@with_appcontext
def backup_command(target: Path) -> None:
    """Copy the database (online, while the app runs), attachments and secret key into TARGET."""
    try:
        manifest = service.backup(target)
    except service.BackupError as exc:
        raise click.ClickException(str(exc)) from exc
    counts = manifest["counts"]
    click.echo(
        f"Backup written to {target}: {counts['tickets']} tickets, {counts['attachments']} attachments, "
        f"{len(manifest['files'])} files (revision {manifest['alembic_revision']})."
    )


@click.command("restore")
@click.argument("source", type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.option("--force", is_flag=True, help="Replace an instance that already holds data.")
@with_appcontext
def restore_command(source: Path, force: bool) -> None:
    """Check SOURCE's checksums, restore it into this instance and rebuild the search indexes."""
    try:
        counts = service.restore(source, force=force)
    except service.BackupError as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo("Restored: " + ", ".join(f"{n} {table}" for table, n in counts.items()))
