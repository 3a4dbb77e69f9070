"""Agent search over tickets: a ticket number jumps straight to its ticket, an order number to its
one active ticket (else lists its tickets), anything else goes to the "tickets" index."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from sqlalchemy import case, select
from sqlalchemy.orm import contains_eager, joinedload

from helpdesk import search
from helpdesk.customers.models import Order
from helpdesk.extensions import db
from helpdesk.search.analysis import normalise_text
from helpdesk.tickets.models import Status, Ticket
from helpdesk.tickets.search_index import INDEX
from helpdesk.tickets.service import TICKET_NUMBER_PREFIX

RESULTS_LIMIT = 30
MAX_QUERY_CHARS = 200
# "HD-1042", "hd 1042", "#1042", "1042", "١٠٤٢" (digits are normalised first).
_TICKET_NUMBER = re.compile(r"^(?:hd\s*-?\s*|#)?(\d{1,12})$", re.IGNORECASE)
_DONE = (Status.SOLVED, Status.CLOSED)


@dataclass
class NumberLookup:
    """What a typed number names: the one ticket to open (``jump``), or, when an order number names
    several tickets (or none still being worked), those tickets for the agent to choose from."""

    jump: str | None = None
    order_number: str | None = None
    order_tickets: list[Ticket] = field(default_factory=list)


def look_up_number(text: str) -> NumberLookup:
    """A ticket number (with or without the prefix) opens that ticket. An order number opens its
    ticket only when exactly one of its tickets is still active: jumping to an old solved ticket
    while another about the same order is open sends the agent to the wrong conversation."""
    text = text.strip()
    if not text or len(text) > 80:
        return NumberLookup()
    match = _TICKET_NUMBER.match(normalise_text(text))
    if match:
        number = f"{TICKET_NUMBER_PREFIX}{int(match.group(1))}"
        if db.session.scalar(select(Ticket.number).where(Ticket.number == number)):
            return NumberLookup(jump=number)
    tickets = tickets_about_order(text)
    if not tickets:
        return NumberLookup()
    active = [t for t in tickets if t.status.is_active and t.merged_into_id is None]
    if len(active) == 1:
        return NumberLookup(jump=active[0].number)
    return NumberLookup(order_number=tickets[0].order.number, order_tickets=tickets)


def tickets_about_order(order_number: str, limit: int = RESULTS_LIMIT) -> list[Ticket]:
    """The tickets linked to the order of that number: still active ones first, then newest."""
    done_last = case((Ticket.status.in_(_DONE), 1), else_=0)
    return list(
        db.session.scalars(
            select(Ticket)
            .join(Order, Ticket.order_id == Order.id)
            .options(contains_eager(Ticket.order), joinedload(Ticket.customer))
            # as typed, or upper case; both use the index
            .where(Order.number.in_({order_number, order_number.upper()}))
            .order_by(done_last, Ticket.updated_at.desc(), Ticket.id.desc())
            .limit(limit)
        ).unique()
    )


def search_tickets(
    text: str, limit: int = RESULTS_LIMIT, *, as_you_type: bool = False
) -> search.SearchResults:
    """Tickets matching ``text``, best first, each with a highlighted snippet (cut from the
    conversation, which is read in one query)."""
    return search.query(INDEX, text[:MAX_QUERY_CHARS], limit=limit, as_you_type=as_you_type)
