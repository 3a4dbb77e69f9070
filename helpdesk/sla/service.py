"""SLA clocks: due times stored on the ticket, recomputed on every event that can move them.

Three clocks run per ticket, all in business time of the policy's calendar:
first response (from creation to the first public staff reply), next response (from a customer
message that awaits an answer to the staff reply), and resolution (from creation to solved). Pending
and on-hold spans stop the clocks when the policy says so; solved spans always do, so a reopened
ticket resumes where it stopped. Pauses are stored as spans, so a resumed clock is exact.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import and_, func, inspect, select
from sqlalchemy.orm import joinedload

from helpdesk.batching import write_first_if, write_first_if_changed
from helpdesk.customers.models import Tier
from helpdesk.dbtypes import utcnow
from helpdesk.extensions import db
from helpdesk.sla.business_time import (
    CalendarNeverOpen,
    WorkingCalendar,
    add_business_time,
    business_time_between,
)
from helpdesk.sla.models import (
    BusinessCalendar,
    PauseReason,
    SlaMetric,
    SlaPause,
    SlaPolicy,
    TicketSla,
    WorkingInterval,
)
from helpdesk.sla.policies import PolicyRule, active_rules, policy_for
from helpdesk.tickets.models import Message, MessageKind, Priority, Status, Ticket

PAUSE_REASONS = {
    Status.PENDING: PauseReason.PENDING,
    Status.ON_HOLD: PauseReason.ON_HOLD,
    Status.SOLVED: PauseReason.SOLVED,
    Status.CLOSED: PauseReason.SOLVED,
}
DONE = (Status.SOLVED, Status.CLOSED)
Span = tuple[datetime, datetime | None]


def paused_reasons(policy: PolicyRule) -> set[PauseReason]:
    reasons = {PauseReason.SOLVED}
    if policy.pause_when_pending:
        reasons.add(PauseReason.PENDING)
    if policy.pause_when_on_hold:
        reasons.add(PauseReason.ON_HOLD)
    return reasons


# --- clock arithmetic (no database) -------------------------------------------------------------


def clock_due(
    start: datetime,
    target: timedelta,
    pauses: Sequence[Span],
    calendar: WorkingCalendar,
    stop: datetime | None = None,
) -> datetime | None:
    """When a clock started at ``start`` uses up ``target`` of business time, skipping the pause
    spans (ordered, not overlapping; an open span has no end). None while the clock is paused.

    A pause that begins after the target was already used up does not move the due time.
    """
    remaining = target
    cursor = start
    for pause_start, pause_end in pauses:
        if pause_end is not None and pause_end <= cursor:
            continue
        if stop is not None and pause_start >= stop:
            break
        pause_start = max(pause_start, cursor)
        due = add_business_time(cursor, remaining, calendar)
        if due <= pause_start:
            return due
        remaining -= business_time_between(cursor, pause_start, calendar)
        if pause_end is None or (stop is not None and pause_end >= stop):
            if stop is None:
                return None
            cursor = stop
            break
        cursor = pause_end
    return add_business_time(cursor, remaining, calendar)


def clock_elapsed(
    start: datetime, end: datetime, pauses: Sequence[Span], calendar: WorkingCalendar
) -> timedelta:
    """Business time the clock ran between ``start`` and ``end``, pauses excluded."""
    total = business_time_between(start, end, calendar)
    for pause_start, pause_end in pauses:
        begin, finish = max(pause_start, start), min(pause_end or end, end)
        if finish > begin:
            total -= business_time_between(begin, finish, calendar)
    return total


# --- recomputing a ticket -----------------------------------------------------------------------


@dataclass
class _TicketFacts:
    """What the clocks of one ticket depend on besides the ticket row (loaded singly or in bulk)."""

    sla: TicketSla | None
    pauses: list[SlaPause]
    awaiting_since: datetime | None


def recompute_due_times(ticket: Ticket, *, policies: Sequence[PolicyRule] | None = None) -> None:
    """Bring the ticket's stored due times up to date after an event (open, reply, status, priority,
    queue). Joins the caller's transaction; the time of the event is the ticket's ``updated_at``."""
    rules = active_rules() if policies is None else policies
    _write_what_the_facts_depend_on(ticket)
    if inspect(ticket).pending:  # still unwritten, so nothing about it is stored to read
        _recompute(ticket, _TicketFacts(None, [], None), rules)
        return
    facts = _TicketFacts(
        sla=db.session.get(TicketSla, ticket.id),
        pauses=list(
            db.session.scalars(
                select(SlaPause)
                .where(SlaPause.ticket_id == ticket.id)
                .order_by(SlaPause.started_at, SlaPause.id)
            )
        ),
        awaiting_since=_awaiting_since(ticket),
    )
    _recompute(ticket, facts, rules)


def _write_what_the_facts_depend_on(ticket: Ticket) -> None:
    """The batch protocol (``helpdesk.batching``) for the lookups of ``recompute_due_times``."""
    write_first_if(TicketSla | SlaPause, lambda row: row.ticket is ticket)
    if ticket.first_response_at is not None:  # answered: ``_awaiting_since`` reads its messages
        write_first_if(Message, lambda message: message.ticket is ticket)
    # A status change and the due times it moves are two versions of the ticket, as they always were.
    write_first_if_changed(ticket, "status")


def recompute_all_open(batch_size: int = 500, *, include_done: bool = False) -> int:
    """Recompute every active ticket (after a calendar or policy change). Commits per batch: the one
    SLA operation that owns its transactions, as it may touch every ticket; callers commit their own
    change first and call it after.

    With `include_done`, solved and closed tickets too, so that history imported or generated
    without SLA data (demo data) gets its due times and business-time durations for the reports.
    """
    policies = active_rules()
    scope = [] if include_done else [Ticket.status.not_in(DONE)]
    done = 0
    last_id = 0
    while True:
        tickets = list(
            db.session.scalars(
                select(Ticket)
                .where(*scope, Ticket.id > last_id)
                .options(joinedload(Ticket.customer))
                .order_by(Ticket.id)
                .limit(batch_size)
            )
        )
        if not tickets:
            return done
        ids = [t.id for t in tickets]
        rows = {
            r.ticket_id: r for r in db.session.scalars(select(TicketSla).where(TicketSla.ticket_id.in_(ids)))
        }
        pauses: dict[int, list[SlaPause]] = {i: [] for i in ids}
        for pause in db.session.scalars(
            select(SlaPause).where(SlaPause.ticket_id.in_(ids)).order_by(SlaPause.started_at, SlaPause.id)
        ):
            pauses[pause.ticket_id].append(pause)
        awaiting = _awaiting_since_bulk(ids)
        for ticket in tickets:
            facts = _TicketFacts(rows.get(ticket.id), pauses[ticket.id], awaiting.get(ticket.id))
            _recompute(ticket, facts, policies)
        db.session.commit()
        done += len(tickets)
        last_id = ids[-1]


def _staff_reply_filter():
    return and_(Message.kind == MessageKind.REPLY, Message.author_staff_id.is_not(None))


def _customer_reply_filter():
    return and_(Message.kind == MessageKind.REPLY, Message.author_customer_id.is_not(None))


def _awaiting_since(ticket: Ticket) -> datetime | None:
    """The first customer message after the team's last public reply (only once there was one)."""
    if ticket.first_response_at is None:
        return None
    last_staff_reply = (
        select(func.max(Message.created_at))
        .where(Message.ticket_id == ticket.id, _staff_reply_filter())
        .scalar_subquery()
    )
    return db.session.scalar(
        select(func.min(Message.created_at)).where(
            Message.ticket_id == ticket.id, _customer_reply_filter(), Message.created_at > last_staff_reply
        )
    )


