"""Customers, the email addresses they write from, and their shop orders."""

from __future__ import annotations

import enum
from datetime import datetime
from decimal import Decimal
from typing import TYPE_CHECKING

from flask_login import UserMixin
from sqlalchemy import JSON, ForeignKey, Index, Numeric, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from helpdesk.auth.models import PasswordMixin, TotpMixin
from helpdesk.dbtypes import UTCDateTime, enum_type, utcnow
from helpdesk.extensions import db
from helpdesk.sanitize import one_line_columns

if TYPE_CHECKING:
    from helpdesk.tickets.models import Ticket


class Tier(enum.StrEnum):
    STANDARD = "standard"
    SILVER = "silver"
    GOLD = "gold"
    VIP = "vip"


class Customer(TotpMixin, PasswordMixin, UserMixin, db.Model):
    __tablename__ = "customers"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    phone: Mapped[str | None] = mapped_column(String(40), index=True)  # WhatsApp and shop orders match by it
    language: Mapped[str | None] = mapped_column(String(5))
    tier: Mapped[Tier] = mapped_column(enum_type(Tier), default=Tier.STANDARD)
    notes: Mapped[str | None] = mapped_column(Text)
    addresses: Mapped[list] = mapped_column(JSON, default=list)
    password_hash: Mapped[str | None] = mapped_column(String(255))
    is_active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_login_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    emails: Mapped[list[CustomerEmail]] = relationship(
        back_populates="customer", cascade="all, delete-orphan", order_by="CustomerEmail.id"
    )
    orders: Mapped[list[Order]] = relationship(back_populates="customer")
    tickets: Mapped[list[Ticket]] = relationship(back_populates="customer")

    is_staff = False
    is_customer = True

    _one_line = one_line_columns("name")

    def get_id(self) -> str:
        return f"c:{self.id}"

    @property
    def email(self) -> str | None:
        """The primary address (the first one we learned)."""
        primary = [e for e in self.emails if e.is_primary] or self.emails
        return primary[0].email if primary else None

    def __repr__(self) -> str:
        return f"<Customer {self.id} {self.name}>"


class CustomerEmail(db.Model):
    """An email identity; addresses are stored lower-cased so matching is case-insensitive."""

    __tablename__ = "customer_emails"

    id: Mapped[int] = mapped_column(primary_key=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id", ondelete="CASCADE"), index=True)
    email: Mapped[str] = mapped_column(String(254), unique=True)
    is_primary: Mapped[bool] = mapped_column(default=False)
    verified_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    customer: Mapped[Customer] = relationship(back_populates="emails")


class Order(db.Model):
    """A shop order, mirrored locally (CSV import, signed webhook) so the ticket page needs no remote call."""

    __tablename__ = "orders"
    __table_args__ = (
        UniqueConstraint("source", "external_id", name="uq_orders_source_external_id"),
        Index("ix_orders_customer_ordered", "customer_id", "ordered_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id", ondelete="CASCADE"))
    source: Mapped[str] = mapped_column(String(40), default="local")
    external_id: Mapped[str] = mapped_column(String(80))
    number: Mapped[str] = mapped_column(String(40), index=True)
    status: Mapped[str] = mapped_column(String(40))
    total: Mapped[Decimal] = mapped_column(Numeric(12, 2))
    currency: Mapped[str] = mapped_column(String(3), default="SAR")
    items: Mapped[list] = mapped_column(JSON, default=list)
    carrier: Mapped[str | None] = mapped_column(String(60))
    tracking_number: Mapped[str | None] = mapped_column(String(80))
    ordered_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    customer: Mapped[Customer] = relationship(back_populates="orders")
