"""The backfill: every order of a connected store since a date, page by page through the platform's
API. Each page is committed with the page number to resume from, so a sync stopped by the platform
being down (or by Ctrl-C) continues where it stopped when run again."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

from helpdesk.dbtypes import utcnow
from helpdesk.extensions import db
from helpdesk.integrations.connectors import connector
from helpdesk.integrations.mapping import apply_customers, apply_orders
from helpdesk.integrations.models import ShopConnection
from helpdesk.transaction import unit_of_work


def _keep_new_tokens() -> None:
    """A refresh token is single-use: commit the new one at once, whatever happens next."""
    db.session.commit()


@dataclass
class SyncResult:
    orders: int = 0
    created: int = 0
    updated: int = 0
    stale: int = 0
    pages: int = 0
    first_page: int = 1
    customers: int = 0
    seconds: float = 0.0
    waited: float = 0.0  # on rate limits and retries


def sync_store(
    connection: ShopConnection,
    since: str | None,
    *,
    progress: Callable[[int], None] | None = None,
    sleep: Callable[[float], None] = time.sleep,
) -> SyncResult:
    """Fetch and apply every page; commits per page (the caller owns nothing in between)."""
    platform = connector(connection.platform)
    resuming = connection.sync_next_page and connection.sync_since == since
    result = SyncResult(first_page=connection.sync_next_page if resuming else 1)
    started = time.perf_counter()
    session = platform.open_session(connection, sleep=sleep, on_refresh=_keep_new_tokens)
    _keep_new_tokens()  # open_session may have refreshed already
    page = result.first_page
    try:
        while True:
            fetched_at = utcnow()
            orders, more = platform.orders_page(session, page, since)
            with unit_of_work():
                records = [
                    platform.record_from(data, connection.store_id, when=fetched_at) for data in orders
                ]
                for _order, outcome in apply_orders(records):
                    setattr(result, outcome, getattr(result, outcome) + 1)
                connection.sync_since = since
                connection.sync_next_page = page + 1 if more else None
                if not more:
                    connection.last_synced_at = utcnow()
            result.orders += len(orders)
            result.pages += 1
            if progress:
                progress(len(orders))
            if not more or not orders:
                break
            page += 1
        if hasattr(platform, "customers_page"):
            _sync_customers(platform, session, result, progress)
    finally:
        result.waited = session.waited
        result.seconds = time.perf_counter() - started
        session.close()
    return result


def _sync_customers(platform, session, result: SyncResult, progress) -> None:
    """The store's customers, including those who never ordered (matching is idempotent, so a rerun
    simply goes through them again)."""
    page = 1
    while True:
        rows, more = platform.customers_page(session, page)
        with unit_of_work():
            result.customers += apply_customers(rows)
        if not more or not rows:
            return
        page += 1
