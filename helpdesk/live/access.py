"""Who may follow what: checked once per subscription (a stream or a poll), with the session's user."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from flask_babel import gettext as _
from sqlalchemy import select

from helpdesk.auth.models import Role, StaffUser
from helpdesk.companies import service as companies
from helpdesk.customers.models import Customer
from helpdesk.extensions import db
from helpdesk.live.feed import Audience
from helpdesk.tickets import queries


class Refused(Exception):
    """A subscription that is not allowed, with the HTTP status and a message to show."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


def audience_for(user: Any, number: str | None) -> Audience:
    """The pages' own rules. Staff (agents and up) may follow every queue or any one ticket: every
    agent's queue page lists every queue (a queue's members only decide round-robin). A customer may
    follow one case the portal shows them (their own, or a colleague's where their company allows
    it), and only what the portal shows of it. Someone else's case is refused as missing."""
    if user is None or not user.is_authenticated:
        raise Refused(401, _("Sign in again to get live updates."))
    ticket = queries.ticket_by_number(number) if number else None
    if number and ticket is None:
        raise Refused(404, _("There is no such ticket."))
    if user.is_staff:
        if not user.has_role(Role.AGENT):
            raise Refused(403, _("You may not follow these updates."))
        return Audience(staff=True, ticket_id=ticket.id if ticket else None, viewer=user.get_id())
    if ticket is None:
        raise Refused(403, _("You may not follow these updates."))
    if ticket.customer_id not in companies.colleague_ids(user.id):  # the portal's own rule for a case
        raise Refused(404, _("There is no such ticket."))
    return Audience(staff=False, customer_id=ticket.customer_id, ticket_id=ticket.id, viewer=user.get_id())


def inactive_viewers(viewers: Iterable[str]) -> set[str]:
    """Of the accounts with open streams (``s:12``, ``c:34``), those deactivated since: their
    streams are closed (a reconnect is refused by the sign-in check itself). Two queries at most."""
    ids: dict[str, set[int]] = {"s": set(), "c": set()}
    for viewer in viewers:
        prefix, _sep, raw = viewer.partition(":")
        if prefix in ids and raw.isdigit():
            ids[prefix].add(int(raw))
    gone: set[str] = set()
    for prefix, model in (("s", StaffUser), ("c", Customer)):
        if ids[prefix]:
            found = select(model.id).where(model.id.in_(ids[prefix]), model.is_active)
            active = set(db.session.scalars(found))
            gone |= {f"{prefix}:{n}" for n in ids[prefix] - active}
    return gone
