"""The triggers' receivers of the domain events (connected in ``helpdesk.wiring``): each runs the
active triggers listening to that event, in the publisher's transaction."""

from __future__ import annotations

from typing import Any

from sqlalchemy import event as sa_event
from sqlalchemy.orm import Session

from helpdesk import events
from helpdesk.automations.models import TriggerEvent
from helpdesk.automations.runs import forget_applied, run_triggers


def on_ticket_opened(ticket: Any, *, message: Any = None, **_details: object) -> None:
    run_triggers(ticket, TriggerEvent.CREATED.value, message)


def on_message_added(ticket: Any, *, message: Any, **_details: object) -> None:
    by_staff = message.author_staff is not None or message.author_staff_id is not None
    event = TriggerEvent.AGENT_MESSAGE if by_staff else TriggerEvent.CUSTOMER_MESSAGE
    run_triggers(ticket, event.value, message)


def on_ticket_changed(ticket: Any, **_details: object) -> None:
    """A change made while the ticket is being opened (the portal's request type and fields, written
    just after the ticket row) is part of its creation: the "created" triggers look again, so they
    can use those fields (each trigger still applies once per ticket and transaction)."""
    if events.opened_in_this_transaction(ticket):
        run_triggers(ticket, TriggerEvent.CREATED.value)
    run_triggers(ticket, TriggerEvent.UPDATED.value)


@sa_event.listens_for(Session, "after_transaction_end")
def _new_transaction(session: Session, transaction) -> None:
    if transaction.parent is None:
        forget_applied(session)
