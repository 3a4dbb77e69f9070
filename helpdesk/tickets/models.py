"""The domain core: queues, tickets, the messages on them, attachments and tags."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import JSON, Column, ForeignKey, Index, Integer, String, Table, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from helpdesk.auth.models import StaffUser
from helpdesk.customers.models import Customer, Order
from helpdesk.dbtypes import UTCDateTime, enum_type, utcnow
from helpdesk.extensions import db
from helpdesk.sanitize import one_line_columns


class Status(enum.StrEnum):
    NEW = "new"
    OPEN = "open"
    PENDING = "pending"
    ON_HOLD = "on_hold"
    SOLVED = "solved"
    CLOSED = "closed"

    @property
    def is_active(self) -> bool:
        """Still needs work from the team (not solved or closed)."""
        return self not in (Status.SOLVED, Status.CLOSED)


class Priority(enum.StrEnum):
    LOW = "low"
    NORMAL = "normal"
    HIGH = "high"
    URGENT = "urgent"

    @property
    def rank(self) -> int:
        return ["low", "normal", "high", "urgent"].index(self.value)


class Channel(enum.StrEnum):
    EMAIL = "email"
    PORTAL = "portal"
    AGENT = "agent"
    API = "api"
    WHATSAPP = "whatsapp"


class MessageKind(enum.StrEnum):
    REPLY = "reply"  # public: the customer sees it
    NOTE = "note"  # internal: staff only
    EVENT = "event"  # system event: status change, assignment, merge…


queue_members = Table(
    "queue_members",
    db.metadata,
    Column("queue_id", ForeignKey("queues.id", ondelete="CASCADE"), primary_key=True),
    Column("staff_id", ForeignKey("staff_users.id", ondelete="CASCADE"), primary_key=True),
)

ticket_tags = Table(
    "ticket_tags",
    db.metadata,
    Column("ticket_id", ForeignKey("tickets.id", ondelete="CASCADE"), primary_key=True),
    Column("tag_id", ForeignKey("tags.id", ondelete="CASCADE"), primary_key=True, index=True),
)


class NamedCounter(db.Model):
    """Named counters handed out atomically (ticket numbers, the SLA rules version)."""

    __tablename__ = "counters"

    name: Mapped[str] = mapped_column(String(40), primary_key=True)
    value: Mapped[int] = mapped_column(Integer, default=0)


class Queue(db.Model):
    __tablename__ = "queues"

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(60), unique=True)
    name_en: Mapped[str] = mapped_column(String(120))
    name_ar: Mapped[str] = mapped_column(String(120))
    email_address: Mapped[str | None] = mapped_column(String(254), unique=True)
    supervisor_id: Mapped[int | None] = mapped_column(ForeignKey("staff_users.id"))
    is_active: Mapped[bool] = mapped_column(default=True)

    members: Mapped[list[StaffUser]] = relationship(secondary=queue_members)
    supervisor: Mapped[StaffUser | None] = relationship()

    def name_for(self, locale: str) -> str:
        return self.name_ar if locale == "ar" else self.name_en


TAG_MAX_CHARS = 60
SUBJECT_MAX_CHARS = 255  # forms accept it all and refuse more with a message, never a silent cut


class Tag(db.Model):
    __tablename__ = "tags"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(TAG_MAX_CHARS), unique=True)

    _one_line = one_line_columns("name")


class Ticket(db.Model):
    __tablename__ = "tickets"
    __table_args__ = (
        # The queue views: filter by status/assignee/queue, sort by SLA due time or recency.
        Index("ix_tickets_status_assignee", "status", "assignee_id"),
        Index("ix_tickets_queue_status", "queue_id", "status"),
        Index("ix_tickets_status_due", "status", "next_due_at", "id"),
        Index("ix_tickets_status_updated", "status", "updated_at", "id"),
        Index("ix_tickets_customer_created", "customer_id", "created_at"),
        # The "recently solved" view and its count: a range of solved_at per status.
        Index("ix_tickets_status_solved", "status", "solved_at"),
        # Reports and filters by request type (helpdesk.custom_fields).
        Index("ix_tickets_request_type_created", "request_type_id", "created_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[str] = mapped_column(String(20), unique=True)
    subject: Mapped[str] = mapped_column(String(SUBJECT_MAX_CHARS))
    status: Mapped[Status] = mapped_column(enum_type(Status), default=Status.NEW)
    priority: Mapped[Priority] = mapped_column(enum_type(Priority), default=Priority.NORMAL)
    channel: Mapped[Channel] = mapped_column(enum_type(Channel), default=Channel.PORTAL)
    queue_id: Mapped[int | None] = mapped_column(ForeignKey("queues.id"))
    assignee_id: Mapped[int | None] = mapped_column(ForeignKey("staff_users.id"), index=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id"))
    # Indexed: agent search looks tickets up by an order number (a join from orders), and an
    # order's deletion clears it here.
    order_id: Mapped[int | None] = mapped_column(ForeignKey("orders.id", ondelete="SET NULL"), index=True)
    language: Mapped[str | None] = mapped_column(String(5))
    merged_into_id: Mapped[int | None] = mapped_column(ForeignKey("tickets.id"))
    follow_up_of_id: Mapped[int | None] = mapped_column(ForeignKey("tickets.id"))
    request_type_id: Mapped[int | None] = mapped_column(ForeignKey("request_types.id", ondelete="SET NULL"))

    # SLA targets, stored so that queues sort and filter in SQL; next_due_at is the earliest open one.
    first_response_due_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    next_response_due_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    resolution_due_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    next_due_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    first_response_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    solved_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    # Portal: how many KB articles the customer opened from the case form before submitting it.
    articles_viewed_before: Mapped[int] = mapped_column(Integer, default=0)

    version: Mapped[int] = mapped_column(Integer, default=1)
    __mapper_args__ = {"version_id_col": version}

    queue: Mapped[Queue | None] = relationship()
    assignee: Mapped[StaffUser | None] = relationship()
    customer: Mapped[Customer] = relationship(back_populates="tickets")
    order: Mapped[Order | None] = relationship()
    tags: Mapped[list[Tag]] = relationship(secondary=ticket_tags, order_by=Tag.name)
    messages: Mapped[list[Message]] = relationship(
        back_populates="ticket", order_by="Message.created_at, Message.id", cascade="all, delete-orphan"
    )
    merged_into: Mapped[Ticket | None] = relationship(remote_side=[id], foreign_keys=[merged_into_id])
    follow_up_of: Mapped[Ticket | None] = relationship(remote_side=[id], foreign_keys=[follow_up_of_id])

    def __repr__(self) -> str:
        return f"<Ticket {self.number} {self.status}>"

    _one_line = one_line_columns("subject")


class Message(db.Model):
    __tablename__ = "messages"
    __table_args__ = (
        Index("ix_messages_ticket_created", "ticket_id", "created_at"),
        # The customer panel's timeline: a customer's latest messages.
        Index("ix_messages_author_customer_created", "author_customer_id", "created_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id", ondelete="CASCADE"))
    kind: Mapped[MessageKind] = mapped_column(enum_type(MessageKind), default=MessageKind.REPLY)
    author_staff_id: Mapped[int | None] = mapped_column(ForeignKey("staff_users.id"))
    author_customer_id: Mapped[int | None] = mapped_column(ForeignKey("customers.id"))
    channel: Mapped[Channel] = mapped_column(enum_type(Channel), default=Channel.PORTAL)
    # Full text as received; `display_text` has quoted history and signatures stripped.
    body_text: Mapped[str] = mapped_column(Text, default="")
    display_text: Mapped[str | None] = mapped_column(Text)
    body_html: Mapped[str | None] = mapped_column(Text)  # always sanitised before it is stored
    event: Mapped[str | None] = mapped_column(String(40))  # for system events: what happened
    email_message_id: Mapped[str | None] = mapped_column(String(998), index=True)
    in_reply_to: Mapped[str | None] = mapped_column(String(998))
    references: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    ticket: Mapped[Ticket] = relationship(back_populates="messages")
    author_staff: Mapped[StaffUser | None] = relationship()
    author_customer: Mapped[Customer | None] = relationship()
    attachments: Mapped[list[Attachment]] = relationship(
        back_populates="message", cascade="all, delete-orphan", order_by="Attachment.id"
    )

    @property
    def is_public(self) -> bool:
        return self.kind == MessageKind.REPLY

    @property
    def author_email(self) -> str | None:
        if self.author_staff is not None:
            return self.author_staff.email
        if self.author_customer is not None:
            return self.author_customer.email
        return None

    @property
    def author_name(self) -> str | None:
        author = self.author_staff or self.author_customer
        return author.name if author is not None else None


class Attachment(db.Model):
    """File metadata; the bytes live once per content hash under ``<instance>/attachments``."""

    __tablename__ = "attachments"

    id: Mapped[int] = mapped_column(primary_key=True)
    message_id: Mapped[int] = mapped_column(ForeignKey("messages.id", ondelete="CASCADE"), index=True)
    filename: Mapped[str] = mapped_column(String(255))
    content_type: Mapped[str] = mapped_column(String(255), default="application/octet-stream")
    size: Mapped[int] = mapped_column(Integer)
    sha256: Mapped[str] = mapped_column(String(64), index=True)
    content_id: Mapped[str | None] = mapped_column(String(255))  # inline images (cid:)
    is_inline: Mapped[bool] = mapped_column(default=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    message: Mapped[Message] = relationship(back_populates="attachments")


class CsatRating(db.Model):
    """The customer's satisfaction rating (1–5) of a solved ticket; one per ticket, can be revised."""

    __tablename__ = "csat_ratings"

    id: Mapped[int] = mapped_column(primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id", ondelete="CASCADE"), unique=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id", ondelete="CASCADE"), index=True)
    agent_id: Mapped[int | None] = mapped_column(ForeignKey("staff_users.id"), index=True)
    score: Mapped[int] = mapped_column(Integer)
    comment: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)

    ticket: Mapped[Ticket] = relationship()


