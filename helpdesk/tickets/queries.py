"""Ticket queries that several views need, with their eager loading chosen once."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta

from cachetools import TTLCache
from flask import current_app, has_app_context
from sqlalchemy import (
    ColumnElement,
    Select,
    and_,
    case,
    event,
    exists,
    func,
    nulls_last,
    or_,
    select,
    tuple_,
    union_all,
)
from sqlalchemy.orm import Session, joinedload, selectinload

from helpdesk import shared_cache
from helpdesk.customers.models import Customer, CustomerEmail
from helpdesk.dbtypes import utcnow
from helpdesk.extensions import db
from helpdesk.sla.queries import breaching_soon, overdue
from helpdesk.tickets.models import Channel, Message, MessageKind, Priority, Status, Tag, Ticket, ticket_tags

ACTIVE_STATUSES = [s for s in Status if s.is_active]


def ticket_by_number(number: str) -> Ticket | None:
    return db.session.scalar(
        select(Ticket)
        .where(Ticket.number == number.upper())
        .options(
            joinedload(Ticket.customer).selectinload(Customer.emails),
            joinedload(Ticket.queue),
            joinedload(Ticket.assignee),
            joinedload(Ticket.order),
            selectinload(Ticket.tags),
        )
    )


def thread(ticket: Ticket, *, public_only: bool) -> list[Message]:
    """The conversation, oldest first; customers get public replies only (never notes or events)."""
    query = (
        select(Message)
        .where(Message.ticket_id == ticket.id)
        .options(
            joinedload(Message.author_staff),
            joinedload(Message.author_customer).selectinload(Customer.emails),
            selectinload(Message.attachments),
        )
        .order_by(Message.created_at, Message.id)
    )
    if public_only:
        query = query.where(Message.kind == MessageKind.REPLY)
    return list(db.session.scalars(query))


def customer_tickets(customer_id: int) -> Select:
    return (
        select(Ticket)
        .where(Ticket.customer_id == customer_id, Ticket.merged_into_id.is_(None))
        .order_by(Ticket.updated_at.desc(), Ticket.id.desc())
    )


# --- the agent queue: views, filters, sorts, keyset pages ------------------------------------

FIXED_VIEWS = ("unassigned", "mine", "open", "pending", "on_hold", "breaching", "overdue", "solved")
QUEUE_VIEW_PREFIX = "queue-"
RECENTLY_SOLVED = timedelta(days=7)
SORTS = ("due", "updated", "created", "priority")
PRIORITY_RANK = case(
    {p.value: p.rank for p in Priority}, value=Ticket.priority, else_=0
)  # urgent first when sorting by priority


class BadCursor(ValueError):
    """The ``after`` parameter of a queue page is not one we handed out."""


@dataclass
class QueueFilters:
    """What the filter bar narrows a view to; empty fields don't filter."""

    status: Status | None = None
    priority: Priority | None = None
    queue_id: int | None = None
    assignee: str = ""  # a staff id, or "none" for unassigned
    tag: str = ""
    channel: Channel | None = None
    customer: str = ""  # part of a name or email address
    created_from: date | None = None
    created_to: date | None = None
    # More conditions from features built on tickets (custom fields), already built by them.
    extra: list[ColumnElement[bool]] = field(default_factory=list)

    def conditions(self) -> list[ColumnElement[bool]]:
        found: list[ColumnElement[bool]] = []
        if self.status is not None:
            found.append(Ticket.status == self.status)
        if self.priority is not None:
            found.append(Ticket.priority == self.priority)
        if self.queue_id is not None:
            found.append(Ticket.queue_id == self.queue_id)
        if self.assignee == "none":
            found.append(Ticket.assignee_id.is_(None))
        elif self.assignee.isdigit():
            found.append(Ticket.assignee_id == int(self.assignee))
        if self.tag:
            found.append(
                exists().where(
                    ticket_tags.c.ticket_id == Ticket.id,
                    ticket_tags.c.tag_id == Tag.id,
                    Tag.name == self.tag.strip().lower(),
                )
            )
        if self.channel is not None:
            found.append(Ticket.channel == self.channel)
        if self.customer.strip():
            pattern = f"%{_escape_like(self.customer.strip().lower())}%"
            found.append(
                exists().where(
                    Customer.id == Ticket.customer_id,
                    or_(
                        func.lower(Customer.name).like(pattern, escape="\\"),
                        exists().where(
                            CustomerEmail.customer_id == Customer.id,
                            CustomerEmail.email.like(pattern, escape="\\"),
                        ),
                    ),
                )
            )
        if self.created_from is not None:
            found.append(Ticket.created_at >= datetime.combine(self.created_from, time.min, UTC))
        if self.created_to is not None:
            found.append(
                Ticket.created_at < datetime.combine(self.created_to + timedelta(days=1), time.min, UTC)
            )
        found.extend(self.extra)
        return found


