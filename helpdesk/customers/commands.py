"""``helpdesk orders …`` (orders from a shop's CSV export) and ``helpdesk customer …`` (export, erase)."""

from __future__ import annotations

import json

import click
from flask.cli import AppGroup

from helpdesk.transaction import unit_of_work

orders_command = AppGroup("orders", help="Customer orders (local table).")


@orders_command.command("import")
@click.argument("csv_file", type=click.File("r", encoding="utf-8-sig"))
@click.option("--dry-run", is_flag=True, help="Check every row and count; write nothing.")
@click.option("--source", default="csv", show_default=True, help="Source for rows without a source column.")
def import_command(csv_file, dry_run: bool, source: str) -> None:
    """Import orders from CSV_FILE (columns in the README); all rows or none."""
    from helpdesk.customers.orders import import_csv

    try:
        with unit_of_work():
            result = import_csv(csv_file, dry_run=dry_run, source=source)
    except UnicodeDecodeError as exc:
        raise click.ClickException(f"{csv_file.name} is not UTF-8 text ({exc.reason}).") from exc
    if not result.ok:
        for line, message in result.errors:
            click.echo(f"{csv_file.name}:{line}: {message}", err=True)
        raise click.ClickException(f"{len(result.errors)} bad row(s); nothing was imported.")
    verb = "Would import" if dry_run else "Imported"
    click.echo(f"{verb}: {result.created} new, {result.updated} updated.")


customer_command = AppGroup("customer", help="One customer's data: export it, or erase the customer.")


def _customer(ref: str):
    from helpdesk.customers.privacy import CustomerNotFound, find_customer

    try:
        return find_customer(ref)
    except CustomerNotFound as exc:
        raise click.ClickException(str(exc)) from exc


@customer_command.command("export")
@click.argument("ref", metavar="EMAIL|ID")
@click.option("--output", "-o", type=click.File("w", encoding="utf-8"), default="-", help="Default: stdout.")
def customer_export_command(ref: str, output) -> None:
    """Write everything held about one customer as one JSON document (audited)."""
    from helpdesk.customers.privacy import export_customer

    with unit_of_work():
        data = export_customer(_customer(ref), actor=None)
    json.dump(data, output, ensure_ascii=False, indent=2)
    output.write("\n")
    click.echo(f"Exported customer {data['profile']['id']}: {len(data['tickets'])} tickets.", err=True)


@customer_command.command("erase")
@click.argument("ref", metavar="EMAIL|ID")
@click.option("--yes", is_flag=True, help="Confirm: this cannot be undone.")
def customer_erase_command(ref: str, yes: bool) -> None:
    """Anonymise a customer: keep their tickets, remove their personal data (see the README)."""
    from helpdesk.customers.privacy import erase_customer

    customer = _customer(ref)
    if not yes:
        raise click.ClickException("Erasing cannot be undone; add --yes to confirm.")
    with unit_of_work():
        result = erase_customer(customer, actor=None)
    click.echo(
        f"Erased customer {customer.id}: "
        + ", ".join(f"{n} {k.replace('_', ' ')}" for k, n in result.counts().items())
    )