class Macro(db.Model):
    """A canned reply with ``{{ placeholders }}`` that may also set status, priority and tags."""

    __tablename__ = "macros"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(120))
    locale: Mapped[str] = mapped_column(String(5), default="ar")
    body: Mapped[str] = mapped_column(Text, default="")
    set_status: Mapped[Status | None] = mapped_column(enum_type(Status))
    set_priority: Mapped[Priority | None] = mapped_column(enum_type(Priority))
    add_tags: Mapped[list] = mapped_column(JSON, default=list)
    # Custom fields the macro fills in ({key: value as the API writes it}).
    set_fields: Mapped[dict] = mapped_column(JSON, default=dict)
    is_active: Mapped[bool] = mapped_column(default=True)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("staff_users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    _one_line = one_line_columns("name")


class TicketPresence(db.Model):
    """Who has a ticket open (and is typing), refreshed by the page's poll; a row older than the
    expiry counts as gone. A table, not process memory, so every web process sees every agent."""

    __tablename__ = "ticket_presence"
    __table_args__ = (Index("ix_ticket_presence_ticket_seen", "ticket_id", "seen_at"),)

    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id", ondelete="CASCADE"), primary_key=True)
    staff_id: Mapped[int] = mapped_column(ForeignKey("staff_users.id", ondelete="CASCADE"), primary_key=True)
    is_typing: Mapped[bool] = mapped_column(default=False)
    seen_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    staff: Mapped[StaffUser] = relationship()
