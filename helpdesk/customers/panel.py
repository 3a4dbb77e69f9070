"""The customer panel beside the ticket thread: profile, the newest orders and earlier tickets with
the figures over all of them, a timeline. The complete lists load on demand (``all_orders``,
``all_earlier_tickets``), so a customer with hundreds of orders costs the ticket page no more than
one with ten.

A fixed number of queries whatever the customer's history (each list is capped and loaded in one).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal

from sqlalchemy import func, select
from sqlalchemy.orm import joinedload

from helpdesk.customers.models import Customer
from helpdesk.customers.providers import OrderServiceUnavailable, OrderView, order_provider, view_of
from helpdesk.extensions import db
from helpdesk.i18n import format_money
from helpdesk.kb.models import Article, Deflection
from helpdesk.tickets import queries
from helpdesk.tickets.models import CsatRating, Message, MessageKind, Ticket

ORDERS_SHOWN = 10
TICKETS_SHOWN = 10
LISTED_AT_MOST = 500  # the complete lists, loaded on demand
TIMELINE_SOURCE_LIMIT = 20
TIMELINE_SHOWN = 20  # the newest events of every kind; the lists above go further back

# Order sources that another section of the panel shows in detail (the shop platforms register theirs,
# "salla:", "zid:"): the plain order list leaves those orders out, so no order is listed twice. The
# figures (count, lifetime value) and the timeline still count every order.
SHOWN_APART: set[str] = set()


def show_apart(*source_prefixes: str) -> None:
    """Leave orders from these sources out of the plain order list: a feature's section shows them."""
    SHOWN_APART.update(source_prefixes)


@dataclass
class TimelineEntry:
    at: datetime
    kind: str  # ticket, message, order, csat, deflection
    text: str
    ticket_number: str | None = None  # the ticket's number, or the order's for an order entry


@dataclass
class CustomerPanel:
    customer: Customer
    tickets: list[Ticket]  # the newest earlier tickets
    ticket_count: int  # all earlier tickets
    orders: list[OrderView] | None  # the newest orders (and this ticket's); None: service unavailable
    order_count: int
    lifetime_value: Decimal
    highlighted_order: str | None
    timeline: list[TimelineEntry] = field(default_factory=list)

    @property
    def currency(self) -> str:
        return self.orders[0].currency if self.orders else "SAR"

    @property
    def more_tickets(self) -> bool:
        return self.ticket_count > len(self.tickets)

    @property
    def listed_orders(self) -> list[OrderView]:
        """The orders for the plain list: those no other section of the panel shows."""
        apart = tuple(SHOWN_APART)
        return [o for o in self.orders or [] if not (apart and o.source.startswith(apart))]

    @property
    def more_orders(self) -> bool:
        return self.orders is not None and self.order_count > len(self.orders)


def _earlier_tickets(ticket: Ticket, limit: int) -> tuple[list[Ticket], int]:
    """The customer's newest other tickets, and how many there are in all (one query)."""
    rows = db.session.execute(
        queries.customer_tickets(ticket.customer_id)
        .where(Ticket.id != ticket.id)
        .add_columns(func.count().over())
        .limit(limit)
    ).all()
    return [found for found, _count in rows], (rows[0][1] if rows else 0)


def ticket_order_number(ticket: Ticket) -> str | None:
    """The order the ticket is about: highlighted in the customer's order lists."""
    return ticket.order.number if ticket.order else None


def customer_panel(ticket: Ticket, locale: str) -> CustomerPanel:
    customer = ticket.customer
    tickets, ticket_count = _earlier_tickets(ticket, TICKETS_SHOWN)
    highlighted = ticket_order_number(ticket)
    try:
        recent = order_provider(locale).recent_orders(customer, ORDERS_SHOWN)
    except OrderServiceUnavailable:
        orders, order_count, value = None, 0, Decimal("0")
    else:
        orders, order_count, value = recent.orders, recent.count, recent.lifetime_value
        if ticket.order and all(o.number != highlighted for o in orders):
            orders = [*orders, view_of(ticket.order, locale)]  # this ticket's order, however old
    panel = CustomerPanel(customer, tickets, ticket_count, orders, order_count, value, highlighted)
    panel.timeline = _timeline(panel, ticket, locale)
    return panel


def all_orders(ticket: Ticket, locale: str) -> list[OrderView] | None:
    """Every order of the ticket's customer (at most ``LISTED_AT_MOST``); None: service unavailable."""
    try:
        return order_provider(locale).orders_for(ticket.customer)[:LISTED_AT_MOST]
    except OrderServiceUnavailable:
        return None


def all_earlier_tickets(ticket: Ticket) -> list[Ticket]:
    return _earlier_tickets(ticket, LISTED_AT_MOST)[0]


def _timeline(panel: CustomerPanel, ticket: Ticket, locale: str) -> list[TimelineEntry]:
    customer_id = panel.customer.id
    entries = [TimelineEntry(t.created_at, "ticket", t.subject, t.number) for t in [ticket, *panel.tickets]]
    for order in (panel.orders or [])[:TIMELINE_SOURCE_LIMIT]:
        if order.ordered_at:
            amount = format_money(order.total, order.currency)
            entries.append(TimelineEntry(order.ordered_at, "order", amount, order.number))
    # What the agent reads in the conversation: the visible text, without the quoted history.
    visible_text = func.coalesce(func.nullif(Message.display_text, ""), Message.body_text)
    messages = db.session.execute(
        select(Message.created_at, visible_text, Ticket.number)
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
