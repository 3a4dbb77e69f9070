"""Field definitions, their options, typed values per ticket / per customer, request types and their forms.

Values live in typed columns of one row per (owner, field, value) — several rows for a multi-select —
so that filtering by a field is an index range on (field_id, value, owner), not a scan of JSON.
"""

from __future__ import annotations

import enum
from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import JSON, Date, ForeignKey, Index, Integer, Numeric, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from helpdesk.dbtypes import UTCDateTime, enum_type, utcnow
from helpdesk.extensions import db
from helpdesk.tickets.models import Priority, Queue, Ticket


class FieldType(enum.StrEnum):
    TEXT = "text"
    LONG_TEXT = "long_text"
    NUMBER = "number"
    DECIMAL = "decimal"
    DATE = "date"
    YES_NO = "yes_no"
    DROPDOWN = "dropdown"
    MULTI_SELECT = "multi_select"
    ORDER = "order"

    @property
    def has_options(self) -> bool:
        return self in (FieldType.DROPDOWN, FieldType.MULTI_SELECT)


class FieldScope(enum.StrEnum):
    TICKET = "ticket"  # a value per case (order number, reason for return)
    CUSTOMER = "customer"  # a value per customer (preferred language, national address)


TEXT_VALUE_MAX = 255


class CustomField(db.Model):
    __tablename__ = "custom_fields"

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(60), unique=True)
    type: Mapped[FieldType] = mapped_column(enum_type(FieldType))
    scope: Mapped[FieldScope] = mapped_column(enum_type(FieldScope), default=FieldScope.TICKET)
    label_ar: Mapped[str] = mapped_column(String(120))
    label_en: Mapped[str] = mapped_column(String(120))
    help_ar: Mapped[str] = mapped_column(String(255), default="")
    help_en: Mapped[str] = mapped_column(String(255), default="")
    required_for_agents: Mapped[bool] = mapped_column(default=False)
    required_for_customers: Mapped[bool] = mapped_column(default=False)
    visible_to_customers: Mapped[bool] = mapped_column(default=False)
    editable_by_customers: Mapped[bool] = mapped_column(default=False)
    position: Mapped[int] = mapped_column(Integer, default=0)
    is_active: Mapped[bool] = mapped_column(default=True)  # archived fields keep their values
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    options: Mapped[list[FieldOption]] = relationship(
        back_populates="field", order_by="FieldOption.position, FieldOption.id", cascade="all, delete-orphan"
    )

    def label_for(self, locale: str) -> str:
        return self.label_ar if locale == "ar" else self.label_en

    def help_for(self, locale: str) -> str:
        return self.help_ar if locale == "ar" else self.help_en

    @property
    def active_options(self) -> list[FieldOption]:
        return [o for o in self.options if o.is_active]


