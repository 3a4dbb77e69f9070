"""The shops' OAuth tokens: encrypted at rest with Fernet (key ``HELPDESK_SHOP_TOKEN_KEY``), saved per
platform + store, and handed out fresh (refreshed shortly before they expire)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select

from helpdesk import sealing
from helpdesk.dbtypes import utcnow
from helpdesk.extensions import db
from helpdesk.integrations.models import Platform, ShopConnection
from helpdesk.tickets.errors import DomainError

REFRESH_AHEAD = timedelta(minutes=5)
KEY_SETTING = "SHOP_TOKEN_KEY"
NO_KEY = "HELPDESK_SHOP_TOKEN_KEY is not set: shop tokens cannot be stored."


class NotConnected(DomainError):
    """No usable connection to that store (never connected, or its tokens cannot be read)."""


@dataclass(frozen=True)
class Tokens:
    access_token: str
    refresh_token: str | None
    expires_at: datetime | None
    authorization: str | None = None  # Zid's second token (the ``Authorization`` header)


def seal(value: str | None) -> bytes | None:
    try:
        return sealing.seal(value, KEY_SETTING)
    except sealing.SealingKeyMissing as exc:
        raise NotConnected(NO_KEY) from exc


def unseal(value: bytes | None) -> str | None:
    try:
        return sealing.unseal(value, KEY_SETTING)
    except sealing.SealingKeyMissing as exc:
        raise NotConnected(NO_KEY) from exc
    except sealing.SealBroken as exc:
        raise NotConnected("The stored shop token cannot be decrypted (was the key changed?).") from exc


def connection_for(platform: Platform, store_id: str) -> ShopConnection | None:
    return db.session.scalar(
        select(ShopConnection).where(
            ShopConnection.platform == platform, ShopConnection.store_id == str(store_id)
        )
    )


def save_tokens(
    platform: Platform, store_id: str, tokens: Tokens, *, store_name: str | None = None
) -> ShopConnection:
    """Create or update the store's connection with new tokens (flushes)."""
    connection = connection_for(platform, store_id)
    if connection is None:
        connection = ShopConnection(platform=platform, store_id=str(store_id))
        db.session.add(connection)
    connection.access_token = seal(tokens.access_token)
    connection.refresh_token = (
        seal(tokens.refresh_token) if tokens.refresh_token else connection.refresh_token
    )
    connection.authorization_token = seal(tokens.authorization) if tokens.authorization else None
    connection.expires_at = tokens.expires_at
    if store_name:
        connection.store_name = store_name
    db.session.flush()
    return connection


def forget_tokens(platform: Platform, store_id: str) -> None:
    """The shop removed our app: its tokens are worthless, so they are not kept (flushes)."""
    connection = connection_for(platform, store_id)
    if connection is not None:
        connection.access_token = connection.refresh_token = connection.authorization_token = None
        connection.expires_at = None
        db.session.flush()


def tokens_of(connection: ShopConnection) -> Tokens:
    access = unseal(connection.access_token)
    if not access:
        raise NotConnected(f"The {connection.platform.value} store {connection.store_id} has no token.")
    return Tokens(
        access_token=access,
        refresh_token=unseal(connection.refresh_token),
        expires_at=connection.expires_at,
        authorization=unseal(connection.authorization_token),
    )


def is_due_for_refresh(tokens: Tokens, now: datetime | None = None) -> bool:
    return tokens.expires_at is not None and tokens.expires_at - REFRESH_AHEAD <= (now or utcnow())
