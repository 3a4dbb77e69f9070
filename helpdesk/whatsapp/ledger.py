"""The webhook's side: Meta's signature checked over the raw body, then each item of the delivery
(a message, a status) stored in the ledger under Meta's own id, so a retried delivery is counted once.

Webhook shape (``object``, ``entry[].changes[].value`` with ``metadata``, ``contacts``, ``messages``
or ``statuses``): https://developers.facebook.com/documentation/business-messaging/whatsapp/webhooks/reference/messages
Signature: ``X-Hub-Signature-256: sha256=<HMAC-SHA256 of the body with the app secret>``.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from collections.abc import Iterator

from flask import current_app
from sqlalchemy import select

from helpdesk.dbtypes import upsert, utcnow
from helpdesk.extensions import db
from helpdesk.whatsapp.graph import secret
from helpdesk.whatsapp.models import LedgerStatus, WhatsAppAccount, WhatsAppInbound

SIGNATURE_HEADER = "X-Hub-Signature-256"


# The environment variable names of the connected numbers, per process for a few seconds: a delivery
# is then checked without a query. ``forget_secret_names`` (on connecting a number) drops them at once.
NAMES_KEPT_FOR = 10.0


def _accounts_secrets(column) -> set[str]:
    kept = current_app.extensions.setdefault("whatsapp_secret_names", {})
    names, until = kept.get(column.key, ((), 0.0))
    if time.monotonic() >= until:
        names = tuple(db.session.scalars(select(column).distinct()))
        kept[column.key] = (names, time.monotonic() + NAMES_KEPT_FOR)
    return {secret(name) for name in names} - {""}


def forget_secret_names() -> None:
    """Read the numbers' secret names again on the next delivery (a number was connected or changed)."""
    current_app.extensions.pop("whatsapp_secret_names", None)


def is_signed(body: bytes, signature: str | None) -> bool:
    """The body is signed with the app secret of one of our numbers (constant-time comparisons)."""
    given = (signature or "").strip().lower().removeprefix("sha256=").encode()
    if not given:
        return False
    matched = False
    for app_secret in _accounts_secrets(WhatsAppAccount.app_secret_env):
        expected = hmac.new(app_secret.encode(), body, hashlib.sha256).hexdigest().encode()
        matched |= hmac.compare_digest(given, expected)
    return matched


def is_verify_token(token: str | None) -> bool:
    """The subscription handshake's ``hub.verify_token`` is one of our numbers' verify tokens."""
    return bool(token) and any(
        hmac.compare_digest(token.encode(), known.encode())
        for known in _accounts_secrets(WhatsAppAccount.verify_token_env)
    )


def items(payload: dict) -> Iterator[tuple[str, str, dict, dict]]:
    """(dedupe key, kind, item, value) for each message and status of a delivery."""
    for entry in payload.get("entry") or []:
        for change in (entry or {}).get("changes") or []:
            value = (change or {}).get("value") or {}
            if not isinstance(value, dict):
                continue
            for message in value.get("messages") or []:
                if isinstance(message, dict) and message.get("id"):
                    yield f"msg:{message['id']}"[:300], "message", message, value
            for status in value.get("statuses") or []:
                if isinstance(status, dict) and status.get("id"):
                    yield f"st:{status['id']}:{status.get('status')}"[:300], "status", status, value


def store_delivery(body: bytes, payload: dict) -> int:
    """Keep each new item of the delivery (flushes); returns how many were new. A delivery with no
    message or status (an account update, an error report) is kept once, by its hash."""
    text = body.decode("utf-8")
    keys = {key: kind for key, kind, _item, _value in items(payload)}
    if not keys:
        keys = {"sha:" + hashlib.sha256(body).hexdigest(): "other"}
    now = utcnow()
    rows = [
        dict(
            dedupe_key=key,
            kind=kind,
            body=text,
            status=LedgerStatus.QUEUED,
            attempts=0,
            next_attempt_at=now,
            received_at=now,
        )
        for key, kind in keys.items()
    ]
    table = WhatsAppInbound.__table__
    # Values as parameters, so the statement is compiled once per process, not per delivery.
    statement = (
        upsert(table)
        .on_conflict_do_nothing(index_elements=["dedupe_key"])
        .returning(table.c.id)  # rowcount is not reliable here on psycopg
    )
    inserted = db.session.execute(statement, rows if len(rows) > 1 else rows[0]).all()
    return len(inserted)


def parse(body: bytes) -> dict | None:
    try:
        payload = json.loads(body.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        return None
    return payload if isinstance(payload, dict) else None
