"""What the WhatsApp channel keeps: one business number per queue, the inbound ledger (each webhook
item as received, stored before anything else) and the outbox of messages to send through the
Graph API, with the delivery status Meta reports back for each."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import JSON, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from helpdesk.dbtypes import UTCDateTime, enum_type, utcnow
from helpdesk.extensions import db
from helpdesk.tickets.models import Queue

DEFAULT_GRAPH_URL = "https://graph.facebook.com/v21.0"


class WhatsAppAccount(db.Model):
    """A WhatsApp business number connected to a queue. The secrets are never stored: only the names
    of the environment variables that hold them."""

    __tablename__ = "whatsapp_accounts"

    id: Mapped[int] = mapped_column(primary_key=True)
    queue_id: Mapped[int] = mapped_column(ForeignKey("queues.id", ondelete="CASCADE"), unique=True)
    phone_number_id: Mapped[str] = mapped_column(String(40), unique=True)
    display_number: Mapped[str | None] = mapped_column(String(40))
    token_env: Mapped[str] = mapped_column(String(100))
    app_secret_env: Mapped[str] = mapped_column(String(100))
    verify_token_env: Mapped[str] = mapped_column(String(100))
    graph_url: Mapped[str] = mapped_column(String(300), default=DEFAULT_GRAPH_URL)
    # A message this long after the ticket was solved opens a new ticket instead of reopening it.
    idle_hours: Mapped[int] = mapped_column(default=24)
    # The approved template offered outside the 24-hour window, in these languages ("ar,en").
    template_name: Mapped[str | None] = mapped_column(String(120))
    template_languages: Mapped[str] = mapped_column(String(40), default="ar,en")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    queue: Mapped[Queue] = relationship()

    @property
    def languages(self) -> list[str]:
        return [code.strip() for code in self.template_languages.split(",") if code.strip()]


class LedgerStatus(enum.StrEnum):
    QUEUED = "queued"
    DONE = "done"
    FAILED = "failed"  # gave up after the last attempt; kept for an admin to read


class WhatsAppInbound(db.Model):
    """One item of a webhook delivery (a message or a status), keyed by Meta's ids so a redelivery is
    stored once; ``body`` is the delivery exactly as received."""

    __tablename__ = "whatsapp_inbound"
    __table_args__ = (Index("ix_whatsapp_inbound_due", "status", "next_attempt_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    dedupe_key: Mapped[str] = mapped_column(String(300), unique=True)  # msg:<wamid>, st:<wamid>:<status>
    kind: Mapped[str] = mapped_column(String(10))  # message, status, other
    body: Mapped[str] = mapped_column(Text)
    status: Mapped[LedgerStatus] = mapped_column(enum_type(LedgerStatus), default=LedgerStatus.QUEUED)
    attempts: Mapped[int] = mapped_column(default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    error: Mapped[str | None] = mapped_column(Text)
    received_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    ticket_message_id: Mapped[int | None] = mapped_column(ForeignKey("messages.id", ondelete="SET NULL"))


class OutboxStatus(enum.StrEnum):
    QUEUED = "queued"
    SENT = "sent"  # accepted by the Graph API (it answered with a wamid)
    FAILED = "failed"  # refused, or given up after the last attempt


class WhatsAppOutbound(db.Model):
    """One Graph API send (text, media or template) for an agent's message; ``delivery`` is the latest
    status Meta reported (sent, delivered, read, failed), never moved backwards by a late callback."""

    __tablename__ = "whatsapp_outbound"
    __table_args__ = (Index("ix_whatsapp_outbound_due", "status", "next_attempt_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("whatsapp_accounts.id", ondelete="CASCADE"))
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id", ondelete="CASCADE"), index=True)
    ticket_message_id: Mapped[int | None] = mapped_column(
        ForeignKey("messages.id", ondelete="CASCADE"), index=True
    )
    to: Mapped[str] = mapped_column(String(40))
    kind: Mapped[str] = mapped_column(String(10))  # text, media, template
    payload: Mapped[dict] = mapped_column(JSON, default=dict)
    status: Mapped[OutboxStatus] = mapped_column(enum_type(OutboxStatus), default=OutboxStatus.QUEUED)
    attempts: Mapped[int] = mapped_column(default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_error: Mapped[str | None] = mapped_column(Text)
    wamid: Mapped[str | None] = mapped_column(String(300), unique=True)
    delivery: Mapped[str | None] = mapped_column(String(10))
    error_code: Mapped[str | None] = mapped_column(String(20))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    account: Mapped[WhatsAppAccount] = relationship()