def _awaiting_since_bulk(ticket_ids: Iterable[int]) -> dict[int, datetime]:
    last_staff = (
        select(Message.ticket_id, func.max(Message.created_at).label("replied_at"))
        .where(Message.ticket_id.in_(list(ticket_ids)), _staff_reply_filter())
        .group_by(Message.ticket_id)
        .subquery()
    )
    rows = db.session.execute(
        select(Message.ticket_id, func.min(Message.created_at))
        .join(last_staff, last_staff.c.ticket_id == Message.ticket_id)
        .where(_customer_reply_filter(), Message.created_at > last_staff.c.replied_at)
        .group_by(Message.ticket_id)
    )
    return {ticket_id: first for ticket_id, first in rows}


def _sync_pauses(ticket: Ticket, pauses: list[SlaPause]) -> None:
    """Open or close the pause span so it follows the ticket's status."""
    at = ticket.updated_at or utcnow()
    reason = PAUSE_REASONS.get(ticket.status)
    current = pauses[-1] if pauses and pauses[-1].ended_at is None else None
    if current is not None and current.reason == reason:
        return
    if current is not None:
        current.ended_at = max(at, current.started_at)
    if reason is not None:
        started = (ticket.solved_at or at) if reason == PauseReason.SOLVED else at
        if pauses and pauses[-1].ended_at is not None:
            started = max(started, pauses[-1].ended_at)
        pause = SlaPause(ticket=ticket, reason=reason, started_at=started)
        db.session.add(pause)
        pauses.append(pause)


