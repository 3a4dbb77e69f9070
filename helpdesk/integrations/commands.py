"""``helpdesk salla sync`` and ``helpdesk zid sync``: bring a connected store's orders in."""

from __future__ import annotations

import time

import click
from flask.cli import with_appcontext
from sqlalchemy import select

from helpdesk.extensions import db
from helpdesk.integrations.client import PlatformDown, TokenRejected
from helpdesk.integrations.models import Platform, ShopConnection
from helpdesk.integrations.sync import sync_store
from helpdesk.integrations.tokens import NotConnected


def _sync(platform: Platform, since: str | None, store: str | None) -> None:
    query = select(ShopConnection).where(ShopConnection.platform == platform)
    if store:
        query = query.where(ShopConnection.store_id == store)
    connections = list(db.session.scalars(query))
    if not connections:
        raise click.ClickException(
            f"No {platform.value} store is connected{' with that id' if store else ''}."
        )
    started = time.perf_counter()
    for connection in connections:
        seen = 0

        def progress(count: int, store_id: str = connection.store_id) -> None:
            nonlocal seen
            seen += count
            rate = seen / max(time.perf_counter() - started, 1e-6)
            click.echo(f"\r{platform.value} {store_id}: {seen} orders ({rate:.0f}/s)", nl=False, err=True)

        try:
            result = sync_store(connection, since, progress=progress)
        except (PlatformDown, TokenRejected, NotConnected) as error:
            click.echo("", err=True)
            raise click.ClickException(
                f"{error.message} Stopped before page {connection.sync_next_page or 1}; run again to resume."
            ) from error
        click.echo("", err=True)
        click.echo(
            f"{platform.value} {connection.store_id}: {result.orders} orders from page {result.first_page} "
            f"({result.created} new, {result.updated} updated, {result.stale} older than ours), "
            f"{result.customers} customers matched or added, "
            f"in {result.seconds:.1f}s, {result.waited:.1f}s waiting on rate limits."
        )


def _group(platform: Platform) -> click.Group:
    @click.group(platform.value, help=f"The {platform.value.title()} connector.")
    def group() -> None:
        pass

    @group.command("sync")
    @click.option("--since", help="Only orders from this date (YYYY-MM-DD).")
    @click.option("--store", help="One store id (default: every connected store).")
    @with_appcontext
    def sync(since: str | None, store: str | None) -> None:
        """Fetch the store's orders, then its customers, page by page; resumes where an interrupted
        run stopped."""
        _sync(platform, since, store)

    return group


salla_command = _group(Platform.SALLA)
zid_command = _group(Platform.ZID)