class FieldOption(db.Model):
    """A dropdown / multi-select choice; retiring it hides it from forms, old values keep their label."""

    __tablename__ = "custom_field_options"
    __table_args__ = (UniqueConstraint("field_id", "value", name="uq_custom_field_options_field_value"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    field_id: Mapped[int] = mapped_column(ForeignKey("custom_fields.id", ondelete="CASCADE"))
    value: Mapped[str] = mapped_column(String(60))
    label_ar: Mapped[str] = mapped_column(String(120))
    label_en: Mapped[str] = mapped_column(String(120))
    position: Mapped[int] = mapped_column(Integer, default=0)
    is_active: Mapped[bool] = mapped_column(default=True)

    field: Mapped[CustomField] = relationship(back_populates="options")

    def label_for(self, locale: str) -> str:
        return self.label_ar if locale == "ar" else self.label_en


class _TypedValue:
    """One value of a field in the column its type uses (the others stay NULL)."""

    id: Mapped[int] = mapped_column(primary_key=True)
    field_id: Mapped[int] = mapped_column(ForeignKey("custom_fields.id", ondelete="CASCADE"))
    value_text: Mapped[str | None] = mapped_column(String(TEXT_VALUE_MAX))  # text, option values
    value_long: Mapped[str | None] = mapped_column(Text)  # long text (not indexed)
    value_number: Mapped[Decimal | None] = mapped_column(Numeric(20, 6))  # number, decimal, yes/no (1/0)
    value_date: Mapped[date | None] = mapped_column(Date)
    value_order_id: Mapped[int | None] = mapped_column(ForeignKey("orders.id", ondelete="SET NULL"))


class TicketFieldValue(_TypedValue, db.Model):
    __tablename__ = "ticket_field_values"
    __table_args__ = (
        Index("ix_ticket_field_values_text", "field_id", "value_text", "ticket_id"),
        Index("ix_ticket_field_values_number", "field_id", "value_number", "ticket_id"),
        Index("ix_ticket_field_values_date", "field_id", "value_date", "ticket_id"),
        Index("ix_ticket_field_values_ticket", "ticket_id", "field_id"),
    )

    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id", ondelete="CASCADE"))

    field: Mapped[CustomField] = relationship(viewonly=True)


# A ticket's field values, read-only, for what reads many tickets at once (the search index rebuild);
# they are written through ``custom_fields.values.write_values``.
Ticket.field_values = relationship(TicketFieldValue, viewonly=True, order_by=TicketFieldValue.id)


class CustomerFieldValue(_TypedValue, db.Model):
    __tablename__ = "customer_field_values"
    __table_args__ = (
        Index("ix_customer_field_values_text", "field_id", "value_text", "customer_id"),
        Index("ix_customer_field_values_customer", "customer_id", "field_id"),
    )

    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id", ondelete="CASCADE"))


class RequestType(db.Model):
    """What the customer wants (where is my order, return, refund…), with its own form and defaults."""

    __tablename__ = "request_types"

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(60), unique=True)
    name_ar: Mapped[str] = mapped_column(String(120))
    name_en: Mapped[str] = mapped_column(String(120))
    default_queue_id: Mapped[int | None] = mapped_column(ForeignKey("queues.id", ondelete="SET NULL"))
    default_priority: Mapped[Priority | None] = mapped_column(enum_type(Priority))
    default_tags: Mapped[list] = mapped_column(JSON, default=list)
    # Words in an email's subject that give a new email ticket this type (one per line / comma).
    email_keywords: Mapped[str] = mapped_column(Text, default="")
    position: Mapped[int] = mapped_column(Integer, default=0)
    is_active: Mapped[bool] = mapped_column(default=True)

    default_queue: Mapped[Queue | None] = relationship()
    form_fields: Mapped[list[RequestTypeField]] = relationship(
        back_populates="request_type",
        order_by="RequestTypeField.position, RequestTypeField.id",
        cascade="all, delete-orphan",
    )

    def name_for(self, locale: str) -> str:
        return self.name_ar if locale == "ar" else self.name_en


# Read-only (the type is set through ``custom_fields.service.set_request_type``): for the export.
Ticket.request_type = relationship(RequestType, viewonly=True)


class RequestTypeField(db.Model):
    """A field on a request type's form: its place, whether it is required, and when it shows."""

    __tablename__ = "request_type_fields"
    __table_args__ = (UniqueConstraint("request_type_id", "field_id", name="uq_request_type_fields"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    request_type_id: Mapped[int] = mapped_column(ForeignKey("request_types.id", ondelete="CASCADE"))
    field_id: Mapped[int] = mapped_column(ForeignKey("custom_fields.id", ondelete="CASCADE"))
    position: Mapped[int] = mapped_column(Integer, default=0)
    is_required: Mapped[bool] = mapped_column(default=False)
    # Shown only when another field of the form holds this value (e.g. reason only when returning).
    shown_when_field_id: Mapped[int | None] = mapped_column(
        ForeignKey("custom_fields.id", ondelete="SET NULL")
    )
    shown_when_value: Mapped[str | None] = mapped_column(String(60))

    request_type: Mapped[RequestType] = relationship(back_populates="form_fields")
    field: Mapped[CustomField] = relationship(foreign_keys=[field_id])
    shown_when_field: Mapped[CustomField | None] = relationship(foreign_keys=[shown_when_field_id])
