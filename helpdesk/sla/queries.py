"""SLA conditions for ticket queries, so queue views filter in SQL."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ColumnElement, and_, exists, or_

from helpdesk.sla.models import TicketSla
from helpdesk.tickets.models import Status, Ticket

ACTIVE_STATUSES = [s for s in Status if s.is_active]


def breaching_soon(now: datetime) -> ColumnElement[bool]:
    """Active tickets with a running clock past its warning share (default 75 % of the target) and
    no target missed yet: the ones an agent can still save. Missed ones are ``overdue``; sort both
    by ``Ticket.next_due_at``."""
    warned = exists().where(
        TicketSla.ticket_id == Ticket.id,
        or_(
            TicketSla.first_response_warn_at <= now,
            TicketSla.next_response_warn_at <= now,
            TicketSla.resolution_warn_at <= now,
        ),
    )
    return and_(Ticket.status.in_(ACTIVE_STATUSES), Ticket.next_due_at > now, warned)


def overdue(now: datetime) -> ColumnElement[bool]:
    """Active tickets past the due time of a running clock (an SLA target already missed)."""
    return and_(Ticket.status.in_(ACTIVE_STATUSES), Ticket.next_due_at <= now)
