"""Domain events: what the ticket and SLA services say happened, for the channels built on them.

A service changes the domain and calls ``publish``; it never imports a channel. Receivers (mail,
webhooks, the search index, later WhatsApp, automations, live updates) are connected in one place,
``helpdesk.wiring``. They run synchronously, in the caller's transaction, and only *record* their
work (an outbox row, an index job): so a rolled-back change sends nothing and a committed one loses
nothing. Receivers must not depend on each other's order (blinker keeps them in a set).

Besides the immediate signal, each event is kept on the session until the transaction commits.
Just before it does, ``committing`` hands the transaction's events over, merged: several changes
to one ticket are one ``ticket_changed`` (none at all when the ticket was opened in the same
transaction), so a receiver that describes the final state (webhooks) sees each ticket once.
A rolled-back savepoint forgets only the events published inside it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from blinker import NamedSignal, Namespace
from sqlalchemy import event as sa_event
from sqlalchemy.orm import Session

from helpdesk.dbtypes import utcnow
from helpdesk.extensions import db

_signals = Namespace()

ticket_opened = _signals.signal(
    "ticket_opened",
    doc="A ticket was opened with its first message. sender=ticket, message=. "
    "Receivers: automations.triggers.on_ticket_opened, custom_fields.subscribers.type_email_ticket, "
    "webhooks (ticket.created, at commit).",
)
message_added = _signals.signal(
    "message_added",
    doc="A reply or internal note was added. sender=ticket, message=, notify= (email the customer). "
    "Receivers: mail.subscribers.email_staff_reply, whatsapp.outbound.send_staff_reply, "
    "tickets.search_index.reindex_ticket, "
    "automations.triggers.on_message_added, webhooks (message.created, at commit).",
)
ticket_changed = _signals.signal(
    "ticket_changed",
    doc="Fields of a ticket changed. sender=ticket, changes={field: (old, new)}. "
    "Receivers: automations.triggers.on_ticket_changed, webhooks (ticket.updated, at commit). "
    "Column changes re-index through the search package's flush hook.",
)
tickets_merged = _signals.signal(
    "tickets_merged",
    doc="sender=target, source=, moved= (messages moved). Receivers: tickets.search_index.reindex_ticket.",
)
sla_warning = _signals.signal(
    "sla_warning",
    doc="An SLA target is close. sender=ticket, metric=, due_at=, recipient= (staff or None). "
    "Receivers: mail.subscribers.email_sla_warning.",
)
sla_breached = _signals.signal(
    "sla_breached",
    doc="An SLA target was missed. sender=ticket, metric=, due_at=, policy_id=, recipient=. "
    "Receivers: mail.subscribers.email_sla_breach, webhooks (sla.breached, at commit).",
)
automation_applied = _signals.signal(
    "automation_applied",
    doc="An automation rule with a webhook action was applied. sender=ticket, rule_id=, rule_name=. "
    "Receivers: webhooks (automation.applied, at commit).",
)
presence_changed = _signals.signal(
    "presence_changed",
    doc="An agent opened a ticket, or started or stopped typing on it. sender=ticket, staff_id=, "
    "typing=. Receivers: live.feed.record (at commit).",
)
committing = _signals.signal(
    "committing",
    doc="The transaction is about to commit. sender=session, published=[Event] (merged; may be "
    "empty). Receivers: api.webhooks.write_deliveries, live.feed.record, "
    "search.pg.write_documents (the search documents of what changed, on PostgreSQL).",
)

DOMAIN_SIGNALS: tuple[NamedSignal, ...] = (
    ticket_opened,
    message_added,
    ticket_changed,
    tickets_merged,
    sla_warning,
    sla_breached,
    automation_applied,
    presence_changed,
)

_PENDING = "domain_events"
_SAVEPOINT_MARKS = "domain_event_savepoints"


@dataclass
class Event:
    """One event of the transaction, as ``committing`` receivers see it."""

    signal: NamedSignal
    ticket: Any
    message: Any = None
    changes: dict[str, dict[str, Any]] = field(default_factory=dict)  # field → {"from": …, "to": …}
    details: dict[str, Any] = field(default_factory=dict)
    occurred_at: datetime = field(default_factory=utcnow)


def publish(
    signal: NamedSignal,
    ticket: Any,
    *,
    message: Any = None,
    changes: dict[str, tuple[Any, Any]] | None = None,
    **details: Any,
) -> None:
    """Tell the receivers now and keep the event for ``committing``."""
    _keep(signal, ticket, message, changes or {}, details)
    payload = dict(details)
    if message is not None:
        payload["message"] = message
    if changes is not None:
        payload["changes"] = changes
    signal.send(ticket, **payload)


def opened_in_this_transaction(ticket: Any) -> bool:
    """Whether the ticket was opened in the current transaction (its opening event is pending)."""
    return any(e.signal is ticket_opened and e.ticket is ticket for e in db.session.info.get(_PENDING, []))


def _keep(signal, ticket, message, changes: dict, details: dict) -> None:
    pending: list[Event] = db.session.info.setdefault(_PENDING, [])
    if signal is ticket_changed:
        if any(e.signal is ticket_opened and e.ticket is ticket for e in pending):
            return  # opened in this transaction: the opening event describes the final state
        same = next((e for e in pending if e.signal is ticket_changed and e.ticket is ticket), None)
        if same is not None:
            for key, (old, new) in changes.items():
                same.changes.setdefault(key, {"from": _plain(old)})["to"] = _plain(new)
            return
    pending.append(
        Event(
            signal=signal,
            ticket=ticket,
            message=message,
            changes={k: {"from": _plain(old), "to": _plain(new)} for k, (old, new) in changes.items()},
            details=details,
        )
    )


def _plain(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat()
    return getattr(value, "value", value)


@sa_event.listens_for(Session, "before_commit")
def _hand_over(session: Session) -> None:
    # Sent even without events: an article edit publishes none, yet its search document is
    # written here (on PostgreSQL).
    committing.send(session, published=session.info.pop(_PENDING, []))


@sa_event.listens_for(Session, "after_transaction_create")
def _mark_savepoint(session: Session, transaction) -> None:
    """Remember how many events a savepoint started with, so rolling it back forgets only its own."""
    if transaction.nested:
        session.info.setdefault(_SAVEPOINT_MARKS, {})[transaction] = len(session.info.get(_PENDING, []))


@sa_event.listens_for(Session, "after_soft_rollback")
def _forget_events(session: Session, previous_transaction) -> None:
    """A rolled-back transaction publishes nothing; a rolled-back savepoint drops only what it added."""
    if previous_transaction.nested:
        start = session.info.get(_SAVEPOINT_MARKS, {}).pop(previous_transaction, 0)
        del session.info.get(_PENDING, [])[start:]
    else:
        session.info.pop(_PENDING, None)


@sa_event.listens_for(Session, "after_transaction_end")
def _forget_marks(session: Session, transaction) -> None:
    if transaction.parent is None:
        session.info.pop(_SAVEPOINT_MARKS, None)
