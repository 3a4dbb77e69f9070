"""The mail channel's receivers of domain events: what the customer and staff are emailed.

Connected in ``helpdesk.wiring``. Each writes an outbox row in the caller's transaction; the worker
sends it after the commit, so a rolled-back change emails nobody.
"""

from __future__ import annotations

from datetime import datetime

from flask import current_app
from flask_babel import force_locale
from flask_babel import gettext as _

from helpdesk.auth.models import StaffUser
from helpdesk.i18n import format_local_datetime
from helpdesk.mail.compose import queue_reply_email
from helpdesk.mail.outbox import queue_email
from helpdesk.sla.labels import METRIC_LABELS
from helpdesk.sla.models import SlaMetric
from helpdesk.tickets.models import Channel, Message, MessageKind, Ticket
from helpdesk.urls import external_url


def email_staff_reply(ticket: Ticket, *, message: Message, notify: bool = True, **_details: object) -> None:
    """Receiver of ``message_added``: a staff member's public reply is emailed to the customer
    (``notify`` is off for imports and demo data). A WhatsApp ticket is answered on WhatsApp."""
    if ticket.channel == Channel.WHATSAPP:
        return
    if notify and message.kind == MessageKind.REPLY and message.author_staff is not None:
        queue_reply_email(ticket, message)


def email_sla_warning(
    ticket: Ticket, *, metric: SlaMetric, due_at: datetime, recipient: StaffUser | None, **_details: object
) -> None:
    """Receiver of ``sla_warning``: the assignee (else the queue's supervisor) is told it is due soon."""
    if recipient is not None:
        _email_sla_notice(ticket, metric, due_at, recipient, is_breach=False)


def email_sla_breach(
    ticket: Ticket, *, metric: SlaMetric, due_at: datetime, recipient: StaffUser | None, **_details: object
) -> None:
    """Receiver of ``sla_breached``: the escalation email to the queue's supervisor."""
    if recipient is not None:
        _email_sla_notice(ticket, metric, due_at, recipient, is_breach=True)


def _email_sla_notice(
    ticket: Ticket, metric: SlaMetric, due_at: datetime, recipient: StaffUser, *, is_breach: bool
) -> None:
    link = external_url("agents.ticket", number=ticket.number)
    with force_locale(recipient.language or current_app.config["BABEL_DEFAULT_LOCALE"]):
        values = {
            "number": ticket.number,
            "metric": str(METRIC_LABELS[metric]),
            "due": format_local_datetime(due_at),
        }
        if is_breach:
            subject = _("[%(number)s] SLA breached: %(metric)s", **values)
            lead = _("The %(metric)s target of ticket %(number)s was missed (due %(due)s).", **values)
        else:
            subject = _("[%(number)s] SLA warning: %(metric)s due soon", **values)
            lead = _("The %(metric)s target of ticket %(number)s is due %(due)s.", **values)
        queue = ticket.queue.name_for(recipient.language or "ar") if ticket.queue else "—"
        details = [
            lead,
            "",
            _("Subject: %(subject)s", subject=ticket.subject),
            _("Queue: %(queue)s", queue=queue),
            _("Assignee: %(name)s", name=ticket.assignee.name if ticket.assignee else _("nobody")),
            "",
            link,
        ]
    kind = "sla_breach" if is_breach else "sla_warning"
    queue_email(to=recipient.email, subject=subject, text="\n".join(details), kind=kind, ticket=ticket)
