"""The JSON-lines ticket export: a backup and migration format, one ticket per line."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import joinedload, selectinload

from helpdesk.custom_fields.models import TicketFieldValue
from helpdesk.custom_fields.values import plain
from helpdesk.customers.models import Customer
from helpdesk.extensions import db
from helpdesk.tickets.models import Message, Ticket


def ticket_record(ticket: Ticket) -> dict[str, Any]:
    return {
        "number": ticket.number,
        "subject": ticket.subject,
        "status": ticket.status.value,
        "priority": ticket.priority.value,
        "channel": ticket.channel.value,
        "queue": ticket.queue.slug if ticket.queue else None,
        "customer": {"name": ticket.customer.name, "email": ticket.customer.email},
        "created_at": ticket.created_at.isoformat(),
        "tags": [t.name for t in ticket.tags],
        "request_type": ticket.request_type.key if ticket.request_type else None,
        "fields": field_record(ticket),
        "messages": [message_record(m) for m in ticket.messages],
    }


def field_record(ticket: Ticket) -> dict[str, Any]:
    """The ticket's custom fields by key, as the API writes them (archived fields included)."""
    rows: dict[int, list] = {}
    for row in ticket.field_values:
        rows.setdefault(row.field_id, []).append(row)
    return {group[0].field.key: plain(group[0].field, group) for group in rows.values()}


def message_record(m: Message) -> dict[str, Any]:
    """``text`` is the full body as received, ``visible_text`` what the agent reads (quoted history
    and signatures hidden), ``html`` the sanitised HTML body when the message had one."""
    record: dict[str, Any] = {
        "kind": m.kind.value,
        "author_email": m.author_email,
        "created_at": m.created_at.isoformat(),
        "text": m.body_text,
        "visible_text": m.display_text if m.display_text is not None else m.body_text,
    }
    if m.body_html:
        record["html"] = m.body_html
    record["attachments"] = [
        {"filename": a.filename, "size": a.size, "content_type": a.content_type} for a in m.attachments
    ]
    return record


def iter_ticket_records(batch_size: int = 500) -> Iterator[dict[str, Any]]:
    """All tickets in number order, loaded in batches with a fixed number of queries per batch."""
    last_id = 0
    while True:
        batch = (
            db.session.scalars(
                select(Ticket)
                .where(Ticket.id > last_id)
                .order_by(Ticket.id)
                .limit(batch_size)
                .options(
                    joinedload(Ticket.queue),
                    joinedload(Ticket.customer).selectinload(Customer.emails),
                    selectinload(Ticket.tags),
                    joinedload(Ticket.request_type),
                    selectinload(Ticket.field_values).joinedload(TicketFieldValue.field),
                    selectinload(Ticket.messages).options(
                        joinedload(Message.author_staff),
                        joinedload(Message.author_customer).selectinload(Customer.emails),
                        selectinload(Message.attachments),
                    ),
                )
            )
            .unique()
            .all()
        )
        if not batch:
            return
        for ticket in batch:
            yield ticket_record(ticket)
        last_id = batch[-1].id
        db.session.expunge_all()
