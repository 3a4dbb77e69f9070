"""The webhook inbox: a verified delivery is stored as received and answered at once; the worker
maps it into orders and customers, retrying with backoff (a mapping bug or a locked database costs a
delay, never the event). The same body delivered twice is stored once."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from datetime import timedelta

from flask import Flask
from sqlalchemy import select

from helpdesk.customers.models import Order
from helpdesk.dbtypes import upsert, utcnow
from helpdesk.extensions import db
from helpdesk.integrations import salla, zid
from helpdesk.integrations.mapping import apply_order, customer_for, e164
from helpdesk.integrations.models import InboxStatus, Platform, ShopOrder, ShopWebhook
from helpdesk.worker import jobtable
from helpdesk.worker.runner import register_job

MAX_ATTEMPTS = 10
FIRST_RETRY = timedelta(seconds=10)
LONGEST_RETRY = timedelta(hours=1)
CLAIM_LEASE = timedelta(minutes=2)
BATCH = 200


def store_delivery(platform: Platform, event: str, body: bytes) -> bool:
    """Keep the delivery (flushes); False when the same body was already stored."""
    statement = (
        upsert(ShopWebhook.__table__)
        .values(
            platform=platform,
            event=event[:80],
            body_hash=hashlib.sha256(body).hexdigest(),
            body=body.decode("utf-8"),
            status=InboxStatus.QUEUED,
            attempts=0,
            next_attempt_at=utcnow(),
            received_at=utcnow(),
        )
        .on_conflict_do_nothing(index_elements=["platform", "body_hash"])
        .returning(ShopWebhook.__table__.c.id)  # rowcount is not reliable here on psycopg
    )
    return db.session.execute(statement).scalar() is not None


def apply_delivery(row: ShopWebhook) -> str:
    """Map one stored delivery; returns what happened (``created``, ``updated``, ``stale``, ``ignored``)."""
    payload = json.loads(row.body)
    if row.platform == Platform.ZID:
        event, store_id, when = zid.envelope(payload, row.event)
        return apply_order(zid.record_from(payload, store_id, event=event, when=when))[1]
    event, store_id, when = salla.envelope(payload)
    data = payload.get("data") or {}
    if event.startswith("order.") and isinstance(data, Mapping) and "id" in data and "status" in data:
        return apply_order(salla.record_from(data, store_id, event=event, when=when))[1]
    if event.startswith("shipment.") and isinstance(data, Mapping):
        return _apply_shipment(store_id, data)
    if event.startswith("customer.") and isinstance(data, Mapping):
        customer_for(
            data.get("email"), e164(data.get("mobile"), data.get("mobile_code")), salla.full_name(data)
        )
        return "updated"
    return "ignored"


def _apply_shipment(store_id: str, data: Mapping) -> str:
    """A Salla shipment event: the courier and tracking of an order we hold (else nothing yet)."""
    order = db.session.scalar(
        select(Order).where(
            Order.source == f"salla:{store_id}", Order.external_id == str(data.get("order_id"))
        )
    )
    if order is None:
        return "ignored"
    order.carrier = (data.get("courier_name") or order.carrier or "")[:60] or None
    order.tracking_number = (str(data.get("tracking_number") or "") or order.tracking_number or "")[
        :80
    ] or None
    shop = db.session.get(ShopOrder, order.id)
    if shop is not None:
        shop.shipping_company = data.get("courier_name") or shop.shipping_company
        shop.tracking_url = data.get("tracking_link") or shop.tracking_url
    db.session.flush()
    return "updated"


INBOX = jobtable.Inbox(ShopWebhook, InboxStatus, MAX_ATTEMPTS, FIRST_RETRY, LONGEST_RETRY, CLAIM_LEASE)


@register_job("shop webhooks", every_seconds=1)
def map_shop_webhooks(app: Flask) -> int:
    """Map the queued deliveries, oldest first; one transaction per delivery."""
    return jobtable.work_through(INBOX, apply_delivery, limit=BATCH)