def _recompute(ticket: Ticket, facts: _TicketFacts, policies: Sequence[PolicyRule]) -> None:
    _sync_pauses(ticket, facts.pauses)
    row = facts.sla
    if row is None:
        row = TicketSla(ticket=ticket)
        db.session.add(row)
    policy = policy_for(ticket, policies)
    row.policy_id = policy.id if policy else None
    row.calendar_id = policy.calendar_id if policy else None
    row.awaiting_since = facts.awaiting_since
    row.updated_at = utcnow()
    clocks = _clocks(ticket, policy, facts) if policy is not None else None
    if clocks is None:
        ticket.first_response_due_at = ticket.next_response_due_at = ticket.resolution_due_at = None
        ticket.next_due_at = None
        row.first_response_warn_at = row.next_response_warn_at = row.resolution_warn_at = None
        row.first_response_business_minutes = row.resolution_business_minutes = None
        return
    ticket.first_response_due_at = clocks.due[SlaMetric.FIRST_RESPONSE]
    ticket.next_response_due_at = clocks.due[SlaMetric.NEXT_RESPONSE]
    ticket.resolution_due_at = clocks.due[SlaMetric.RESOLUTION]
    row.first_response_warn_at = clocks.warn[SlaMetric.FIRST_RESPONSE]
    row.next_response_warn_at = clocks.warn[SlaMetric.NEXT_RESPONSE]
    row.resolution_warn_at = clocks.warn[SlaMetric.RESOLUTION]
    row.first_response_business_minutes = clocks.first_response_minutes
    row.resolution_business_minutes = clocks.resolution_minutes
    running = [
        clocks.due[metric]
        for metric, is_running in (
            (SlaMetric.FIRST_RESPONSE, ticket.first_response_at is None),
            (SlaMetric.NEXT_RESPONSE, True),
            (SlaMetric.RESOLUTION, ticket.status not in DONE),
        )
        if is_running and clocks.due[metric] is not None and ticket.status not in DONE
    ]
    ticket.next_due_at = min(running) if running else None


@dataclass
class _Clocks:
    due: dict[SlaMetric, datetime | None]
    warn: dict[SlaMetric, datetime | None]
    first_response_minutes: float | None
    resolution_minutes: float | None


def _clocks(ticket: Ticket, policy: PolicyRule, facts: _TicketFacts) -> _Clocks | None:
    schedule = policy.schedule
    reasons = paused_reasons(policy)
    spans: list[Span] = [(p.started_at, p.ended_at) for p in facts.pauses if p.reason in reasons]
    solved_at = ticket.solved_at if ticket.status in DONE else None
    plan = {
        SlaMetric.FIRST_RESPONSE: (
            ticket.created_at,
            policy.first_response_minutes,
            ticket.first_response_at,
        ),
        SlaMetric.NEXT_RESPONSE: (facts.awaiting_since, policy.next_response_minutes, None),
        SlaMetric.RESOLUTION: (ticket.created_at, policy.resolution_minutes, solved_at),
    }
    due: dict[SlaMetric, datetime | None] = {}
    warn: dict[SlaMetric, datetime | None] = {}
    share = policy.warn_at_percent / 100
    try:
        for metric, (start, minutes, stop) in plan.items():
            if start is None or not minutes:
                due[metric] = warn[metric] = None
                continue
            target = timedelta(minutes=minutes)
            due[metric] = clock_due(start, target, spans, schedule, stop)
            warn[metric] = None if stop is not None else clock_due(start, target * share, spans, schedule)
        fr_minutes = res_minutes = None
        if ticket.first_response_at is not None:
            fr_minutes = _minutes(clock_elapsed(ticket.created_at, ticket.first_response_at, spans, schedule))
        if solved_at is not None:
            res_minutes = _minutes(clock_elapsed(ticket.created_at, solved_at, spans, schedule))
    except CalendarNeverOpen:
        return None
    return _Clocks(due, warn, fr_minutes, res_minutes)


