"""Outbound mail about a ticket: agent replies and acknowledgements, written to the outbox.

Every message gets our own Message-ID (also stored on the ticket message, so the customer's answer
threads by In-Reply-To), In-Reply-To/References to the conversation so far, the ``[HD-…]`` subject
token and the ticket's signed Reply-To address.
"""

from __future__ import annotations

import secrets

from flask import current_app
from flask_babel import force_locale
from flask_babel import gettext as _
from sqlalchemy import inspect, select

from helpdesk.extensions import db
from helpdesk.mail.addresses import SUBJECT_TOKEN_RE, message_id_domain, reply_address
from helpdesk.mail.models import OutboundEmail
from helpdesk.mail.outbox import queue_email
from helpdesk.theme import brand_name
from helpdesk.tickets.models import Message, Ticket
from helpdesk.urls import external_url

MAX_REFERENCES = 20


def portal_link_for(ticket: Ticket) -> str:
    """The link a customer follows from an email to their case (the portal asks them to sign in,
    by password or by an emailed sign-in link, and then shows the case)."""
    return external_url("portal.case", number=ticket.number)


def new_message_id(ticket: Ticket) -> str:
    return f"<{ticket.number.lower()}.{secrets.token_hex(8)}@{message_id_domain()}>"


def subject_with_token(ticket: Ticket, prefix: str = "Re: ") -> str:
    subject = SUBJECT_TOKEN_RE.sub("", ticket.subject).strip()
    return f"{prefix}{subject} [{ticket.number}]"


def thread_headers(ticket: Ticket) -> dict[str, str]:
    """In-Reply-To (the latest mail in the conversation) and References (its chain, capped)."""
    if inspect(ticket).pending:  # opened in this transaction: all its messages are at hand
        ids = [m.email_message_id for m in ticket.messages if m.email_message_id]
    else:
        ids = db.session.scalars(
            select(Message.email_message_id)
            .where(Message.ticket_id == ticket.id, Message.email_message_id.is_not(None))
            .order_by(Message.created_at, Message.id)
        ).all()
    if not ids:
        return {}
    if len(ids) > MAX_REFERENCES:  # keep the first (the thread root) and the latest ones
        ids = [ids[0], *ids[-(MAX_REFERENCES - 1) :]]
    return {"In-Reply-To": ids[-1], "References": " ".join(ids)}


def _headers(ticket: Ticket, **extra: str) -> dict[str, str]:
    return {
        "Reply-To": reply_address(ticket),
        "X-Helpdesk-Ticket": ticket.number,
        **thread_headers(ticket),
        **extra,
    }


def queue_reply_email(ticket: Ticket, message: Message) -> OutboundEmail | None:
    """Send an agent's public reply to the customer (in the caller's transaction)."""
    to = ticket.customer.email
    if not to:
        return None
    db.session.flush()
    headers = _headers(ticket)  # before this message gets its id: it answers the previous one
    message.email_message_id = new_message_id(ticket)
    text = message.body_text.rstrip()
    with force_locale(_language(ticket)):
        footer = _("Reply to this email or follow your case here: %(link)s", link=portal_link_for(ticket))
    return queue_email(
        to=to,
        subject=subject_with_token(ticket),
        text=f"{text}\n\n--\n{footer}\n",
        kind="reply",
        ticket=ticket,
        message=message,
        headers=headers,
        message_id=message.email_message_id,
    )


def queue_acknowledgement(ticket: Ticket, to: str) -> OutboundEmail:
    """Tell the customer we have their request: the number, and where to follow it."""
    headers = _headers(ticket, **{"Auto-Submitted": "auto-replied", "X-Auto-Response-Suppress": "All"})
    with force_locale(_language(ticket)):
        subject = _(
            "[%(number)s] We received your request: %(subject)s",
            number=ticket.number,
            subject=SUBJECT_TOKEN_RE.sub("", ticket.subject).strip(),
        )
        lines = [
            _("Hello %(name)s,", name=ticket.customer.name),
            "",
            _(
                "Thank you for writing to us. Your request has the number %(number)s; "
                "a member of our team will answer you soon.",
                number=ticket.number,
            ),
            "",
            _("You can follow your case here: %(link)s", link=portal_link_for(ticket)),
            _("To add information, simply reply to this email."),
            "",
            brand_name(),
        ]
    return queue_email(
        to=to,
        subject=subject,
        text="\n".join(lines) + "\n",
        kind="acknowledgement",
        ticket=ticket,
        headers=headers,
        message_id=new_message_id(ticket),
    )


def _language(ticket: Ticket) -> str:
    language = ticket.language or ticket.customer.language
    return (
        language
        if language in current_app.config["LANGUAGES"]
        else current_app.config["BABEL_DEFAULT_LOCALE"]
    )
