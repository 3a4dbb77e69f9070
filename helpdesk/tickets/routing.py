"""Where a new case goes: which of the customer's orders it is about, and which queue works it.

A case with no queue shows only in "all open" and "unassigned" and nobody's queue picks it up, so
every case gets one: the topic the customer chose, else the orders queue when it names an order,
else the configured default queue (``HELPDESK_DEFAULT_QUEUE``), else the first active queue.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from flask import current_app
from sqlalchemy import select

from helpdesk.customers.models import Customer, Order
from helpdesk.extensions import db
from helpdesk.tickets.models import Queue

# Order numbers are letters, digits and dashes ("SO-100138", "100138"); a token needs a digit.
_TOKEN = re.compile(r"[A-Za-z0-9\u0660-\u0669\u06f0-\u06f9][\w/-]*", re.UNICODE)
# Arabic-Indic and Extended Arabic-Indic digits, as an Arabic keyboard types them.
_DIGITS = str.maketrans("٠١٢٣٤٥٦٧٨٩۰۱۲۳۴۵۶۷۸۹", "01234567890123456789")
_MIN_DIGITS_ALONE = 5  # "100138" alone names "SO-100138"; "12" names nothing


def _normalised(text: str) -> str:
    """Upper-case, Latin digits, no separators: "so-١٠٠١٣٨" and "SO100138" compare equal."""
    return re.sub(r"[^0-9A-Z]", "", text.translate(_DIGITS).upper())


def _tokens(texts: Iterable[str | None]) -> list[str]:
    found = []
    for text in texts:
        for token in _TOKEN.findall(text or ""):
            normalised = _normalised(token)
            if any(ch.isdigit() for ch in normalised) and normalised not in found:
                found.append(normalised)
    return found


def _digits(text: str) -> str:
    return "".join(ch for ch in text if ch.isdigit())


def own_order_named(customer: Customer, *texts: str | None) -> Order | None:
    """The customer's own order that ``texts`` name (first text first, newest order on a tie).

    Only the customer's own orders are searched: a number that belongs to someone else links
    nothing, so a case can never reveal another customer's order to the agent as if it were theirs.
    """
    tokens = _tokens(texts)
    if not tokens:
        return None
    newest_first = (Order.ordered_at.desc(), Order.id.desc())
    own = select(Order).where(Order.customer_id == customer.id).order_by(*newest_first)
    orders = db.session.scalars(own).all()
    for token in tokens:
        for order in orders:
            number = _normalised(order.number)
            if token == number:
                return order
            digits = _digits(number)
            if token.isdigit() and len(token) >= _MIN_DIGITS_ALONE and token == digits:
                return order
    return None


def active_queues() -> list[Queue]:
    """The queues a customer may choose as the topic of a case, by name."""
    return list(db.session.scalars(select(Queue).where(Queue.is_active).order_by(Queue.id)))


def _configured_queue(setting: str) -> Queue | None:
    slug = (current_app.config.get(setting) or "").strip()
    if not slug:
        return None
    return db.session.scalar(select(Queue).where(Queue.slug == slug, Queue.is_active))


def queue_for_case(*, topic: Queue | None = None, order: Order | None = None) -> Queue | None:
    """The queue of a new case (see the module's docstring); None only when no queue exists."""
    if topic is not None and topic.is_active:
        return topic
    if order is not None and (queue := _configured_queue("ORDER_QUEUE")) is not None:
        return queue
    return _configured_queue("DEFAULT_QUEUE") or db.session.scalar(
        select(Queue).where(Queue.is_active).order_by(Queue.id).limit(1)
    )