def _escape_like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def view_condition(view: str, user_id: int, now: datetime) -> ColumnElement[bool]:
    """The SQL condition of a named view (``queue-<id>`` for one queue's open tickets)."""
    active = Ticket.status.in_(ACTIVE_STATUSES)
    if view == "unassigned":
        return and_(active, Ticket.assignee_id.is_(None))
    if view == "mine":
        return and_(active, Ticket.assignee_id == user_id)
    if view == "pending":
        return Ticket.status == Status.PENDING
    if view == "on_hold":
        return Ticket.status == Status.ON_HOLD
    if view == "breaching":
        return breaching_soon(now)
    if view == "overdue":
        return overdue(now)
    if view == "solved":
        return and_(
            Ticket.status.in_([Status.SOLVED, Status.CLOSED]), Ticket.solved_at >= now - RECENTLY_SOLVED
        )
    if view.startswith(QUEUE_VIEW_PREFIX) and view[len(QUEUE_VIEW_PREFIX) :].isdigit():
        return and_(active, Ticket.queue_id == int(view[len(QUEUE_VIEW_PREFIX) :]))
    return active


# The view counts walk every open ticket (about 10,000 at 100,000 tickets), so each process keeps
# them for VIEW_COUNTS_MAX_AGE seconds per agent. A ticket change committed in this process clears
# them; with Redis (HELPDESK_REDIS_URL) so does one committed in any other process on any host (the
# shared generation number is part of the key); without it a count may be that old, as in mature
# helpdesks.
_COUNTS = "helpdesk.view_counts"
_TICKETS_GENERATION = "tickets_generation"
_counts_lock = threading.Lock()


@event.listens_for(Session, "after_flush")
def _note_ticket_changes(session: Session, _flush_context) -> None:
    if any(isinstance(obj, Ticket) for obj in (*session.new, *session.dirty, *session.deleted)):
        session.info["tickets_changed"] = True


@event.listens_for(Session, "do_orm_execute")
def _note_ticket_statements(state) -> None:
    if (state.is_update or state.is_delete or state.is_insert) and any(
        m.class_ is Ticket for m in state.all_mappers
    ):
        state.session.info["tickets_changed"] = True


@event.listens_for(Session, "after_commit")
def _forget_counts(session: Session) -> None:
    if session.info.pop("tickets_changed", False) and has_app_context():
        with _counts_lock:
            current_app.extensions.pop(_COUNTS, None)
        shared_cache.advance(_TICKETS_GENERATION)


def view_counts(user_id: int, now: datetime) -> dict[str, int]:
    """Every view's ticket count, at most VIEW_COUNTS_MAX_AGE seconds old (0: always fresh)."""
    max_age = current_app.config.get("VIEW_COUNTS_MAX_AGE", 0)
    if max_age <= 0:
        return _count_views(user_id, now)
    generation = shared_cache.generation(_TICKETS_GENERATION)
    if generation == shared_cache.UNAVAILABLE:
        return _count_views(user_id, now)
    key = (user_id, generation)
    with _counts_lock:
        cache = current_app.extensions.setdefault(_COUNTS, TTLCache(maxsize=1024, ttl=max_age))
        counts = cache.get(key)
    if counts is None:
        counts = _count_views(user_id, now)
        with _counts_lock:
            cache[key] = counts
    return dict(counts)


