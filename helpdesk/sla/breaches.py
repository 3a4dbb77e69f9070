"""The SLA check run by the worker: record warnings and breaches, publish them, escalate.

Each warning or breach is one row keyed by (ticket, metric, kind, clock start). The row is inserted
with ON CONFLICT DO NOTHING and everything else (the ticket event, the published ``sla_warning`` /
``sla_breached`` whose receivers email the recipient and post webhooks, the escalation) happens only
when the insert took, in the same transaction: a second run, or a second worker, does nothing.
"""

from __future__ import annotations

import logging
from datetime import datetime

from flask import Flask
from sqlalchemy import and_, exists, select, true
from sqlalchemy.orm.exc import StaleDataError

from helpdesk import events
from helpdesk.auth.models import StaffUser
from helpdesk.dbtypes import upsert, utcnow
from helpdesk.extensions import db
from helpdesk.sla.models import BreachKind, SlaBreach, SlaMetric, SlaPolicy, TicketSla
from helpdesk.tickets import service as tickets
from helpdesk.tickets.models import Priority, Status, Ticket
from helpdesk.transaction import unit_of_work
from helpdesk.worker.runner import register_job

log = logging.getLogger("helpdesk.sla")

ACTIVE = [s for s in Status if s.is_active]
EVENTS = {BreachKind.WARNING: "sla_warning", BreachKind.BREACH: "sla_breached"}


def _clock_columns(metric: SlaMetric):
    """(due column, warning column, condition that the clock runs, clock start) of a metric."""
    if metric == SlaMetric.FIRST_RESPONSE:
        return (
            Ticket.first_response_due_at,
            TicketSla.first_response_warn_at,
            Ticket.first_response_at.is_(None),
            Ticket.created_at,
        )
    if metric == SlaMetric.NEXT_RESPONSE:
        return (
            Ticket.next_response_due_at,
            TicketSla.next_response_warn_at,
            TicketSla.awaiting_since.is_not(None),
            TicketSla.awaiting_since,
        )
    return Ticket.resolution_due_at, TicketSla.resolution_warn_at, true(), Ticket.created_at


def _candidates(metric: SlaMetric, kind: BreachKind, now: datetime) -> list[tuple[int, datetime, datetime]]:
    """(ticket id, due, clock start) of running clocks that reached the threshold and have no row yet."""
    due, warn, running, started = _clock_columns(metric)
    reached = due <= now if kind == BreachKind.BREACH else and_(warn <= now, due > now)
    recorded = exists().where(
        SlaBreach.ticket_id == Ticket.id,
        SlaBreach.metric == metric,
        SlaBreach.kind == kind,
        SlaBreach.clock_started_at == started,
    )
    query = (
        select(Ticket.id, due, started)
        .join(TicketSla, TicketSla.ticket_id == Ticket.id)
        .where(Ticket.status.in_(ACTIVE), running, reached, ~recorded)
        .order_by(due, Ticket.id)
    )
    return [tuple(row) for row in db.session.execute(query)]


def _insert_once(values: dict) -> int | None:
    """Insert the breach row unless it exists; the new id, or None when it was there already."""
    statement = (
        upsert(SlaBreach)
        .values(**values)
        .on_conflict_do_nothing(index_elements=["ticket_id", "metric", "kind", "clock_started_at"])
        .returning(SlaBreach.id)
    )
    return db.session.execute(statement).scalar()


def check_breaches(now: datetime | None = None) -> dict[str, int]:
    """Record and notify every warning and breach that is due. Returns counts of new ones."""
    now = now or utcnow()
    counts = {"warnings": 0, "breaches": 0}
    # Breaches first: a clock past due gets its breach, not a late warning.
    for kind in (BreachKind.BREACH, BreachKind.WARNING):
        for metric in SlaMetric:
            for ticket_id, due_at, started_at in _candidates(metric, kind, now):
                try:
                    with unit_of_work():
                        recorded = _record(ticket_id, metric, kind, due_at, started_at, now)
                except StaleDataError:  # an agent changed the ticket meanwhile: try again next run
                    continue
                if recorded:
                    counts["breaches" if kind == BreachKind.BREACH else "warnings"] += 1
    return counts


def _record(
    ticket_id: int, metric: SlaMetric, kind: BreachKind, due_at: datetime, started_at: datetime, now: datetime
) -> bool:
    ticket = db.session.get(Ticket, ticket_id)
    row = db.session.get(TicketSla, ticket_id)
    policy = db.session.get(SlaPolicy, row.policy_id) if row and row.policy_id else None
    recipient = _recipient(ticket, kind)
    breach_id = _insert_once(
        {
            "ticket_id": ticket.id,
            "metric": metric,
            "kind": kind,
            "clock_started_at": started_at,
            "due_at": due_at,
            "policy_id": policy.id if policy else None,
            "queue_id": ticket.queue_id,
            "assignee_id": ticket.assignee_id,
            "notified_to": recipient.email if recipient else None,
            "created_at": now,
        }
    )
    if breach_id is None:
        return False
    tickets.record_event(ticket, EVENTS[kind], f"{metric.value} · due {due_at:%Y-%m-%d %H:%M} UTC", at=now)
    if kind == BreachKind.BREACH:
        events.publish(
            events.sla_breached,
            ticket,
            metric=metric,
            due_at=due_at,
            policy_id=row.policy_id if row else None,
            recipient=recipient,
        )
    else:
        events.publish(events.sla_warning, ticket, metric=metric, due_at=due_at, recipient=recipient)
    if kind == BreachKind.BREACH and policy is not None:
        _escalate(ticket, policy)
    return True


def _recipient(ticket: Ticket, kind: BreachKind) -> StaffUser | None:
    """A breach goes to the queue's supervisor; a warning to the assignee, else the supervisor."""
    supervisor = ticket.queue.supervisor if ticket.queue is not None else None
    candidates = [supervisor] if kind == BreachKind.BREACH else [ticket.assignee, supervisor]
    return next((s for s in candidates if s is not None and s.is_active), None)


def _escalate(ticket: Ticket, policy: SlaPolicy) -> None:
    if policy.breach_raises_priority and ticket.priority != Priority.URGENT:
        ladder = list(Priority)
        raised = ladder[min(ticket.priority.rank + 1, len(ladder) - 1)]
        tickets.change_priority(ticket, raised, actor=None)
    target = policy.breach_reassign_to
    if target is not None and target.is_active and ticket.assignee_id != target.id:
        tickets.assign(ticket, target, actor=None)


@register_job("sla.check_breaches", every_seconds=60)
def check_breaches_job(app: Flask) -> dict[str, int]:
    return check_breaches()
