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


def queue_addresses() -> dict[str, int]:
    """Inbound address (without plus tag) → id of the active queue that receives it."""
    rows = db.session.execute(
        select(Queue.email_address, Queue.id)
        .where(Queue.email_address.is_not(None), Queue.is_active)
        .order_by(Queue.id.desc())
    )
    return {base_address(address): queue_id for address, queue_id in rows}


def our_addresses(queues: dict[str, int] | None = None) -> set[str]:
    """Every address we receive mail at or send from (without plus tags)."""
    return {default_sender_address(), *(queue_addresses() if queues is None else queues)}


def queue_for_recipients(recipients: list[str], queues: dict[str, int] | None = None) -> Queue | None:
    """The queue whose inbound address one of the recipients is (plus tags ignored)."""
    queues = queue_addresses() if queues is None else queues
    for recipient in recipients:
        queue_id = queues.get(base_address(recipient)) if recipient else None
        if queue_id is not None:
            return db.session.get(Queue, queue_id)
    return None
