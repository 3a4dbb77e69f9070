"""Keeping connections alive: tokens close to expiry are refreshed by the worker, so a store that is
quiet for weeks (no sync, only webhooks) does not lose its refresh token (Salla's expire too)."""

from __future__ import annotations

import logging
from datetime import timedelta

from flask import Flask
from sqlalchemy import select

from helpdesk.dbtypes import utcnow
from helpdesk.extensions import db
from helpdesk.integrations import tokens
from helpdesk.integrations.client import PlatformDown, TokenRejected
from helpdesk.integrations.connectors import connector
from helpdesk.integrations.models import ShopConnection
from helpdesk.transaction import unit_of_work
from helpdesk.worker.runner import register_job

log = logging.getLogger("helpdesk.integrations.jobs")

REFRESH_WITHIN = timedelta(days=3)


@register_job("shop tokens", every_seconds=3600)
def refresh_expiring_tokens(app: Flask) -> int:
    """Refresh every connection whose access token expires within three days; one commit each."""
    due = db.session.scalars(
        select(ShopConnection.id).where(
            ShopConnection.expires_at.is_not(None),
            ShopConnection.expires_at < utcnow() + REFRESH_WITHIN,
            ShopConnection.access_token.is_not(None),
        )
    ).all()
    refreshed = 0
    for connection_id in due:
        try:
            with unit_of_work():
                connection = db.session.get(ShopConnection, connection_id)
                connector(connection.platform).refresh(connection, tokens.tokens_of(connection))
            refreshed += 1
        except (PlatformDown, TokenRejected, tokens.NotConnected) as error:
            log.warning("shop connection %s not refreshed: %s", connection_id, error.message)
    return refreshed
