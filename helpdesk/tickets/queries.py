"""Ticket queries that several views need, with their eager loading chosen once."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import ColumnElement, Select, and_, or_, select
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


# --- queue views: the agent workspace and the API list tickets with the same filters -------------

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
QUEUE_VIEWS = ("unassigned", "mine", "open", "breaching", "solved")


def queue_filter(view: str, user_id: int | None, now: datetime) -> ColumnElement[bool]:
    """The condition of a queue view (``QUEUE_VIEWS``); ``mine`` means assigned to ``user_id``."""
    from helpdesk.sla.queries import breaching_soon

    if view == "unassigned":
        return and_(Ticket.status.in_(ACTIVE_STATUSES), Ticket.assignee_id.is_(None))
    if view == "mine":
        return and_(Ticket.status.in_(ACTIVE_STATUSES), Ticket.assignee_id == user_id)
    if view == "breaching":
        return breaching_soon(now)
    if view == "solved":
        return Ticket.status.in_([Status.SOLVED, Status.CLOSED])
    return Ticket.status.in_(ACTIVE_STATUSES)


def queue_query(view: str, user_id: int | None, now: datetime) -> Select:
    """Tickets of a queue view, most recently updated first, with what a list row shows loaded."""
    return (
        select(Ticket)
        .where(queue_filter(view, user_id, now), Ticket.merged_into_id.is_(None))
        .options(joinedload(Ticket.customer), joinedload(Ticket.assignee), joinedload(Ticket.queue))
        .order_by(Ticket.updated_at.desc(), Ticket.id.desc())
    )


def after_cursor(query: Select, cursor: str) -> Select:
    """Keyset pagination on (updated_at, id): stable and index-friendly at any depth.
    Raises ValueError for a cursor that ``cursor_of`` did not make."""
    micros, _sep, ticket_id = cursor.partition("_")
    if not all(part.isascii() and part.isdigit() and len(part) <= 18 for part in (micros, ticket_id)):
        raise ValueError("not a page cursor")
    when = EPOCH + timedelta(microseconds=int(micros))
    last_id = int(ticket_id)
    return query.where(or_(Ticket.updated_at < when, and_(Ticket.updated_at == when, Ticket.id < last_id)))


def cursor_of(ticket: Ticket) -> str:
    """``<microseconds since 1970>_<id>``: exact, and safe in a URL as it is."""
    return f"{(ticket.updated_at - EPOCH) // timedelta(microseconds=1)}_{ticket.id}"
