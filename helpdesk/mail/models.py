"""The outbox: every email we send is first a row here, written in the transaction that caused it."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import JSON, ForeignKey, Index, Integer, LargeBinary, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from helpdesk.dbtypes import UTCDateTime, enum_type, utcnow
from helpdesk.extensions import db
from helpdesk.tickets.models import Queue, Ticket


class OutboxStatus(enum.StrEnum):
    QUEUED = "queued"  # waiting for its (next) attempt
    SENT = "sent"
    FAILED = "failed"  # gave up after the maximum number of attempts; an admin can retry it


class OutboundEmail(db.Model):
    __tablename__ = "outbound_emails"
    __table_args__ = (
        Index("ix_outbound_emails_status_next", "status", "next_attempt_at"),
        # Loop protection counts the acknowledgements sent to one address in the last hour.
        Index("ix_outbound_emails_to_kind_created", "to", "kind", "created_at"),
    )

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

    ticket: Mapped[Ticket | None] = relationship()


class InboundStatus(enum.StrEnum):
    STORED = "stored"  # raw bytes committed, not parsed yet (or the parser crashed: picked up again)
    PROCESSED = "processed"  # became a ticket, a reply or a system event
    FAILED = "failed"  # kept with its reason and listed for admins


class InboundMessage(db.Model):
    """The ledger of every email received, raw bytes first, so nothing is lost and nothing is doubled.

    ``dedupe_key`` is a hash of the Message-ID, or of the raw bytes when there is none: the same mail
    ingested twice (a re-run pipe, an IMAP poll after a crash, two workers) hits the unique index.
    """

    __tablename__ = "inbound_messages"
    __table_args__ = (Index("ix_inbound_messages_status_id", "status", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    dedupe_key: Mapped[str] = mapped_column(String(80), unique=True)
    message_id: Mapped[str | None] = mapped_column(String(998))
    source: Mapped[str] = mapped_column(String(20), default="pipe")  # pipe, imap, smtp
    queue_id: Mapped[int | None] = mapped_column(ForeignKey("queues.id", ondelete="SET NULL"))
    recipient: Mapped[str | None] = mapped_column(String(254))  # the envelope recipient, when known
    raw: Mapped[bytes] = mapped_column(LargeBinary)
    size: Mapped[int] = mapped_column(Integer)
    sender: Mapped[str | None] = mapped_column(String(998))  # From header as seen, for the admin list
    subject: Mapped[str | None] = mapped_column(String(998))
    status: Mapped[InboundStatus] = mapped_column(enum_type(InboundStatus), default=InboundStatus.STORED)
    action: Mapped[str | None] = mapped_column(String(20))  # created, appended, bounce
    error: Mapped[str | None] = mapped_column(Text)
    ticket_id: Mapped[int | None] = mapped_column(ForeignKey("tickets.id", ondelete="SET NULL"), index=True)
    ticket_message_id: Mapped[int | None] = mapped_column(
        ForeignKey("messages.id", ondelete="SET NULL"), index=True
    )
    received_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    processed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    ticket: Mapped[Ticket | None] = relationship()
    queue: Mapped[Queue | None] = relationship()


class Mailbox(db.Model):
    """An IMAP mailbox polled for one queue. The password comes from the environment variable named
    here (preferred: it stays out of the database) or, failing that, from the one an admin stored."""

    __tablename__ = "mailboxes"

    id: Mapped[int] = mapped_column(primary_key=True)
    queue_id: Mapped[int] = mapped_column(ForeignKey("queues.id", ondelete="CASCADE"), unique=True)
    host: Mapped[str] = mapped_column(String(255))
    port: Mapped[int] = mapped_column(Integer, default=993)
    use_tls: Mapped[bool] = mapped_column(default=True)  # implicit TLS (IMAPS); STARTTLS when False+starttls
    use_starttls: Mapped[bool] = mapped_column(default=False)
    username: Mapped[str] = mapped_column(String(255))
    password_env: Mapped[str | None] = mapped_column(String(100))
    password: Mapped[str | None] = mapped_column(String(255))
    folder: Mapped[str] = mapped_column(String(255), default="INBOX")
    move_to: Mapped[str | None] = mapped_column(String(255))  # else the message is flagged \\Seen
    is_active: Mapped[bool] = mapped_column(default=True)
    last_polled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_error: Mapped[str | None] = mapped_column(Text)

    queue: Mapped[Queue] = relationship()
