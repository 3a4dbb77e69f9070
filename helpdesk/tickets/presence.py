"""Who else is viewing or typing on a ticket: one row per (ticket, agent), refreshed by a poll."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import delete, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import joinedload

from helpdesk import events
from helpdesk.dbtypes import utcnow
from helpdesk.extensions import db
from helpdesk.tickets.models import Ticket, TicketPresence

# The page polls every 10 s; three missed polls and the agent counts as gone.
EXPIRY = timedelta(seconds=30)


def mark_present(ticket_id: int, staff_id: int, *, typing: bool = False) -> None:
    """Upsert this agent's row (UPDATE first; INSERT in a savepoint if another request raced us).

    Arriving, coming back after the expiry, and starting or stopping typing are published
    (``presence_changed``), so the other agents' pages can show it at once; a plain refresh is not.
    """
    now = utcnow()
    values = {"is_typing": typing, "seen_at": now}
    mine = (TicketPresence.ticket_id == ticket_id, TicketPresence.staff_id == staff_id)
    changed = _update(
        *mine, or_(TicketPresence.is_typing != typing, TicketPresence.seen_at < now - EXPIRY), values=values
    )
    if not changed and not _update(*mine, values=values):
        changed = True
        try:
            with db.session.begin_nested():
                db.session.add(TicketPresence(ticket_id=ticket_id, staff_id=staff_id, **values))
        except IntegrityError:
            _update(*mine, values=values)
    if changed:
        ticket = db.session.get(Ticket, ticket_id)
        events.publish(events.presence_changed, ticket, staff_id=staff_id, typing=typing)


def _update(*where, values: dict) -> int:
    return db.session.execute(
        update(TicketPresence).where(*where).values(**values).execution_options(synchronize_session=False)
    ).rowcount


def others_present(ticket_id: int, staff_id: int) -> list[TicketPresence]:
    cutoff = utcnow() - EXPIRY
    return list(
        db.session.scalars(
            select(TicketPresence)
            .where(
                TicketPresence.ticket_id == ticket_id,
                TicketPresence.staff_id != staff_id,
                TicketPresence.seen_at >= cutoff,
            )
            .options(joinedload(TicketPresence.staff))
            .order_by(TicketPresence.seen_at.desc())
        )
    )


def forget_stale(older_than: timedelta = timedelta(hours=1)) -> int:
    """Housekeeping for the worker: drop rows nobody has refreshed for a long time."""
    removed = db.session.execute(delete(TicketPresence).where(TicketPresence.seen_at < utcnow() - older_than))
    return removed.rowcount or 0
