"""``helpdesk orders …``: fill the local orders table from a shop's CSV export."""

from __future__ import annotations

import click
from flask.cli import AppGroup

orders_command = AppGroup("orders", help="Customer orders (local table).")


@orders_command.command("import")
@click.argument("csv_file", type=click.File("r", encoding="utf-8-sig"))
@click.option("--dry-run", is_flag=True, help="Check every row and count; write nothing.")
@click.option("--source", default="csv", show_default=True, help="Source for rows without a source column.")
def import_command(csv_file, dry_run: bool, source: str) -> None:
    """Import orders from CSV_FILE (columns in the README); all rows or none."""
    from helpdesk.customers.orders import import_csv

    try:
        result = import_csv(csv_file, dry_run=dry_run, source=source)
    except UnicodeDecodeError as exc:
        raise click.ClickException(f"{csv_file.name} is not UTF-8 text ({exc.reason}).") from exc
    if not result.ok:
        for line, message in result.errors:
            click.echo(f"{csv_file.name}:{line}: {message}", err=True)
        raise click.ClickException(f"{len(result.errors)} bad row(s); nothing was imported.")
    verb = "Would import" if dry_run else "Imported"
    click.echo(f"{verb}: {result.created} new, {result.updated} updated.")
