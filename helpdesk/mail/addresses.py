"""Our own addresses: the signed reply address of a ticket, the subject token, loop detection.

A reply address ``support+HD-1042.k3j9x2ab@example.com`` carries the ticket number and an HMAC of
it, so a sender cannot aim a message at another customer's ticket by guessing numbers.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
from email.utils import parseaddr

from flask import current_app
from sqlalchemy import select

from helpdesk.extensions import db
from helpdesk.tickets.models import Queue, Ticket

SUBJECT_TOKEN_RE = re.compile(r"\[\s*(HD-\d{1,12})\s*\]", re.IGNORECASE)
PLUS_TOKEN_RE = re.compile(r"^[^@+]+\+(hd-\d{1,12})\.([a-z2-7]{8,32})@", re.IGNORECASE)
SIGNATURE_LENGTH = 10


def default_sender_address() -> str:
    return parseaddr(current_app.config["MAIL_DEFAULT_SENDER"])[1].lower() or "support@helpdesk.localhost"


def message_id_domain() -> str:
    return default_sender_address().rpartition("@")[2] or "helpdesk.localhost"


def ticket_signature(number: str) -> str:
    key = current_app.config["SECRET_KEY"].encode()
    digest = hmac.new(key, f"reply-to:{number.upper()}".encode(), hashlib.sha256).digest()
    return base64.b32encode(digest).decode().lower()[:SIGNATURE_LENGTH]


def reply_address(ticket: Ticket) -> str:
    """The signed plus-address replies to this ticket should go to."""
    base = (ticket.queue.email_address if ticket.queue is not None else None) or default_sender_address()
    local, _at, domain = base.partition("@")
    local = local.split("+", 1)[0]
    return f"{local}+{ticket.number}.{ticket_signature(ticket.number)}@{domain}"


def number_from_reply_address(address: str) -> str | None:
    """The ticket number of a signed plus-address, or None when absent or the signature is wrong."""
    match = PLUS_TOKEN_RE.match(address or "")
    if match is None:
        return None
    number = match.group(1).upper()
    if not hmac.compare_digest(match.group(2).lower(), ticket_signature(number)):
        return None
    return number


def number_from_subject(subject: str) -> str | None:
    match = SUBJECT_TOKEN_RE.search(subject or "")
    return match.group(1).upper() if match else None


def base_address(address: str) -> str:
    """``support+anything@x`` → ``support@x``, lower-cased."""
    local, _at, domain = (address or "").lower().partition("@")
    return f"{local.split('+', 1)[0]}@{domain}"


def our_addresses() -> set[str]:
    """Every address we receive mail at or send from (without plus tags)."""
    addresses = {default_sender_address()}
    addresses |= {
        a.lower()
        for a in db.session.scalars(select(Queue.email_address).where(Queue.email_address.is_not(None)))
    }
    return {base_address(a) for a in addresses}


def queue_for_recipients(recipients: list[str]) -> Queue | None:
    """The queue whose inbound address one of the recipients is (plus tags ignored)."""
    wanted = {base_address(r) for r in recipients if r}
    if not wanted:
        return None
    return db.session.scalar(
        select(Queue)
        .where(Queue.email_address.in_(sorted(wanted)), Queue.is_active)
        .order_by(Queue.id)
        .limit(1)
    )
