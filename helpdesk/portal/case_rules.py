"""What a customer may do with their own case: close, reopen, rate; and the reply-time expectation."""

from __future__ import annotations

from flask_babel import gettext as _
from sqlalchemy import select

from helpdesk.custom_fields.models import RequestType
from helpdesk.customers.models import Customer, Order
from helpdesk.extensions import db
from helpdesk.sla.badges import business_duration
from helpdesk.sla.policies import policy_for
from helpdesk.tickets import routing, service
from helpdesk.tickets.errors import NotAllowed
from helpdesk.tickets.models import CsatRating, Queue, Status, Ticket


def route_case(
    customer: Customer,
    *,
    subject: str,
    body: str,
    order: Order | None,
    topic_id: str | None,
    request_type: RequestType | None = None,
) -> tuple[Queue | None, Order | None]:
    """The queue and order of a new case: the order the customer gave, else one of theirs that the
    subject or description names; the queue from the topic they chose, else the request type's
    default queue, else from the order."""
    order = order or routing.own_order_named(customer, subject, body)
    topic = db.session.get(Queue, int(topic_id)) if topic_id else None
    if topic is None and request_type is not None:
        topic = request_type.default_queue
    return routing.queue_for_case(topic=topic, order=order), order


def can_close(ticket: Ticket) -> bool:
    return ticket.status != Status.CLOSED


def can_reopen(ticket: Ticket) -> bool:
    """Only a solved case can be reopened; a closed one is final (a new message opens a follow-up)."""
    return ticket.status == Status.SOLVED


def can_reply(ticket: Ticket) -> bool:
    return ticket.status != Status.CLOSED


def close_case(ticket: Ticket, customer: Customer) -> None:
    if not can_close(ticket):
        raise NotAllowed(_("This case is already closed."))
    service.change_status(ticket, Status.CLOSED, actor=customer)


def reopen_case(ticket: Ticket, customer: Customer) -> None:
    if not can_reopen(ticket):
        raise NotAllowed(_("Only a solved case can be reopened."))
    service.change_status(ticket, Status.OPEN, actor=customer)


def can_rate(ticket: Ticket) -> bool:
    return ticket.status in (Status.SOLVED, Status.CLOSED)


def rating_of(ticket: Ticket) -> CsatRating | None:
    return db.session.scalar(select(CsatRating).where(CsatRating.ticket_id == ticket.id))


def rate_case(ticket: Ticket, customer: Customer, *, score: int, comment: str | None) -> CsatRating:
    """One rating per case, 1–5; rating again revises it."""
    if not can_rate(ticket):
        raise NotAllowed(_("You can rate a case once it is solved."))
    if score not in range(1, 6):
        raise NotAllowed(_("Choose a rating from 1 to 5."))
    rating = rating_of(ticket) or CsatRating(ticket_id=ticket.id, customer_id=customer.id)
    rating.agent_id = ticket.assignee_id
    rating.score = score
    rating.comment = (comment or "").strip() or None
    db.session.add(rating)
    return rating


def expected_reply(ticket: Ticket) -> str | None:
    """ "We usually reply within …", from the SLA policy that applies to this case."""
    if not ticket.status.is_active:
        return None
    policy = policy_for(ticket)
    minutes = policy and (policy.first_response_minutes or policy.next_response_minutes)
    if not minutes:
        return None
    return _("We usually reply within %(duration)s (working hours).", duration=business_duration(minutes))
