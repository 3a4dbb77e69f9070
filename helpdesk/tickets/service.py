"""Ticket operations: open, reply, note, status changes, assignment. One transaction per call.

Every channel (portal, agent UI, email, API, CLI) goes through these functions, so the rules
(legal status transitions, first-response time, system events) hold everywhere.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any

from flask_babel import lazy_gettext as _l
from sqlalchemy import bindparam, select, update
from sqlalchemy.exc import IntegrityError

from helpdesk.api.webhooks import emit
from helpdesk.auth.models import StaffUser
from helpdesk.customers.models import Customer, Order
from helpdesk.dbtypes import utcnow
from helpdesk.extensions import db
from helpdesk.mail.compose import queue_reply_email
from helpdesk.sanitize import clean_html
from helpdesk.sla.service import recompute_due_times
from helpdesk.tickets.attachments import IncomingFile, attach_files
from helpdesk.tickets.errors import IllegalTransition, StaleTicket
from helpdesk.tickets.models import (
    TAG_MAX_CHARS,
    Channel,
    Counter,
    Message,
    MessageKind,
    Priority,
    Queue,
    Status,
    Tag,
    Ticket,
)
from helpdesk.tickets.search_index import queue_ticket_index

TICKET_NUMBER_PREFIX = "HD-"
FIRST_TICKET_NUMBER = 1001

# Allowed status changes. A closed ticket is final: a new message opens a follow-up ticket instead.
TRANSITIONS: dict[Status, frozenset[Status]] = {
    Status.NEW: frozenset({Status.OPEN, Status.PENDING, Status.ON_HOLD, Status.SOLVED, Status.CLOSED}),
    Status.OPEN: frozenset({Status.PENDING, Status.ON_HOLD, Status.SOLVED, Status.CLOSED}),
    Status.PENDING: frozenset({Status.OPEN, Status.ON_HOLD, Status.SOLVED, Status.CLOSED}),
    Status.ON_HOLD: frozenset({Status.OPEN, Status.PENDING, Status.SOLVED, Status.CLOSED}),
    Status.SOLVED: frozenset({Status.OPEN, Status.CLOSED}),
    Status.CLOSED: frozenset(),
}

STATUS_LABELS = {
    Status.NEW: _l("New"),
    Status.OPEN: _l("Open"),
    Status.PENDING: _l("Pending"),
    Status.ON_HOLD: _l("On hold"),
    Status.SOLVED: _l("Solved"),
    Status.CLOSED: _l("Closed"),
}
PRIORITY_LABELS = {
    Priority.LOW: _l("Low"),
    Priority.NORMAL: _l("Normal"),
    Priority.HIGH: _l("High"),
    Priority.URGENT: _l("Urgent"),
}
CHANNEL_LABELS = {
    Channel.EMAIL: _l("Email"),
    Channel.PORTAL: _l("Portal"),
    Channel.AGENT: _l("Agent"),
    Channel.API: _l("API"),
}


_COUNTERS = Counter.__table__  # plain SQL: no ORM bookkeeping for a one-column row
BUMP_COUNTER = (
    update(_COUNTERS)
    .where(_COUNTERS.c.name == bindparam("counter_name"))
    .values(value=_COUNTERS.c.value + 1)
    .returning(_COUNTERS.c.value)
)


def bump_counter(name: str, *, start: int = 0) -> int:
    """The next value of a named counter, atomically (one UPDATE … RETURNING; safe under concurrency).
    A missing counter is created at ``start`` (another writer may win that race) and then bumped."""

    def bump() -> int | None:
        # On the connection: the counter depends on nothing pending, so nothing is written early.
        return db.session.connection().scalar(BUMP_COUNTER, {"counter_name": name})

    value = bump()
    if value is None:
        try:
            with db.session.begin_nested():
                db.session.add(Counter(name=name, value=start))
        except IntegrityError:
            pass
        value = bump()
    return value


def next_ticket_number() -> str:
    """Hand out the next ``HD-…`` number."""
    return f"{TICKET_NUMBER_PREFIX}{bump_counter('ticket', start=FIRST_TICKET_NUMBER - 1)}"


def check_version(ticket: Ticket, expected_version: int | None) -> None:
    """Refuse a write based on a stale copy of the ticket, saying what changed since."""
    if expected_version is None or expected_version == ticket.version:
        return
    changes = db.session.execute(
        select(Message.kind, Message.event, Message.body_text)
        .where(Message.ticket_id == ticket.id)
        .order_by(Message.id.desc())
        .limit(max(ticket.version - expected_version, 1))
    ).all()
    described = "; ".join(describe_change(kind, event, text) for kind, event, text in reversed(changes))
    raise StaleTicket(
        str(
            _l(
                "Ticket %(number)s was changed by someone else while you were working on it "
                "(%(changes)s). Reload it and try again.",
                number=ticket.number,
                changes=described or _l("new activity"),
            )
        )
    )


EVENT_LABELS = {
    "status_changed": _l("status"),
    "priority_changed": _l("priority"),
    "assigned": _l("assignee"),
    "queue_changed": _l("queue"),
    "tags_changed": _l("tags"),
    "merged_from": _l("merged from"),
    "merged_into": _l("merged into"),
    "sla_warning": _l("SLA target close"),
    "sla_breached": _l("SLA target missed"),
    "auto_reply": _l("automatic reply received"),
    "bounce": _l("our email bounced"),
    "follow_up": _l("follow-up"),
    "attachment_dropped": _l("attachment not kept"),
}
SLA_METRIC_WORDS = {
    "first_response": _l("first response"),
    "next_response": _l("next response"),
    "resolution": _l("resolution"),
}


def describe_change(kind: MessageKind, event: str | None, text: str) -> str:
    """One change in words for the stale-write message: "status: open → pending", "new reply"."""
    if kind == MessageKind.REPLY:
        return str(_l("a new reply"))
    if kind == MessageKind.NOTE:
        return str(_l("a new internal note"))
    label = EVENT_LABELS.get(event or "")
    if not label:
        return event or str(_l("new activity"))
    return f"{label}: {_translate_values(event, text)}"


def _translate_values(event: str | None, text: str) -> str:
    """Status, priority and SLA target values are stored as codes ("open → solved"); show them in words."""
    if event in ("sla_warning", "sla_breached"):  # "resolution · due 2026-11-26 08:00 UTC"
        metric, sep, rest = text.partition(" · ")
        return f"{SLA_METRIC_WORDS.get(metric, metric)}{sep}{rest}"
    labels = {"status_changed": (STATUS_LABELS, Status), "priority_changed": (PRIORITY_LABELS, Priority)}
    if event not in labels:
        return text
    names, enum = labels[event]

    def word(code: str) -> str:
        try:
            return str(names[enum(code.strip())])
        except (ValueError, KeyError):
            return code.strip()

    return " → ".join(word(part) for part in text.split("→"))


def _touch(ticket: Ticket, when: datetime | None = None) -> None:
    ticket.updated_at = when or utcnow()


def _event(ticket: Ticket, event: str, text: str, actor: StaffUser | Customer | None) -> Message:
    message = Message(
        ticket=ticket,
        kind=MessageKind.EVENT,
        event=event,
        body_text=text,
        channel=Channel.AGENT,
        author_staff=actor if isinstance(actor, StaffUser) else None,
        author_customer=actor if isinstance(actor, Customer) else None,
    )
    db.session.add(message)
    return message


def open_ticket(
    *,
    customer: Customer,
    subject: str,
    body: str,
    channel: Channel = Channel.PORTAL,
    queue: Queue | None = None,
    priority: Priority = Priority.NORMAL,
    order: Order | None = None,
    author: StaffUser | Customer | None = None,
    body_html: str | None = None,
    tags: Iterable[str] = (),
    attachments: Sequence[IncomingFile] = (),
    created_at: datetime | None = None,
    commit: bool = True,
    message_fields: Mapping[str, Any] | None = None,
) -> Ticket:
    """Open a ticket with its first public message (written by the customer unless an agent opens it).

    ``message_fields``: more columns of that message (the email channel's Message-ID and headers)."""
    now = created_at or utcnow()
    ticket = Ticket(
        number=next_ticket_number(),
        subject=subject.strip()[:255] or str(_l("(no subject)")),
        status=Status.NEW,
        priority=priority,
        channel=channel,
        queue=queue,
        customer=customer,
        order=order,
        language=customer.language,
        created_at=now,
        updated_at=now,
    )
    db.session.add(ticket)
    set_tags(ticket, tags)
    author = author or customer
    message = Message(
        ticket=ticket,
        kind=MessageKind.REPLY,
        channel=channel,
        body_text=body,
        body_html=clean_html(body_html) if body_html else None,
        author_staff=author if isinstance(author, StaffUser) else None,
        author_customer=author if isinstance(author, Customer) else None,
        created_at=now,
        **(message_fields or {}),
    )
    db.session.add(message)
    attach_files(message, attachments)
    recompute_due_times(ticket, just_opened=True)
    emit("ticket.created", ticket=ticket, message=message)
    if commit:
        db.session.commit()
    return ticket


def add_message(
    ticket: Ticket,
    *,
    author: StaffUser | Customer,
    body: str,
    kind: MessageKind = MessageKind.REPLY,
    channel: Channel | None = None,
    expected_version: int | None = None,
    body_html: str | None = None,
    attachments: Sequence[IncomingFile] = (),
    created_at: datetime | None = None,
    commit: bool = True,
    notify: bool = True,
    message_fields: Mapping[str, Any] | None = None,
) -> Message:
    """A public reply or an internal note. A staff reply is the first response if none was given yet
    and is emailed to the customer (through the outbox, unless ``notify`` is off: imports, demo data);
    a customer reply brings a pending or solved ticket back to open. ``message_fields``: as for
    ``open_ticket``."""
    check_version(ticket, expected_version)
    if kind == MessageKind.NOTE and not isinstance(author, StaffUser):
        raise IllegalTransition(str(_l("Only staff can write internal notes.")))
    if ticket.status == Status.CLOSED:
        raise IllegalTransition(str(_l("This ticket is closed; open a follow-up ticket instead.")))
    now = created_at or utcnow()
    is_staff = isinstance(author, StaffUser)
    message = Message(
        ticket=ticket,
        kind=kind,
        channel=channel or (Channel.AGENT if is_staff else Channel.PORTAL),
        body_text=body,
        body_html=clean_html(body_html) if body_html else None,
        author_staff=author if is_staff else None,
        author_customer=None if is_staff else author,
        created_at=now,
        **(message_fields or {}),
    )
    db.session.add(message)
    attach_files(message, attachments)
    if kind == MessageKind.REPLY:
        if is_staff:
            if ticket.first_response_at is None:
                ticket.first_response_at = now
            if ticket.status == Status.NEW:
                ticket.status = Status.OPEN
            if notify:
                queue_reply_email(ticket, message)
        elif ticket.status in (Status.PENDING, Status.SOLVED):
            _set_status(ticket, Status.OPEN, actor=author)
    _touch(ticket, now)
    recompute_due_times(ticket)
    emit("message.created", ticket=ticket, message=message)
    queue_ticket_index(ticket)
    if commit:
        db.session.commit()
    return message


def _set_status(
    ticket: Ticket, status: Status, actor: StaffUser | Customer | None, at: datetime | None = None
) -> None:
    if status == ticket.status:
        return
    if status not in TRANSITIONS[ticket.status]:
        raise IllegalTransition(
            str(
                _l(
                    "A ticket cannot go from %(old)s to %(new)s.",
                    old=STATUS_LABELS[ticket.status],
                    new=STATUS_LABELS[status],
                )
            )
        )
    now = at or utcnow()
    old = ticket.status
    ticket.status = status
    if status == Status.SOLVED:
        ticket.solved_at = now
    elif status == Status.CLOSED:
        ticket.closed_at = now
        ticket.solved_at = ticket.solved_at or now
    elif old == Status.SOLVED:
        ticket.solved_at = None
    _event(ticket, "status_changed", f"{old.value} → {status.value}", actor)
    _touch(ticket, now)
    emit("ticket.updated", ticket=ticket, changes={"status": (old, status)})


def change_status(
    ticket: Ticket,
    status: Status,
    *,
    actor: StaffUser | Customer | None,
    expected_version: int | None = None,
    commit: bool = True,
    at: datetime | None = None,
) -> Ticket:
    """Move the ticket to ``status``; ``at`` backdates the change (imports, demo data)."""
    check_version(ticket, expected_version)
    _set_status(ticket, status, actor, at)
    recompute_due_times(ticket)
    if commit:
        db.session.commit()
    return ticket


def change_priority(
    ticket: Ticket,
    priority: Priority,
    *,
    actor: StaffUser | None,
    expected_version: int | None = None,
    commit: bool = True,
) -> Ticket:
    check_version(ticket, expected_version)
    if priority != ticket.priority:
        _event(ticket, "priority_changed", f"{ticket.priority.value} → {priority.value}", actor)
        emit("ticket.updated", ticket=ticket, changes={"priority": (ticket.priority, priority)})
        ticket.priority = priority
        _touch(ticket)
        recompute_due_times(ticket)
    if commit:
        db.session.commit()
    return ticket


def assign(
    ticket: Ticket,
    assignee: StaffUser | None,
    *,
    actor: StaffUser | None,
    expected_version: int | None = None,
    commit: bool = True,
) -> Ticket:
    check_version(ticket, expected_version)
    if assignee is not None and not assignee.is_active:
        raise IllegalTransition(str(_l("%(name)s is not an active agent.", name=assignee.name)))
    if ticket.assignee_id != (assignee.id if assignee else None):
        changes = {"assignee_id": (ticket.assignee_id, assignee.id if assignee else None)}
        ticket.assignee = assignee
        _event(ticket, "assigned", assignee.email if assignee else "-", actor)
        if ticket.status == Status.NEW and assignee is not None:
            ticket.status = Status.OPEN
            changes["status"] = (Status.NEW, Status.OPEN)
        _touch(ticket)
        emit("ticket.updated", ticket=ticket, changes=changes)
    if commit:
        db.session.commit()
    return ticket


def change_tags(
    ticket: Ticket,
    names: Iterable[str],
    *,
    actor: StaffUser | None,
    expected_version: int | None = None,
    commit: bool = True,
) -> Ticket:
    """Replace the tags of an existing ticket, with a system event when they changed."""
    check_version(ticket, expected_version)
    old = [t.name for t in ticket.tags]
    set_tags(ticket, names)
    new = [t.name for t in ticket.tags]
    if new != old:
        _event(ticket, "tags_changed", ", ".join(new) or "-", actor)
        _touch(ticket)
        emit("ticket.updated", ticket=ticket, changes={"tags": (old, new)})
    if commit:
        db.session.commit()
    return ticket


def set_tags(ticket: Ticket, names: Iterable[str]) -> None:
    """Replace the ticket's tags, creating tags that don't exist yet (names are lower-cased)."""
    wanted = sorted({n.strip().lower()[:TAG_MAX_CHARS] for n in names if n and n.strip()})
    if not wanted:
        ticket.tags = []
        return
    existing = {t.name: t for t in db.session.scalars(select(Tag).where(Tag.name.in_(wanted)))}
    for name in wanted:
        if name not in existing:
            existing[name] = Tag(name=name)
            db.session.add(existing[name])
    ticket.tags = [existing[n] for n in wanted]


def close_solved_tickets(*, older_than: timedelta, batch_size: int = 500) -> int:
    """Close tickets solved longer ago than ``older_than`` (a reply after that opens a follow-up)."""
    cutoff = utcnow() - older_than
    closed = 0
    while True:
        batch = db.session.scalars(
            select(Ticket)
            .where(Ticket.status == Status.SOLVED, Ticket.solved_at < cutoff)
            .order_by(Ticket.id)
            .limit(batch_size)
        ).all()
        for ticket in batch:
            # Housekeeping, not news: "last update" (the order of a customer's cases, the queue's
            # sort) stays at the last real activity, or a nightly run pushes every open case down.
            last_activity = ticket.updated_at
            _set_status(ticket, Status.CLOSED, actor=None)
            ticket.updated_at = last_activity
        db.session.commit()
        closed += len(batch)
        if len(batch) < batch_size:
            return closed


def change_queue(
    ticket: Ticket,
    queue: Queue | None,
    *,
    actor: StaffUser | None,
    expected_version: int | None = None,
    commit: bool = True,
) -> Ticket:
    """Move the ticket to another queue; the SLA policy may differ there, so due times are recomputed."""
    check_version(ticket, expected_version)
    if ticket.queue_id != (queue.id if queue else None):
        old = ticket.queue.slug if ticket.queue else "-"
        ticket.queue = queue
        _event(ticket, "queue_changed", f"{old} → {queue.slug if queue else '-'}", actor)
        _touch(ticket)
        recompute_due_times(ticket)
        emit("ticket.updated", ticket=ticket, changes={"queue": (old, queue.slug if queue else None)})
    if commit:
        db.session.commit()
    return ticket


def merge(source: Ticket, target: Ticket, *, actor: StaffUser | None, commit: bool = True) -> Ticket:
    """Merge ``source`` into ``target``: its messages move over, its tags join the target's, and the
    source is closed with a link to the target, so a later email to it can be followed."""
    from helpdesk.audit import service as audit

    if source.id == target.id:
        raise IllegalTransition(str(_l("A ticket cannot be merged into itself.")))
    if source.merged_into_id is not None:
        raise IllegalTransition(str(_l("Ticket %(number)s was already merged.", number=source.number)))
    if target.merged_into_id is not None or target.status == Status.CLOSED:
        raise IllegalTransition(
            str(_l("Ticket %(number)s is closed or merged; choose another target.", number=target.number))
        )
    now = utcnow()
    moved = db.session.execute(
        update(Message)
        .where(Message.ticket_id == source.id)
        .values(ticket_id=target.id)
        .execution_options(synchronize_session=False)
    ).rowcount
    db.session.expire(source, ["messages"])
    db.session.expire(target, ["messages"])
    set_tags(target, [t.name for t in target.tags] + [t.name for t in source.tags])
    if source.order_id and not target.order_id:
        target.order_id = source.order_id
    _event(target, "merged_from", source.number, actor)
    _event(source, "merged_into", target.number, actor)
    source.merged_into = target
    if source.status != Status.CLOSED:
        source.status = Status.CLOSED
        source.closed_at = now
        source.solved_at = source.solved_at or now
    _touch(source, now)
    _touch(target, now)
    recompute_due_times(source)
    recompute_due_times(target)
    audit.record("ticket.merged", actor=actor, target=target.number, source=source.number, messages=moved)
    emit("ticket.updated", ticket=source, changes={"merged_into": (None, target.number)})
    emit("ticket.updated", ticket=target, changes={"merged_from": (None, source.number)})
    queue_ticket_index(source, target)
    if commit:
        db.session.commit()
    return target
