"""Receivers of domain events: a new email ticket gets its request type from the subject's words."""

from __future__ import annotations

from typing import Any

from helpdesk.custom_fields.service import type_for_email
from helpdesk.extensions import db
from helpdesk.tickets import service as tickets
from helpdesk.tickets.models import Channel


def type_email_ticket(ticket: Any, **_details: object) -> None:
    """The first request type whose keywords the subject contains, with its default tags; with no
    match the ticket stays untyped for an agent to choose on the ticket page."""
    if ticket.channel != Channel.EMAIL or ticket.request_type_id is not None:
        return
    request_type = type_for_email(ticket.subject)
    if request_type is None:
        return
    ticket.request_type_id = request_type.id
    if request_type.default_tags:
        tickets.set_tags(ticket, [*(t.name for t in ticket.tags), *request_type.default_tags])
    db.session.flush()