def _minutes(span: timedelta) -> float:
    return round(max(span, timedelta()) / timedelta(minutes=1), 2)


# --- what agents see ----------------------------------------------------------------------------


@dataclass(frozen=True)
class ClockSummary:
    """The ticket's most urgent running clock, for the queue badge."""

    state: str  # "running", "warning", "overdue", "paused"
    metric: SlaMetric | None
    due_at: datetime | None
    business_minutes: int  # left (running, warning) or past due (overdue)


def summarize(
    ticket: Ticket, row: TicketSla | None, calendar: WorkingCalendar | None, now: datetime
) -> ClockSummary | None:
    """None when no SLA applies or every clock has stopped."""
    if row is None or row.policy_id is None or calendar is None or ticket.status in DONE:
        return None
    if ticket.next_due_at is None:
        if ticket.status in (Status.PENDING, Status.ON_HOLD):
            return ClockSummary("paused", None, None, 0)
        return None
    due = ticket.next_due_at
    metric = _metric_due_at(ticket, due)
    if now >= due:
        past = business_time_between(due, now, calendar) // timedelta(minutes=1)
        return ClockSummary("overdue", metric, due, int(past))
    left = business_time_between(now, due, calendar)
    warn_at = {
        SlaMetric.FIRST_RESPONSE: row.first_response_warn_at,
        SlaMetric.NEXT_RESPONSE: row.next_response_warn_at,
        SlaMetric.RESOLUTION: row.resolution_warn_at,
    }.get(metric)
    state = "warning" if warn_at is not None and now >= warn_at else "running"
    return ClockSummary(state, metric, due, int(-(-left // timedelta(minutes=1))))


def _metric_due_at(ticket: Ticket, due: datetime) -> SlaMetric:
    if ticket.first_response_at is None and ticket.first_response_due_at == due:
        return SlaMetric.FIRST_RESPONSE
    if ticket.next_response_due_at == due:
        return SlaMetric.NEXT_RESPONSE
    return SlaMetric.RESOLUTION


# --- default set-up -----------------------------------------------------------------------------

DEFAULT_CALENDAR_NAME = "Riyadh office (Sunday–Thursday)"
DEFAULT_HOURS = (9 * 60, 17 * 60)
SUNDAY_TO_THURSDAY = (6, 0, 1, 2, 3)  # date.weekday() numbers
# (name, priority, tier, first response, next response, resolution) in business minutes.
DEFAULT_POLICIES: tuple[tuple[str, Priority | None, Tier | None, int, int, int], ...] = (
    ("Urgent", Priority.URGENT, None, 30, 60, 240),
    ("VIP customers", None, Tier.VIP, 60, 120, 960),
    ("High priority", Priority.HIGH, None, 60, 120, 960),
    ("Normal priority", Priority.NORMAL, None, 120, 240, 1440),
    ("Low priority", Priority.LOW, None, 240, 480, 2400),
)


def ensure_default_setup() -> BusinessCalendar:
    """A Riyadh calendar (Sunday–Thursday 09:00–17:00, Saudi public holidays) and one policy per
    priority plus a VIP rule, unless calendars or policies exist already. Safe to call again."""
    calendar = db.session.scalar(select(BusinessCalendar).order_by(BusinessCalendar.id).limit(1))
    if calendar is None:
        calendar = BusinessCalendar(
            name=DEFAULT_CALENDAR_NAME,
            timezone="Asia/Riyadh",
            holiday_country="SA",
            intervals=[
                WorkingInterval(weekday=d, start_minute=DEFAULT_HOURS[0], end_minute=DEFAULT_HOURS[1])
                for d in SUNDAY_TO_THURSDAY
            ],
        )
        db.session.add(calendar)
    if db.session.scalar(select(func.count(SlaPolicy.id))) == 0:
        for position, (name, priority, tier, first, following, resolution) in enumerate(DEFAULT_POLICIES, 1):
            db.session.add(
                SlaPolicy(
                    name=name,
                    position=position,
                    calendar=calendar,
                    match_priority=priority,
                    match_tier=tier,
                    first_response_minutes=first,
                    next_response_minutes=following,
                    resolution_minutes=resolution,
                )
            )
    db.session.flush()
    return calendar
