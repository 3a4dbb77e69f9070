"""The agent's reply box in one submit: the message, and the status it leaves the ticket in.

"Send and set pending" / "Send and set solved" save the agent a second form and a second round
trip; both changes are one transaction (the caller commits), so a refused status change sends nothing
either.
"""

from __future__ import annotations

from collections.abc import Sequence

from flask_babel import gettext as _

from helpdesk.auth.models import StaffUser
from helpdesk.tickets import service
from helpdesk.tickets.attachments import IncomingFile
from helpdesk.tickets.labels import STATUS_LABELS
from helpdesk.tickets.models import Message, MessageKind, Status, Ticket

# The statuses the reply box offers after sending.
STATUSES_AFTER_REPLY = (Status.PENDING, Status.SOLVED)


def send_reply(
    ticket: Ticket,
    *,
    author: StaffUser,
    body: str,
    kind: MessageKind,
    expected_version: int | None,
    attachments: Sequence[IncomingFile] = (),
    then_status: Status | None = None,
) -> Message:
    """Post the reply or internal note, then move the ticket to ``then_status`` (if given)."""
    message = service.add_message(
        ticket,
        author=author,
        body=body,
        kind=kind,
        expected_version=expected_version,
        attachments=attachments,
    )
    if then_status is not None:
        service.change_status(ticket, then_status, actor=author)
    return message


def sent_message(kind: MessageKind, then_status: Status | None) -> str:
    """What the agent is told after sending: it went, and where the ticket stands now."""
    sent = _("Reply sent.") if kind == MessageKind.REPLY else _("Internal note added.")
    if then_status is None:
        return sent
    now = _("The ticket is now %(status)s.", status=STATUS_LABELS[then_status])
    return f"{sent} {now}"
