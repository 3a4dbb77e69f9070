"""The outbox: every email we send is first a row here, written in the transaction that caused it."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import JSON, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from helpdesk.dbtypes import UTCDateTime, enum_type, utcnow
from helpdesk.extensions import db


class OutboxStatus(enum.StrEnum):
    QUEUED = "queued"  # waiting for its (next) attempt
    SENT = "sent"
    FAILED = "failed"  # gave up after the maximum number of attempts; an admin can retry it


class OutboundEmail(db.Model):
    __tablename__ = "outbound_emails"
    __table_args__ = (Index("ix_outbound_emails_status_next", "status", "next_attempt_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(40), default="notification")  # reply, acknowledgement, …
    to: Mapped[str] = mapped_column(String(998))
    subject: Mapped[str] = mapped_column(String(998))
    text: Mapped[str] = mapped_column(Text)
    html: Mapped[str | None] = mapped_column(Text)
    headers: Mapped[dict] = mapped_column(JSON, default=dict)
    message_id: Mapped[str | None] = mapped_column(String(998), index=True)  # our Message-ID header
    ticket_id: Mapped[int | None] = mapped_column(ForeignKey("tickets.id", ondelete="SET NULL"), index=True)
    ticket_message_id: Mapped[int | None] = mapped_column(ForeignKey("messages.id", ondelete="SET NULL"))
    status: Mapped[OutboxStatus] = mapped_column(enum_type(OutboxStatus), default=OutboxStatus.QUEUED)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
