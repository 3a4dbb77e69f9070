"""Claiming and automatic assignment.

A claim is a conditional write on the ticket's version: when two agents claim the same ticket at
once, the database lets exactly one UPDATE match and the other is refused as stale. Round-robin
hands a queue's tickets to its active members in turn, skipping anyone at the open-ticket cap.
"""

from __future__ import annotations

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select
from sqlalchemy.orm.exc import StaleDataError

from helpdesk.auth.models import StaffUser
from helpdesk.extensions import db
from helpdesk.tickets import service
from helpdesk.tickets.errors import IllegalTransition, StaleTicket
from helpdesk.tickets.models import Queue, Status, Ticket, queue_members


def claim(ticket: Ticket, agent: StaffUser, *, expected_version: int | None) -> Ticket:
    """Assign the ticket to ``agent`` unless someone changed it since ``expected_version``."""
    try:
        with db.session.begin_nested():  # flushed at the end: a concurrent claim loses here
            service.assign(ticket, agent, actor=agent, expected_version=expected_version)
    except StaleDataError:
        # Both requests read the same version; the other UPDATE committed first. Our savepoint (and
        # its events) is gone; the ticket is read again to say what the other agent changed.
        db.session.refresh(ticket)
        service.check_version(ticket, expected_version)
        raise StaleTicket(
            _("Ticket %(number)s was just changed by someone else.", number=ticket.number)
        ) from None
    return ticket


def open_ticket_counts(agent_ids: list[int]) -> dict[int, int]:
    rows = db.session.execute(
        select(Ticket.assignee_id, func.count(Ticket.id))
        .where(
            Ticket.assignee_id.in_(agent_ids),
            Ticket.status.in_([s for s in Status if s.is_active]),
            Ticket.merged_into_id.is_(None),
        )
        .group_by(Ticket.assignee_id)
    )
    counts = dict.fromkeys(agent_ids, 0)
    counts.update({agent_id: n for agent_id, n in rows})
    return counts


def _next_turn(queue: Queue) -> int:
    """The queue's round-robin counter, bumped atomically."""
    return service.bump_counter(f"round_robin:{queue.id}")


def round_robin_agent(queue: Queue, *, cap: int) -> StaffUser | None:
    """The next active member of the queue in turn with fewer than ``cap`` open tickets (0: no cap)."""
    members = list(
        db.session.scalars(
            select(StaffUser)
            .join(queue_members, queue_members.c.staff_id == StaffUser.id)
            .where(queue_members.c.queue_id == queue.id, StaffUser.is_active)
            .order_by(StaffUser.id)
        )
    )
    if cap:
        counts = open_ticket_counts([m.id for m in members])
        members = [m for m in members if counts[m.id] < cap]
    if not members:
        return None
    return members[_next_turn(queue) % len(members)]


def assign_round_robin(ticket: Ticket, *, actor: StaffUser | None, cap: int) -> StaffUser:
    if ticket.queue is None:
        raise IllegalTransition(_("Put the ticket in a queue first."))
    agent = round_robin_agent(ticket.queue, cap=cap)
    if agent is None:
        raise IllegalTransition(
            str(
                _l(
                    "No agent of %(queue)s is available (all at the cap of %(cap)s).",
                    queue=ticket.queue.name_en,
                    cap=cap,
                )
            )
        )
    service.assign(ticket, agent, actor=actor)
    return agent