def _count_views(user_id: int, now: datetime) -> dict[str, int]:
    """Every view's ticket count in two queries (fixed views, then one per queue), whatever the rows.
    Each fixed view is its own scalar subquery, so each walks its own index instead of one pass
    over every ticket."""
    live = Ticket.merged_into_id.is_(None)
    row = db.session.execute(
        select(
            *(
                select(func.count(Ticket.id))
                .where(view_condition(v, user_id, now), live)
                .scalar_subquery()
                .label(v)
                for v in FIXED_VIEWS
            )
        )
    ).one()
    counts = dict(zip(FIXED_VIEWS, (int(n) for n in row), strict=True))
    per_queue = db.session.execute(
        select(Ticket.queue_id, func.count(Ticket.id))
        .where(live, Ticket.status.in_(ACTIVE_STATUSES), Ticket.queue_id.is_not(None))
        .group_by(Ticket.queue_id)
    )
    for queue_id, n in per_queue:
        counts[f"{QUEUE_VIEW_PREFIX}{queue_id}"] = n
    return counts


def _sort_key(sort: str) -> tuple[ColumnElement, bool]:
    """The first sort column and whether it runs descending; the ticket id breaks ties."""
    if sort == "updated":
        return Ticket.updated_at, True
    if sort == "created":
        return Ticket.created_at, True
    if sort == "priority":
        return PRIORITY_RANK, True
    return Ticket.next_due_at, False


def _cursor_value(ticket: Ticket, sort: str) -> str:
    if sort == "priority":
        return str(ticket.priority.rank)
    value = {"updated": ticket.updated_at, "created": ticket.created_at}.get(sort, ticket.next_due_at)
    return value.isoformat() if value is not None else "none"


def _parse_cursor(after: str, sort: str) -> tuple[object, int]:
    raw, sep, ticket_id = after.rpartition("_")
    if not sep or not ticket_id.isdigit():
        raise BadCursor(after)
    if sort == "due" and raw == "none":
        return None, int(ticket_id)
    try:
        value: object = int(raw) if sort == "priority" else datetime.fromisoformat(raw)
    except ValueError as exc:
        raise BadCursor(after) from exc
    if isinstance(value, datetime) and value.tzinfo is None:
        raise BadCursor(after)
    return value, int(ticket_id)


def _after(sort: str, after: str) -> ColumnElement[bool]:
    """Keyset condition: rows strictly after the cursor in the sort order (stable at any depth)."""
    column, descending = _sort_key(sort)
    value, last_id = _parse_cursor(after, sort)
    if sort == "due":  # ascending, tickets without a due time last
        if value is None:
            return and_(Ticket.next_due_at.is_(None), Ticket.id > last_id)
        return or_(
            Ticket.next_due_at > value,
            and_(Ticket.next_due_at == value, Ticket.id > last_id),
            Ticket.next_due_at.is_(None),
        )
    if descending:
        return or_(column < value, and_(column == value, Ticket.id < last_id))
    return or_(column > value, and_(column == value, Ticket.id > last_id))


def _statuses_to_walk(view: str, filters: QueueFilters) -> list[Status]:
    """The statuses whose due-time index a view of open work walks (narrowed by the status filter).
    Empty, for a plain query and sort, when the view is narrow — one agent's or one customer's
    tickets are few, and their own indexes find them faster — and for "recently solved", which its
    solved_at range serves better."""
    if view in ("mine", "solved") or filters.assignee.isdigit() or filters.customer.strip():
        return []
    statuses = {"pending": [Status.PENDING], "on_hold": [Status.ON_HOLD]}.get(view, ACTIVE_STATUSES)
    if filters.status is not None:
        return [filters.status] if filters.status in statuses else []
    return statuses


