"""When we answer mail automatically, and when not: auto-responders, lists, robots, our own
addresses, and at most a few acknowledgements an hour to one sender (no mail loops)."""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import timedelta

from flask import current_app
from sqlalchemy import bindparam, func, select

from helpdesk.batching import write_first_if
from helpdesk.dbtypes import utcnow
from helpdesk.extensions import db
from helpdesk.mail import addresses
from helpdesk.mail.models import OutboundEmail
from helpdesk.mail.parse import ParsedEmail

MACHINE_SENDERS = re.compile(
    r"^(?:mailer-daemon|postmaster|no-?reply|do-?not-?reply|donotreply|bounces?|auto-?reply|autoresponder)"
    r"(?:[+\-._].*)?@",
    re.IGNORECASE,
)


# The lookups every message makes, built once (building a statement costs more than running it) and
# run on the connection, as plain SQL. Each is preceded by ``batching.write_first_if``, in place of autoflush.
ACKNOWLEDGEMENTS_SINCE = select(func.count(OutboundEmail.id)).where(
    OutboundEmail.kind == "acknowledgement",
    OutboundEmail.to == bindparam("sender"),
    OutboundEmail.created_at >= bindparam("since"),
)


def _auto_responder_header(headers: Mapping[str, str]) -> str | None:
    """The header that marks an auto-responder's mail (out of office, vacation), or None."""
    auto_submitted = headers.get("auto-submitted", "").strip().lower()
    if auto_submitted and not auto_submitted.startswith("no"):
        return "auto-submitted"
    if "x-autoreply" in headers or "x-autorespond" in headers:
        return "auto-reply header"
    if headers.get("precedence", "").strip().lower() == "auto_reply":
        return "precedence"
    return None


def is_automatic_reply(parsed: ParsedEmail) -> bool:
    """An auto-responder wrote this (out of office, vacation), not a person."""
    return _auto_responder_header(parsed.headers) is not None


def auto_reply_refusal(parsed: ParsedEmail, queues: dict[str, int] | None = None) -> str | None:
    """Why we must not answer this mail automatically (mail loops, lists, robots), or None."""
    headers = parsed.headers
    reason = _auto_responder_header(headers)
    if reason:
        return reason
    if headers.get("precedence", "").strip().lower() in ("bulk", "junk", "list"):
        return "precedence"
    if "list-id" in headers or "list-unsubscribe" in headers:
        return "mailing list"
    if headers.get("return-path", "").strip() == "<>":
        return "null sender"
    sender = parsed.from_address or ""
    if not sender or MACHINE_SENDERS.match(sender):
        return "machine sender"
    if addresses.base_address(sender) in addresses.our_addresses(queues):
        return "our own address"
    write_first_if(OutboundEmail, lambda e: e.kind == "acknowledgement" and e.to == sender)
    since = utcnow() - timedelta(hours=1)
    sent = db.session.connection().scalar(ACKNOWLEDGEMENTS_SINCE, {"sender": sender, "since": since})
    if sent >= current_app.config["MAIL_AUTO_REPLIES_PER_HOUR"]:
        return "hourly limit"
    return None
