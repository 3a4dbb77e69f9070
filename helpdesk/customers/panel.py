"""The customer panel beside the ticket thread: profile, earlier tickets, orders, a timeline.

A fixed number of queries whatever the customer's history (each list is capped and loaded in one).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.orm import joinedload

from helpdesk.customers.models import Customer
from helpdesk.customers.providers import OrderServiceUnavailable, OrderView, order_provider
from helpdesk.extensions import db
from helpdesk.kb.models import Article, Deflection
from helpdesk.tickets import queries
from helpdesk.tickets.models import CsatRating, Message, MessageKind, Ticket

TICKETS_SHOWN = 50
TIMELINE_SOURCE_LIMIT = 20
TIMELINE_SHOWN = 40


@dataclass
class TimelineEntry:
    at: datetime
    kind: str  # ticket, message, order, csat, deflection
    text: str
    ticket_number: str | None = None


@dataclass
class CustomerPanel:
    customer: Customer
    tickets: list[Ticket]
    orders: list[OrderView] | None  # None: the order service is unavailable
    highlighted_order: str | None
    timeline: list[TimelineEntry] = field(default_factory=list)

    @property
    def order_count(self) -> int:
        return len(self.orders or [])

    @property
    def lifetime_value(self) -> Decimal:
        return sum((o.total for o in self.orders or []), Decimal("0"))

    @property
    def currency(self) -> str:
        return self.orders[0].currency if self.orders else "SAR"


def customer_panel(ticket: Ticket, locale: str) -> CustomerPanel:
    customer = ticket.customer
    tickets = list(
        db.session.scalars(
            queries.customer_tickets(customer.id).where(Ticket.id != ticket.id).limit(TICKETS_SHOWN)
        )
    )
    try:
        orders: list[OrderView] | None = order_provider(locale).orders_for(customer)
    except OrderServiceUnavailable:
        orders = None
    highlighted = ticket.order.number if ticket.order else None
    panel = CustomerPanel(customer, tickets, orders, highlighted)
    panel.timeline = _timeline(panel, ticket, locale)
    return panel


def _timeline(panel: CustomerPanel, ticket: Ticket, locale: str) -> list[TimelineEntry]:
    customer_id = panel.customer.id
    entries = [TimelineEntry(t.created_at, "ticket", t.subject, t.number) for t in [ticket, *panel.tickets]]
    for order in (panel.orders or [])[:TIMELINE_SOURCE_LIMIT]:
        if order.ordered_at:
            entries.append(
                TimelineEntry(order.ordered_at, "order", f"{order.number} · {order.total} {order.currency}")
            )
    messages = db.session.execute(
        select(Message.created_at, Message.body_text, Ticket.number)
        .join(Ticket, Ticket.id == Message.ticket_id)
        .where(Message.author_customer_id == customer_id, Message.kind == MessageKind.REPLY)
        .order_by(Message.created_at.desc())
        .limit(TIMELINE_SOURCE_LIMIT)
    )
    entries += [TimelineEntry(at, "message", _snippet(text), number) for at, text, number in messages]
    ratings = db.session.scalars(
        select(CsatRating)
        .where(CsatRating.customer_id == customer_id)
        .options(joinedload(CsatRating.ticket))
        .order_by(CsatRating.created_at.desc())
        .limit(TIMELINE_SOURCE_LIMIT)
    )
    entries += [TimelineEntry(r.created_at, "csat", f"{r.score}/5", r.ticket.number) for r in ratings]
    deflections = db.session.execute(
        select(Deflection.created_at, Article.title)
        .join(Article, Article.id == Deflection.article_id)
        .where(Deflection.customer_id == customer_id)
        .order_by(Deflection.created_at.desc())
        .limit(TIMELINE_SOURCE_LIMIT)
    )
    entries += [TimelineEntry(at, "deflection", title) for at, title in deflections]
    entries.sort(key=lambda e: e.at, reverse=True)
    return entries[:TIMELINE_SHOWN]


def _snippet(text: str, length: int = 80) -> str:
    text = " ".join((text or "").split())
    return text if len(text) <= length else text[: length - 1] + "…"
