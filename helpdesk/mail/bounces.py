"""Delivery reports (bounces): they go on the ticket of the mail that bounced, as a system event."""

from __future__ import annotations

from helpdesk.batching import changed_in_transaction
from helpdesk.extensions import db
from helpdesk.mail.ledger import IngestResult, Rejected
from helpdesk.mail.parse import ParsedEmail
from helpdesk.mail.threads import ticket_of_message, ticket_of_outbound_email
from helpdesk.tickets import service as tickets
from helpdesk.tickets.attachments import attach_files
from helpdesk.tickets.models import Channel, Message, Ticket


def record_bounce(parsed: ParsedEmail) -> tuple[IngestResult, Ticket, Message, str]:
    """A delivery report goes on the ticket of the mail that bounced, as a system event; never a ticket."""
    report = parsed.report
    ids = [i for i in [report.original_message_id, *parsed.thread_ids] if i]
    ticket = None
    if ids:
        ticket_id = ticket_of_outbound_email(ids, latest_first=False) or ticket_of_message(ids)
        ticket = db.session.get(Ticket, ticket_id) if ticket_id else None
    if ticket is None:
        raise Rejected("a delivery report (bounce) for a message that is not ours")
    details = [
        f"recipients: {', '.join(report.recipients) or '?'}",
        f"status: {report.status or '?'}",
    ]
    if report.diagnostic:
        details.append(f"diagnostic: {report.diagnostic}")
    if changed_in_transaction(ticket):
        db.session.flush()  # as for a reply: each message its own change of the ticket
    event = tickets.record_event(ticket, "bounce", "\n".join(details), channel=Channel.EMAIL)
    event.email_message_id = parsed.message_id
    attach_files(event, parsed.files)
    return IngestResult(parsed.message_id, ticket.number, "appended"), ticket, event, "bounce"
