"""``helpdesk kb import|export|search``."""

from __future__ import annotations

import json

import click
from flask.cli import with_appcontext

from helpdesk.kb import service
from helpdesk.transaction import unit_of_work


@click.group("kb")
def kb_command() -> None:
    """Knowledge base: import, export and search articles."""


@kb_command.command("import")
@click.argument("file", type=click.File("r", encoding="utf-8"))
@with_appcontext
def import_command(file) -> None:
    """Upsert articles by slug from a JSON-lines FILE ('-' for standard input); all or nothing."""
    try:
        with unit_of_work():
            summary = service.import_articles(file)
    except service.ImportProblem as exc:
        for problem in exc.problems:
            click.echo(problem, err=True)
        raise click.ClickException(f"nothing imported: {len(exc.problems)} problem(s)") from exc
    click.echo(", ".join(f"{n} {what.replace('_', ' ')}" for what, n in summary.items()))


@kb_command.command("export")
@click.option("--output", "-o", type=click.File("w", encoding="utf-8"), default="-", help="Default: stdout.")
@with_appcontext
def export_command(output) -> None:
    """Write every article as one JSON object per line (the import format)."""
    count = 0
    for record in service.export_articles():
        output.write(json.dumps(record, ensure_ascii=False) + "\n")
        count += 1
    click.echo(f"Exported {count} articles.", err=True)


@kb_command.command("search")
@click.argument("query")
@click.option("--locale", type=click.Choice(service.LOCALES), default=None)
@click.option("--limit", type=click.IntRange(1, 100), default=10, show_default=True)
@click.option("--json", "as_json", is_flag=True, help="Print JSON: [{slug, title, locale, score, snippet}].")
@click.option("--drafts", is_flag=True, help="Include draft articles.")
@with_appcontext
def search_command(query: str, locale: str | None, limit: int, as_json: bool, drafts: bool) -> None:
    """Search the knowledge base as a customer would."""
    results = service.search_articles(query, locale=locale, limit=limit, published_only=not drafts)
    if as_json:
        click.echo(json.dumps([hit.as_json() for hit in results.hits], ensure_ascii=False, indent=1))
        return
    if results.suggestion:
        click.echo(f"Did you mean: {results.suggestion}")
    for rank, hit in enumerate(results.hits, start=1):
        click.echo(f"{rank:>2}. {hit.score:7.2f}  [{hit.locale}] {hit.slug}  {hit.title}")
    if not results.hits:
        click.echo("No articles found.")
