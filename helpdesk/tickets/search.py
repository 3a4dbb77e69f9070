"""Agent search over tickets: a ticket or order number jumps straight to its ticket, anything else
goes to the "tickets" index."""

from __future__ import annotations

import re

from sqlalchemy import select

from helpdesk import search
from helpdesk.customers.models import Order
from helpdesk.extensions import db
from helpdesk.search.analysis import normalise_text
from helpdesk.tickets.models import Ticket
from helpdesk.tickets.search_index import INDEX
from helpdesk.tickets.service import TICKET_NUMBER_PREFIX

RESULTS_LIMIT = 30
MAX_QUERY_CHARS = 200
# "HD-1042", "hd 1042", "#1042", "1042", "١٠٤٢" (digits are normalised first).
_TICKET_NUMBER = re.compile(r"^(?:hd\s*-?\s*|#)?(\d{1,12})$", re.IGNORECASE)


def ticket_number_for(text: str) -> str | None:
    """The number of the ticket ``text`` names exactly — by its number, with or without the prefix,
    or by the number of an order (its latest ticket) — else None."""
    text = text.strip()
    if not text or len(text) > 80:
        return None
    match = _TICKET_NUMBER.match(normalise_text(text))
    if match:
        number = f"{TICKET_NUMBER_PREFIX}{int(match.group(1))}"
        if db.session.scalar(select(Ticket.number).where(Ticket.number == number)):
            return number
    return db.session.scalar(
        select(Ticket.number)
        .join(Order, Ticket.order_id == Order.id)
        .where(Order.number.in_({text, text.upper()}))  # as typed, or upper case; both use the index
        .order_by(Ticket.created_at.desc(), Ticket.id.desc())
        .limit(1)
    )


def search_tickets(
    text: str, limit: int = RESULTS_LIMIT, *, as_you_type: bool = False
) -> search.SearchResults:
    """Tickets matching ``text``, best first, each with a highlighted snippet (cut from the
    conversation, which is read in one query)."""
    return search.query(INDEX, text[:MAX_QUERY_CHARS], limit=limit, as_you_type=as_you_type)
