"""Ticket queries that several views need, with their eager loading chosen once."""

from __future__ import annotations

from sqlalchemy import Select, select
from sqlalchemy.orm import joinedload, selectinload

from helpdesk.customers.models import Customer
from helpdesk.extensions import db
from helpdesk.tickets.models import Message, MessageKind, Status, Ticket

ACTIVE_STATUSES = [s for s in Status if s.is_active]


def ticket_by_number(number: str) -> Ticket | None:
    return db.session.scalar(
        select(Ticket)
        .where(Ticket.number == number.upper())
        .options(
            joinedload(Ticket.customer).selectinload(Customer.emails),
            joinedload(Ticket.queue),
            joinedload(Ticket.assignee),
            selectinload(Ticket.tags),
        )
    )


def thread(ticket: Ticket, *, public_only: bool) -> list[Message]:
    """The conversation, oldest first; customers get public replies only (never notes or events)."""
    query = (
        select(Message)
        .where(Message.ticket_id == ticket.id)
        .options(
            joinedload(Message.author_staff),
            joinedload(Message.author_customer).selectinload(Customer.emails),
            selectinload(Message.attachments),
        )
        .order_by(Message.created_at, Message.id)
    )
    if public_only:
        query = query.where(Message.kind == MessageKind.REPLY)
    return list(db.session.scalars(query))


def customer_tickets(customer_id: int) -> Select:
    return (
        select(Ticket)
        .where(Ticket.customer_id == customer_id, Ticket.merged_into_id.is_(None))
        .order_by(Ticket.updated_at.desc(), Ticket.id.desc())
    )
