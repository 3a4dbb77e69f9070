"""Which ticket an incoming mail belongs to: In-Reply-To/References against the Message-IDs we stored
and sent, then a signed reply address or the subject's ``[#NUMBER]`` token from a participant."""

from __future__ import annotations

from sqlalchemy import bindparam, func, select

from helpdesk.auth.models import StaffUser
from helpdesk.batching import write_first_if
from helpdesk.customers.models import Customer
from helpdesk.extensions import db
from helpdesk.mail import addresses
from helpdesk.mail.models import OutboundEmail
from helpdesk.mail.parse import ParsedEmail
from helpdesk.tickets.models import Message, Ticket

TICKET_OF_MESSAGE = (
    select(Message.ticket_id)
    .where(Message.email_message_id.in_(bindparam("ids", expanding=True)))
    .order_by(Message.id.desc())
    .limit(1)
)


TICKET_OF_OUTBOUND_EMAIL = (
    select(OutboundEmail.ticket_id)
    .where(
        OutboundEmail.message_id.in_(bindparam("ids", expanding=True)), OutboundEmail.ticket_id.is_not(None)
    )
    .limit(1)
)


TICKET_OF_LATEST_OUTBOUND_EMAIL = TICKET_OF_OUTBOUND_EMAIL.order_by(OutboundEmail.id.desc())


def find_thread(parsed: ParsedEmail, sender: Customer, recipients: list[str]) -> Ticket | None:
    """In-Reply-To/References first; then a signed reply address or the subject token, from a participant."""
    ids = parsed.thread_ids[:50]
    if ids:
        ticket_id = ticket_of_message(ids) or ticket_of_outbound_email(ids, latest_first=True)
        if ticket_id is not None:
            return _followed(db.session.get(Ticket, ticket_id))
    numbers = [addresses.number_from_reply_address(r) for r in recipients]
    numbers.append(addresses.number_from_subject(parsed.subject))
    numbers = list(filter(None, numbers))
    if numbers:  # rare (a token without In-Reply-To): the participant check reads everything written
        db.session.flush()
    for number in numbers:
        ticket = db.session.scalar(select(Ticket).where(Ticket.number == number))
        # A token alone proves nothing (subjects are forwarded, numbers guessed): only someone already
        # in the conversation may add to a ticket that way; anyone else starts a new ticket.
        if ticket is not None and is_participant(ticket, sender):
            return _followed(ticket)
    return None


def ticket_of_message(ids: list[str]) -> int | None:
    """The ticket of the latest message with one of these Message-IDs."""
    write_first_if(Message, lambda m: m.email_message_id in ids)
    return db.session.connection().scalar(TICKET_OF_MESSAGE, {"ids": ids})


def ticket_of_outbound_email(ids: list[str], *, latest_first: bool) -> int | None:
    """The ticket of an email we sent with one of these Message-IDs."""
    write_first_if(OutboundEmail, lambda e: e.message_id in ids)
    query = TICKET_OF_LATEST_OUTBOUND_EMAIL if latest_first else TICKET_OF_OUTBOUND_EMAIL
    return db.session.connection().scalar(query, {"ids": ids})


def _followed(ticket: Ticket | None) -> Ticket | None:
    """A merged ticket's replies go to the ticket it was merged into."""
    seen = set()
    while ticket is not None and ticket.merged_into_id is not None and ticket.id not in seen:
        seen.add(ticket.id)
        ticket = ticket.merged_into
    return ticket


def is_participant(ticket: Ticket, customer: Customer) -> bool:
    if ticket.customer_id == customer.id:
        return True
    wrote_here = db.session.scalar(
        select(Message.id)
        .where(Message.ticket_id == ticket.id, Message.author_customer_id == customer.id)
        .limit(1)
    )
    if wrote_here is not None:
        return True
    emails = [e.email for e in customer.emails]
    return (
        db.session.scalar(select(StaffUser.id).where(func.lower(StaffUser.email).in_(emails)).limit(1))
        is not None
    )