def _due_order_candidates(wanted: ColumnElement[bool], statuses: list[Status], after: str, n: int):
    """The ids of the first ``n`` wanted tickets in due order (after the cursor) of each status, as
    one UNION ALL: each part walks ix_tickets_status_due in order and stops after ``n`` rows, instead
    of sorting every open ticket. Tickets without a due time come last, in id order."""
    value, last_id = _parse_cursor(after, "due") if after else (None, None)
    parts = []
    for status in statuses:
        mine = and_(wanted, Ticket.status == status)
        if not after or value is not None:
            dated = mine & Ticket.next_due_at.is_not(None)
            if after:
                dated &= tuple_(Ticket.next_due_at, Ticket.id) > tuple_(value, last_id)
            parts.append(select(Ticket.id).where(dated).order_by(Ticket.next_due_at, Ticket.id).limit(n))
        undated = mine & Ticket.next_due_at.is_(None)
        if after and value is None:
            undated &= Ticket.id > last_id
        parts.append(select(Ticket.id).where(undated).order_by(Ticket.id).limit(n))
    # SQLite allows no LIMIT inside a compound SELECT's parts, so each part is a subquery.
    return union_all(*(select(part.subquery().c.id) for part in parts))


@dataclass
class QueuePage:
    tickets: list[Ticket]
    next_cursor: str | None


def queue_page(
    view: str,
    *,
    user_id: int,
    filters: QueueFilters,
    sort: str = "due",
    after: str = "",
    page_size: int = 50,
    now: datetime | None = None,
) -> QueuePage:
    """One page of a view: filtered, sorted, with the rows the table shows loaded in the same query."""
    now = now or utcnow()
    column, descending = _sort_key(sort)
    if sort == "due":
        order = [nulls_last(Ticket.next_due_at.asc()), Ticket.id.asc()]
    elif descending:
        order = [column.desc(), Ticket.id.desc()]
    else:
        order = [column.asc(), Ticket.id.asc()]
    wanted = and_(view_condition(view, user_id, now), Ticket.merged_into_id.is_(None), *filters.conditions())
    statuses = _statuses_to_walk(view, filters)
    if sort == "due" and len(statuses) > 1:  # one status alone sorts as fast
        wanted = Ticket.id.in_(_due_order_candidates(wanted, statuses, after, page_size + 1))
    elif after:
        wanted = and_(wanted, _after(sort, after))
    query = (
        select(Ticket)
        .where(wanted)
        .options(
            joinedload(Ticket.customer),
            joinedload(Ticket.assignee),
            joinedload(Ticket.queue),
            selectinload(Ticket.tags),
        )
        .order_by(*order)
    )
    tickets = list(db.session.scalars(query.limit(page_size + 1)).unique())
    next_cursor = None
    if len(tickets) > page_size:
        tickets = tickets[:page_size]
        last = tickets[-1]
        next_cursor = f"{_cursor_value(last, sort)}_{last.id}"
    return QueuePage(tickets, next_cursor)


# --- the API lists the same views, newest activity first, paged on (updated_at, id) ------------

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
QUEUE_VIEWS = FIXED_VIEWS


def queue_query(view: str, user_id: int | None, now: datetime) -> Select:
    """Tickets of a queue view, most recently updated first, with what a list row shows loaded."""
    return (
        select(Ticket)
        .where(view_condition(view, user_id or 0, now), Ticket.merged_into_id.is_(None))
        .options(joinedload(Ticket.customer), joinedload(Ticket.assignee), joinedload(Ticket.queue))
        .order_by(Ticket.updated_at.desc(), Ticket.id.desc())
    )


def after_cursor(query: Select, cursor: str) -> Select:
    """Keyset pagination on (updated_at, id): stable and index-friendly at any depth.
    Raises ValueError for a cursor that ``cursor_of`` did not make."""
    micros, _sep, ticket_id = cursor.partition("_")
    if not all(part.isascii() and part.isdigit() and len(part) <= 18 for part in (micros, ticket_id)):
        raise ValueError("not a page cursor")
    when = EPOCH + timedelta(microseconds=int(micros))
    last_id = int(ticket_id)
    return query.where(or_(Ticket.updated_at < when, and_(Ticket.updated_at == when, Ticket.id < last_id)))


def cursor_of(ticket: Ticket) -> str:
    """``<microseconds since 1970>_<id>``: exact, and safe in a URL as it is."""
    return f"{(ticket.updated_at - EPOCH) // timedelta(microseconds=1)}_{ticket.id}"
