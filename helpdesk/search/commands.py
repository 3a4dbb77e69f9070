"""``helpdesk reindex``: rebuild the search indexes from the database."""

from __future__ import annotations

import sys

import click
from flask.cli import with_appcontext

from helpdesk.search.indexer import reindex
from helpdesk.search.registry import UnknownIndex, all_indexes


@click.command("reindex")
@click.argument("names", nargs=-1)
@with_appcontext
def reindex_command(names: tuple[str, ...]) -> None:
    """Rebuild every search index (or the NAMES given) from the database."""

    def progress(name: str, total: int):
        return click.progressbar(length=total, label=f"Indexing {name}", file=sys.stderr)

    try:
        counts = reindex(names or None, progress=progress)
    except UnknownIndex as exc:
        known = ", ".join(spec.name for spec in all_indexes())
        raise click.ClickException(f"{exc}; known indexes: {known}") from exc
    for name, count in counts.items():
        click.echo(f"{name}: {count} documents indexed")
