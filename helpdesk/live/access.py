"""Who may follow what: checked once per subscription (a stream or a poll), with the session's user."""

from __future__ import annotations

from typing import Any

from flask_babel import gettext as _

from helpdesk.auth.models import Role
from helpdesk.live.feed import Audience
from helpdesk.tickets import queries


class Refused(Exception):
    """A subscription that is not allowed, with the HTTP status and a message to show."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


def audience_for(user: Any, number: str | None) -> Audience:
    """Staff (agents and up) may follow every queue or any one ticket; a customer only one of their
    own cases, and only what the portal shows of it. Someone else's case is refused as missing."""
    if user is None or not user.is_authenticated:
        raise Refused(401, _("Sign in again to get live updates."))
    ticket = queries.ticket_by_number(number) if number else None
    if number and ticket is None:
        raise Refused(404, _("There is no such ticket."))
    if user.is_staff:
        if not user.has_role(Role.AGENT):
            raise Refused(403, _("You may not follow these updates."))
        return Audience(staff=True, ticket_id=ticket.id if ticket else None)
    if ticket is None:
        raise Refused(403, _("You may not follow these updates."))
    if ticket.customer_id != user.id:
        raise Refused(404, _("There is no such ticket."))
    return Audience(staff=False, customer_id=user.id, ticket_id=ticket.id)
