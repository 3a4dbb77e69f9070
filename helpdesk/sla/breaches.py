"""The SLA check run by the worker: record warnings and breaches, notify, escalate.

Each warning or breach is one row keyed by (ticket, metric, kind, clock start). The row is inserted
with ON CONFLICT DO NOTHING and everything else (the ticket event, the email, the escalation) happens
only when the insert took, in the same transaction: a second run, or a second worker, does nothing.
"""

from __future__ import annotations

import logging
from datetime import datetime

from flask import Flask, current_app
from flask_babel import force_locale, format_datetime
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import and_, exists, select, true
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm.exc import StaleDataError

from helpdesk.api.webhooks import emit
from helpdesk.auth.models import StaffUser
from helpdesk.dbtypes import utcnow
from helpdesk.extensions import db
from helpdesk.mail.outbox import queue_email
from helpdesk.sla.models import BreachKind, SlaBreach, SlaMetric, SlaPolicy, TicketSla
from helpdesk.tickets.models import Channel, Message, MessageKind, Priority, Status, Ticket
from helpdesk.worker.runner import register_job

log = logging.getLogger("helpdesk.sla")

ACTIVE = [s for s in Status if s.is_active]
METRIC_LABELS = {
    SlaMetric.FIRST_RESPONSE: _l("first response"),
    SlaMetric.NEXT_RESPONSE: _l("next response"),
    SlaMetric.RESOLUTION: _l("resolution"),
}
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
    insert = postgresql_insert if db.engine.dialect.name == "postgresql" else sqlite_insert
    statement = (
        insert(SlaBreach)
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
                    if _record(ticket_id, metric, kind, due_at, started_at, now):
                        counts["breaches" if kind == BreachKind.BREACH else "warnings"] += 1
                    db.session.commit()
                except StaleDataError:  # an agent changed the ticket meanwhile: try again next run
                    db.session.rollback()
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
    db.session.add(
        Message(
            ticket=ticket,
            kind=MessageKind.EVENT,
            event=EVENTS[kind],
            channel=Channel.AGENT,
            body_text=f"{metric.value} · due {due_at:%Y-%m-%d %H:%M} UTC",
            created_at=now,
        )
    )
    if recipient is not None:
        _notify(recipient, ticket, metric, kind, due_at)
    if kind == BreachKind.BREACH:
        emit(
            "sla.breached",
            ticket=ticket,
            details={
                "breach": {
                    "metric": metric.value,
                    "due_at": due_at.isoformat(),
                    "policy_id": row.policy_id if row else None,
                }
            },
        )
    if kind == BreachKind.BREACH and policy is not None:
        _escalate(ticket, policy)
    return True


def _recipient(ticket: Ticket, kind: BreachKind) -> StaffUser | None:
    """A breach goes to the queue's supervisor; a warning to the assignee, else the supervisor."""
    supervisor = ticket.queue.supervisor if ticket.queue is not None else None
    candidates = [supervisor] if kind == BreachKind.BREACH else [ticket.assignee, supervisor]
    return next((s for s in candidates if s is not None and s.is_active), None)


def _notify(
    recipient: StaffUser, ticket: Ticket, metric: SlaMetric, kind: BreachKind, due_at: datetime
) -> None:
    link = f"{current_app.config['BASE_URL'].rstrip('/')}/agent/tickets/{ticket.number}"
    with force_locale(recipient.language or current_app.config["BABEL_DEFAULT_LOCALE"]):
        values = {
            "number": ticket.number,
            "metric": str(METRIC_LABELS[metric]),
            "due": format_datetime(due_at),
        }
        if kind == BreachKind.BREACH:
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
    queue_email(
        to=recipient.email, subject=subject, text="\n".join(details), kind=f"sla_{kind.value}", ticket=ticket
    )


def _escalate(ticket: Ticket, policy: SlaPolicy) -> None:
    from helpdesk.tickets import service as tickets

    if policy.breach_raises_priority and ticket.priority != Priority.URGENT:
        ladder = list(Priority)
        raised = ladder[min(ticket.priority.rank + 1, len(ladder) - 1)]
        tickets.change_priority(ticket, raised, actor=None, commit=False)
    target = policy.breach_reassign_to
    if target is not None and target.is_active and ticket.assignee_id != target.id:
        tickets.assign(ticket, target, actor=None, commit=False)


@register_job("sla.check_breaches", every_seconds=60)
def check_breaches_job(app: Flask) -> dict[str, int]:
    return check_breaches()
