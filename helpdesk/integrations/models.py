"""What the shop connectors keep: one connection per platform + store, the webhook inbox, and the
platform's own view of each order (labels, payment, shipment) beside our ``orders`` row."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import JSON, ForeignKey, Index, LargeBinary, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from helpdesk.customers.models import Order
from helpdesk.dbtypes import UTCDateTime, enum_type, utcnow
from helpdesk.extensions import db


class Platform(enum.StrEnum):
    SALLA = "salla"
    ZID = "zid"


class InboxStatus(enum.StrEnum):
    QUEUED = "queued"
    DONE = "done"
    FAILED = "failed"  # gave up after the last attempt; kept for an admin to read


class ShopConnection(db.Model):
    """A shop (store) that installed our app. Tokens are Fernet-encrypted with ``SHOP_TOKEN_KEY``."""

    __tablename__ = "shop_connections"
    __table_args__ = (UniqueConstraint("platform", "store_id", name="uq_shop_connections_platform_store"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    platform: Mapped[Platform] = mapped_column(enum_type(Platform))
    store_id: Mapped[str] = mapped_column(String(80))
    store_name: Mapped[str | None] = mapped_column(String(200))
    access_token: Mapped[bytes | None] = mapped_column(LargeBinary)
    refresh_token: Mapped[bytes | None] = mapped_column(LargeBinary)
    # Zid: the store token (X-Manager-Token) comes with a separate ``Authorization`` token.
    authorization_token: Mapped[bytes | None] = mapped_column(LargeBinary)
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    connected_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # Where an interrupted backfill resumes: the ``--since`` it ran with and the next page.
    sync_since: Mapped[str | None] = mapped_column(String(40))
    sync_next_page: Mapped[int | None] = mapped_column()
    last_synced_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class ShopWebhook(db.Model):
    """A webhook delivery as received (the raw body), stored before anything else so the platform
    gets its answer at once; the worker maps it. A redelivery of the same body is stored once."""

    __tablename__ = "shop_webhooks"
    __table_args__ = (
        UniqueConstraint("platform", "body_hash", name="uq_shop_webhooks_platform_body"),
        Index("ix_shop_webhooks_due", "status", "next_attempt_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    platform: Mapped[Platform] = mapped_column(enum_type(Platform))
    event: Mapped[str] = mapped_column(String(80))
    body_hash: Mapped[str] = mapped_column(String(64))
    body: Mapped[str] = mapped_column(Text)
    status: Mapped[InboxStatus] = mapped_column(enum_type(InboxStatus), default=InboxStatus.QUEUED)
    attempts: Mapped[int] = mapped_column(default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    error: Mapped[str | None] = mapped_column(Text)
    received_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class ShopOrder(db.Model):
    """The platform's side of an order: its own status labels in Arabic and English, payment,
    shipment and the link to the order in the shop's dashboard. ``source_updated_at`` is the time of
    the newest event applied, so a late, older event never overwrites a newer status."""

    __tablename__ = "shop_orders"

    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id", ondelete="CASCADE"), primary_key=True)
    platform: Mapped[Platform] = mapped_column(enum_type(Platform))
    store_id: Mapped[str] = mapped_column(String(80))
    status_code: Mapped[str] = mapped_column(String(60))
    status_label_ar: Mapped[str | None] = mapped_column(String(120))
    status_label_en: Mapped[str | None] = mapped_column(String(120))
    payment_method: Mapped[str | None] = mapped_column(String(60))
    payment_label: Mapped[str | None] = mapped_column(String(120))
    vat: Mapped[str | None] = mapped_column(String(20))
    shipping_company: Mapped[str | None] = mapped_column(String(120))
    tracking_url: Mapped[str | None] = mapped_column(String(500))
    dashboard_url: Mapped[str | None] = mapped_column(String(500))
    extra: Mapped[dict] = mapped_column(JSON, default=dict)
    source_updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    order: Mapped[Order] = relationship()
