"""Ticket operations: open, reply, note, status changes, assignment, merge.

Every channel (portal, agent UI, email, API, CLI) goes through these functions, so the rules
(legal status transitions, first-response time, system events) hold everywhere. They change the
session and publish what happened (``helpdesk.events``); they never commit: the view, command or
job that owns the transaction commits once (``helpdesk.transaction.unit_of_work``), so several
operations compose into one all-or-nothing change.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import bindparam, select, update
from sqlalchemy.exc import IntegrityError

from helpdesk import events
from helpdesk.audit import service as audit
from helpdesk.auth.models import StaffUser
from helpdesk.customers.models import Customer, Order
from helpdesk.dbtypes import utcnow
from helpdesk.extensions import db
from helpdesk.sanitize import clean_html
from helpdesk.sla.service import recompute_due_times
from helpdesk.tickets.attachments import IncomingFile, attach_files
from helpdesk.tickets.errors import IllegalTransition, StaleTicket
from helpdesk.tickets.labels import STATUS_LABELS, describe_change
from helpdesk.tickets.models import (
    TAG_MAX_CHARS,
    Channel,
    Message,
    MessageKind,
    NamedCounter,
    Priority,
    Queue,
    Status,
    Tag,
    Ticket,
)

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

_COUNTERS = NamedCounter.__table__  # plain SQL: no ORM bookkeeping for a one-column row
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
                db.session.add(NamedCounter(name=name, value=start))
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
    raise stale_ticket_error(ticket, expected_version)


def stale_ticket_error(ticket: Ticket, expected_version: int) -> StaleTicket:
    """The refusal of a write made from version ``expected_version``, listing what changed since
    (also used when a concurrent write wins at flush time, after the early check passed)."""
    changes = db.session.execute(
        select(Message.kind, Message.event, Message.body_text)
        .where(Message.ticket_id == ticket.id)
        .order_by(Message.id.desc())
        .limit(max(ticket.version - expected_version, 1))
    ).all()
    described = "; ".join(describe_change(kind, event, text) for kind, event, text in reversed(changes))
    return StaleTicket(
        str(
            _l(
                "Ticket %(number)s was changed by someone else while you were working on it "
                "(%(changes)s). Reload it and try again.",
                number=ticket.number,
                changes=described or _l("new activity"),
            )
        )
    )


def _touch(ticket: Ticket, when: datetime | None = None) -> None:
    ticket.updated_at = when or utcnow()


def record_event(
    ticket: Ticket,
    event: str,
    text: str,
    *,
    actor: StaffUser | Customer | None = None,
    channel: Channel = Channel.AGENT,
    at: datetime | None = None,
) -> Message:
    """A system event in the ticket's timeline ("status_changed", "sla_breached", "bounce" …).

    The one way every system event is written, whoever notices it (ticket service, mail, SLA)."""
    message = Message(
        ticket=ticket,
        kind=MessageKind.EVENT,
        event=event,
        body_text=text,
        channel=channel,
        author_staff=actor if isinstance(actor, StaffUser) else None,
        author_customer=actor if isinstance(actor, Customer) else None,
        created_at=at or utcnow(),
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
    message_fields: Mapping[str, Any] | None = None,
) -> Ticket:
    """Open a ticket with its first public message (written by the customer unless an agent opens it).

    ``message_fields``: more columns of that message (the email channel's Message-ID and headers)."""
    now = created_at or utcnow()
    ticket = Ticket(
        number=next_ticket_number(),
        subject=subject.strip()[:255] or _("(no subject)"),
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
    recompute_due_times(ticket)
    events.publish(events.ticket_opened, ticket, message=message)
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
    notify: bool = True,
    message_fields: Mapping[str, Any] | None = None,
) -> Message:
    """A public reply or an internal note. A staff reply is the first response if none was given yet
    and is emailed to the customer (through the outbox, unless ``notify`` is off: imports, demo data);
    a customer reply brings a pending or solved ticket back to open. ``message_fields``: as for
    ``open_ticket``."""
    check_version(ticket, expected_version)
    if kind == MessageKind.NOTE and not isinstance(author, StaffUser):
        raise IllegalTransition(_("Only staff can write internal notes."))
    if ticket.status == Status.CLOSED:
        raise IllegalTransition(_("This ticket is closed; open a follow-up ticket instead."))
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
        elif ticket.status in (Status.PENDING, Status.SOLVED):
            _set_status(ticket, Status.OPEN, actor=author)
    _touch(ticket, now)
    recompute_due_times(ticket)
    events.publish(events.message_added, ticket, message=message, notify=notify)
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
    record_event(ticket, "status_changed", f"{old.value} → {status.value}", actor=actor, at=now)
    _touch(ticket, now)
    events.publish(events.ticket_changed, ticket, changes={"status": (old, status)})


def change_status(
    ticket: Ticket,
    status: Status,
    *,
    actor: StaffUser | Customer | None,
    expected_version: int | None = None,
    at: datetime | None = None,
) -> Ticket:
    """Move the ticket to ``status``; ``at`` backdates the change (imports, demo data)."""
    check_version(ticket, expected_version)
    _set_status(ticket, status, actor, at)
    recompute_due_times(ticket)
    return ticket


def change_priority(
    ticket: Ticket,
    priority: Priority,
    *,
    actor: StaffUser | None,
    expected_version: int | None = None,
) -> Ticket:
    check_version(ticket, expected_version)
    if priority != ticket.priority:
        old = ticket.priority
        record_event(ticket, "priority_changed", f"{old.value} → {priority.value}", actor=actor)
        ticket.priority = priority
        _touch(ticket)
        recompute_due_times(ticket)
        # After the change: receivers (automation triggers) read the ticket as it now is.
        events.publish(events.ticket_changed, ticket, changes={"priority": (old, priority)})
    return ticket


def assign(
    ticket: Ticket,
    assignee: StaffUser | None,
    *,
    actor: StaffUser | None,
    expected_version: int | None = None,
) -> Ticket:
    check_version(ticket, expected_version)
    if assignee is not None and not assignee.is_active:
        raise IllegalTransition(_("%(name)s is not an active agent.", name=assignee.name))
    if ticket.assignee_id != (assignee.id if assignee else None):
        changes = {"assignee_id": (ticket.assignee_id, assignee.id if assignee else None)}
        ticket.assignee = assignee
        record_event(ticket, "assigned", assignee.email if assignee else "-", actor=actor)
        if ticket.status == Status.NEW and assignee is not None:
            ticket.status = Status.OPEN
            changes["status"] = (Status.NEW, Status.OPEN)
        _touch(ticket)
        events.publish(events.ticket_changed, ticket, changes=changes)
    return ticket


def change_tags(
    ticket: Ticket,
    names: Iterable[str],
    *,
    actor: StaffUser | None,
    expected_version: int | None = None,
) -> Ticket:
    """Replace the tags of an existing ticket, with a system event when they changed."""
    check_version(ticket, expected_version)
    old = [t.name for t in ticket.tags]
    set_tags(ticket, names)
    new = [t.name for t in ticket.tags]
    if new != old:
        record_event(ticket, "tags_changed", ", ".join(new) or "-", actor=actor)
        _touch(ticket)
        events.publish(events.ticket_changed, ticket, changes={"tags": (old, new)})
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


def close_solved_tickets(*, older_than: timedelta, limit: int = 500) -> int:
    """Close up to ``limit`` tickets solved longer ago than ``older_than`` (a reply after that opens a
    follow-up); returns how many. The caller commits each batch and calls again while it got ``limit``."""
    cutoff = utcnow() - older_than
    batch = db.session.scalars(
        select(Ticket)
        .where(Ticket.status == Status.SOLVED, Ticket.solved_at < cutoff)
        .order_by(Ticket.id)
        .limit(limit)
    ).all()
    for ticket in batch:
        # Housekeeping, not news: "last update" (the order of a customer's cases, the queue's
        # sort) stays at the last real activity, or a nightly run pushes every open case down.
        last_activity = ticket.updated_at
        _set_status(ticket, Status.CLOSED, actor=None)
        ticket.updated_at = last_activity
    return len(batch)


def change_queue(
    ticket: Ticket,
    queue: Queue | None,
    *,
    actor: StaffUser | None,
    expected_version: int | None = None,
) -> Ticket:
    """Move the ticket to another queue; the SLA policy may differ there, so due times are recomputed."""
    check_version(ticket, expected_version)
    if ticket.queue_id != (queue.id if queue else None):
        old = ticket.queue.slug if ticket.queue else "-"
        ticket.queue = queue
        record_event(ticket, "queue_changed", f"{old} → {queue.slug if queue else '-'}", actor=actor)
        _touch(ticket)
        recompute_due_times(ticket)
        events.publish(events.ticket_changed, ticket, changes={"queue": (old, queue.slug if queue else None)})
    return ticket


def merge(source: Ticket, target: Ticket, *, actor: StaffUser | None) -> Ticket:
    """Merge ``source`` into ``target``: its messages move over, its tags join the target's, and the
    source is closed with a link to the target, so a later email to it can be followed."""
    if source.id == target.id:
        raise IllegalTransition(_("A ticket cannot be merged into itself."))
    if source.merged_into_id is not None:
        raise IllegalTransition(_("Ticket %(number)s was already merged.", number=source.number))
    if target.merged_into_id is not None or target.status == Status.CLOSED:
        raise IllegalTransition(
            _("Ticket %(number)s is closed or merged; choose another target.", number=target.number)
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
    record_event(target, "merged_from", source.number, actor=actor, at=now)
    record_event(source, "merged_into", target.number, actor=actor, at=now)
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
    events.publish(events.ticket_changed, source, changes={"merged_into": (None, target.number)})
    events.publish(events.ticket_changed, target, changes={"merged_from": (None, source.number)})
    events.publish(events.tickets_merged, target, source=source, moved=moved)
    return target


_UNCHANGED: Any = object()


def update_ticket(
    ticket: Ticket,
    *,
    actor: StaffUser | None,
    expected_version: int | None = None,
    status: Status | None = None,
    priority: Priority | None = None,
    queue: Queue | None = _UNCHANGED,
    assignee: StaffUser | None = _UNCHANGED,
    tags: Iterable[str] | None = None,
    add_tags: Iterable[str] = (),
) -> Ticket:
    """Change several fields of a ticket as one change, checked once against ``expected_version``.

    The one use case behind the agent's edit form, bulk actions, macros and the API. Only what is
    given changes (``queue=None`` / ``assignee=None`` clear them); ``add_tags`` keeps the current tags.
    Priority and queue go first, so the status change sees the SLA policy they select."""
    check_version(ticket, expected_version)
    if priority is not None:
        change_priority(ticket, priority, actor=actor)
    if queue is not _UNCHANGED:
        change_queue(ticket, queue, actor=actor)
    if assignee is not _UNCHANGED:
        assign(ticket, assignee, actor=actor)
    if tags is not None or add_tags:
        current = [t.name for t in ticket.tags] if tags is None else list(tags)
        change_tags(ticket, [*current, *add_tags], actor=actor)
    if status is not None:
        change_status(ticket, status, actor=actor)
    return ticket
