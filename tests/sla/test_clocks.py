"""Due times stored on tickets: policies, pauses, replies, priority changes, bulk recomputation."""

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select

from helpdesk.auth.models import Role
from helpdesk.customers.models import Tier
from helpdesk.extensions import db
from helpdesk.sla import service as sla
from helpdesk.sla.business_time import WorkingCalendar
from helpdesk.sla.models import PauseReason, SlaPause, SlaPolicy, TicketSla
from helpdesk.tickets import service as tickets
from helpdesk.tickets.models import Priority, Status, Ticket
from tests.factories import make_customer, make_default_sla, make_queue, make_staff

RIYADH = ZoneInfo("Asia/Riyadh")


def riyadh(*args) -> datetime:
    return datetime(*args, tzinfo=RIYADH).astimezone(UTC)


def open_at(
    when: datetime, priority: Priority = Priority.NORMAL, customer=None, commit: bool = True, **kw
) -> Ticket:
    """Open a ticket at ``when`` and commit it, as the request that opens one does (unless told not to)."""
    ticket = tickets.open_ticket(
        customer=customer or make_customer(),
        subject="Order late",
        body="Where is it?",
        priority=priority,
        created_at=when,
        **kw,
    )
    if commit:
        db.session.commit()
    return ticket


def policy(name: str) -> SlaPolicy:
    return db.session.scalar(select(SlaPolicy).where(SlaPolicy.name == name))


def test_ticket_from_thursday_evening_in_riyadh_is_due_on_sunday_morning(app):
    make_default_sla()
    ticket = open_at(riyadh(2026, 11, 26, 19, 30))  # Thursday 19:30, after hours before the weekend
    # Normal priority: 2 business hours for the first response → Sunday 09:00 + 2 h.
    assert ticket.first_response_due_at == riyadh(2026, 11, 29, 11, 0)
    assert ticket.next_due_at == ticket.first_response_due_at
    # 3 business days (24 h) to resolve: Sunday, Monday, Tuesday 09:00–17:00.
    assert ticket.resolution_due_at == riyadh(2026, 12, 1, 17, 0)
    assert ticket.next_response_due_at is None


def test_default_setup_is_idempotent(app):
    first = make_default_sla()
    second = make_default_sla()
    assert first.id == second.id
    assert db.session.scalar(select(db.func.count(SlaPolicy.id))) == len(sla.DEFAULT_POLICIES)


def test_first_matching_rule_wins(app):
    make_default_sla()
    vip = make_customer(tier=Tier.VIP)
    normal_vip = open_at(riyadh(2026, 11, 22, 9, 0), customer=vip)
    urgent_vip = open_at(riyadh(2026, 11, 22, 9, 0), priority=Priority.URGENT, customer=vip)
    low = open_at(riyadh(2026, 11, 22, 9, 0), priority=Priority.LOW)
    assert normal_vip.first_response_due_at == riyadh(2026, 11, 22, 10, 0)  # VIP rule: 60 min
    assert urgent_vip.first_response_due_at == riyadh(2026, 11, 22, 9, 30)  # Urgent comes first: 30 min
    assert low.first_response_due_at == riyadh(2026, 11, 22, 13, 0)  # Low: 240 min
    assert db.session.get(TicketSla, normal_vip.id).policy_id == policy("VIP customers").id


def test_queue_rule_applies_only_to_its_queue(app):
    calendar = make_default_sla()
    billing = make_queue("billing")
    db.session.add(
        SlaPolicy(
            name="Billing",
            position=0,
            calendar=calendar,
            match_queue_id=billing.id,
            first_response_minutes=15,
        )
    )
    db.session.commit()
    in_billing = open_at(riyadh(2026, 11, 22, 9, 0), queue=billing)
    elsewhere = open_at(riyadh(2026, 11, 22, 9, 0))
    assert in_billing.first_response_due_at == riyadh(2026, 11, 22, 9, 15)
    assert in_billing.resolution_due_at is None  # this rule sets no resolution target
    assert elsewhere.first_response_due_at == riyadh(2026, 11, 22, 11, 0)


def test_without_a_matching_policy_there_are_no_due_times(app):
    ticket = open_at(riyadh(2026, 11, 22, 9, 0))
    assert ticket.next_due_at is None and ticket.first_response_due_at is None


def test_first_staff_reply_stops_the_first_response_clock(app):
    make_default_sla()
    ticket = open_at(riyadh(2026, 11, 22, 9, 0))
    tickets.add_message(ticket, author=make_staff(), body="On it", created_at=riyadh(2026, 11, 22, 10, 30))
    assert ticket.first_response_due_at == riyadh(2026, 11, 22, 11, 0)  # kept: met, for the reports
    assert ticket.next_due_at == ticket.resolution_due_at
    assert db.session.get(TicketSla, ticket.id).first_response_business_minutes == 90


def test_customer_reply_starts_the_next_response_clock(app):
    make_default_sla()
    agent = make_staff()
    ticket = open_at(riyadh(2026, 11, 22, 9, 0))
    tickets.add_message(ticket, author=agent, body="Which order?", created_at=riyadh(2026, 11, 22, 9, 30))
    tickets.add_message(ticket, author=ticket.customer, body="#55", created_at=riyadh(2026, 11, 22, 16, 0))
    tickets.add_message(
        ticket, author=ticket.customer, body="hello?", created_at=riyadh(2026, 11, 22, 16, 30)
    )
    # Normal: 240 business minutes from the first unanswered message: 60 on Sunday, 180 on Monday.
    assert ticket.next_response_due_at == riyadh(2026, 11, 23, 12, 0)
    assert ticket.next_due_at == ticket.next_response_due_at
    tickets.add_message(ticket, author=agent, body="Shipped", created_at=riyadh(2026, 11, 23, 9, 15))
    assert ticket.next_response_due_at is None
    assert ticket.next_due_at == ticket.resolution_due_at


def test_pending_pauses_the_clock_and_resumes_with_the_time_left(app):
    make_default_sla()
    agent = make_staff()
    ticket = open_at(riyadh(2026, 11, 22, 9, 0))  # Sunday; resolution due Tuesday 17:00
    assert ticket.resolution_due_at == riyadh(2026, 11, 24, 17, 0)
    tickets.add_message(ticket, author=agent, body="Photo please", created_at=riyadh(2026, 11, 22, 9, 45))
    tickets.change_status(ticket, Status.PENDING, actor=agent, at=riyadh(2026, 11, 22, 10, 0))
    assert ticket.next_due_at is None and ticket.resolution_due_at is None  # paused: sorts last
    tickets.add_message(ticket, author=ticket.customer, body="Here", created_at=riyadh(2026, 11, 23, 9, 0))
    assert ticket.status == Status.OPEN
    # Paused Sunday 10:00–17:00 (7 business hours): resolution moves from Tuesday 17:00 to Wednesday 16:00.
    assert ticket.resolution_due_at == riyadh(2026, 11, 25, 16, 0)
    [pause] = db.session.scalars(select(SlaPause).where(SlaPause.ticket_id == ticket.id)).all()
    assert (pause.reason, pause.started_at, pause.ended_at) == (
        PauseReason.PENDING,
        riyadh(2026, 11, 22, 10, 0),
        riyadh(2026, 11, 23, 9, 0),
    )


def test_policy_can_keep_the_clock_running_while_pending(app):
    make_default_sla()
    policy("Normal priority").pause_when_pending = False
    db.session.commit()
    agent = make_staff()
    ticket = open_at(riyadh(2026, 11, 22, 9, 0))
    tickets.change_status(ticket, Status.PENDING, actor=agent, at=riyadh(2026, 11, 22, 10, 0))
    assert ticket.resolution_due_at == riyadh(2026, 11, 24, 17, 0)
    tickets.change_status(ticket, Status.ON_HOLD, actor=agent, at=riyadh(2026, 11, 22, 11, 0))
    assert ticket.resolution_due_at is None  # on hold still pauses
    tickets.change_status(ticket, Status.OPEN, actor=agent, at=riyadh(2026, 11, 22, 12, 0))
    assert ticket.resolution_due_at == riyadh(2026, 11, 25, 10, 0)  # one paused hour


def test_solved_time_does_not_count_when_a_ticket_is_reopened(app):
    make_default_sla()
    agent = make_staff()
    ticket = open_at(riyadh(2026, 11, 22, 9, 0))
    tickets.add_message(ticket, author=agent, body="Done", created_at=riyadh(2026, 11, 22, 10, 0))
    tickets.change_status(ticket, Status.SOLVED, actor=agent, at=riyadh(2026, 11, 22, 11, 0))
    assert ticket.next_due_at is None
    assert db.session.get(TicketSla, ticket.id).resolution_business_minutes == 120
    tickets.add_message(
        ticket, author=ticket.customer, body="Not fixed", created_at=riyadh(2026, 11, 23, 11, 0)
    )
    assert ticket.status == Status.OPEN
    # Solved Sunday 11:00 → Monday 11:00 = 8 business hours paused; resolution due Tuesday 17:00 + 8 h.
    assert ticket.resolution_due_at == riyadh(2026, 11, 25, 17, 0)
    assert db.session.get(TicketSla, ticket.id).resolution_business_minutes is None


def test_priority_change_recomputes_the_due_times(app):
    make_default_sla()
    ticket = open_at(riyadh(2026, 11, 22, 9, 0))
    tickets.change_priority(ticket, Priority.URGENT, actor=make_staff(Role.SUPERVISOR))
    assert ticket.first_response_due_at == riyadh(2026, 11, 22, 9, 30)


def test_breach_before_a_pause_is_not_moved_by_it():
    calendar = WorkingCalendar(timezone=UTC, weekly={d: ((0, 1440),) for d in range(7)})
    start = datetime(2026, 1, 1, 9, tzinfo=UTC)
    late_pause = [(start + timedelta(hours=2), start + timedelta(hours=3))]
    assert sla.clock_due(start, timedelta(hours=1), late_pause, calendar) == start + timedelta(hours=1)
    early_pause = [(start + timedelta(minutes=30), start + timedelta(hours=3))]
    assert sla.clock_due(start, timedelta(hours=1), early_pause, calendar) == start + timedelta(
        hours=3, minutes=30
    )
    open_pause = [(start + timedelta(minutes=30), None)]
    assert sla.clock_due(start, timedelta(hours=1), open_pause, calendar) is None
    # A clock stopped inside a pause: the rest of the target lies after the stop.
    stop = start + timedelta(hours=2)
    assert sla.clock_due(start, timedelta(hours=1), open_pause, calendar, stop=stop) == stop + timedelta(
        minutes=30
    )


def test_recompute_all_open_applies_a_changed_policy(app):
    make_default_sla()
    agent = make_staff()
    first = open_at(riyadh(2026, 11, 22, 9, 0))
    second = open_at(riyadh(2026, 11, 22, 9, 0))
    tickets.add_message(second, author=agent, body="Hi", created_at=riyadh(2026, 11, 22, 9, 10))
    tickets.add_message(second, author=second.customer, body="?", created_at=riyadh(2026, 11, 22, 9, 20))
    solved = open_at(riyadh(2026, 11, 22, 9, 0))
    tickets.change_status(solved, Status.SOLVED, actor=agent, at=riyadh(2026, 11, 22, 9, 5))
    normal = policy("Normal priority")
    normal.first_response_minutes, normal.next_response_minutes = 60, 30
    db.session.commit()
    assert sla.recompute_all_open() == 2
    assert first.first_response_due_at == riyadh(2026, 11, 22, 10, 0)
    assert second.next_response_due_at == riyadh(2026, 11, 22, 9, 50)
    assert solved.first_response_due_at is None


def test_recompute_all_open_uses_few_queries(app, queries):
    make_default_sla()
    for _ in range(30):
        open_at(riyadh(2026, 11, 22, 9, 0))
    db.session.expire_all()
    with queries() as statements:
        assert sla.recompute_all_open(batch_size=500) == 30
    # Policies, calendar, tickets with customers, clock rows, pauses, awaiting replies, an empty last
    # batch and the batched writes: a constant number, not one per ticket.
    selects = [s for s in statements if s.lstrip().upper().startswith("SELECT")]
    assert len(selects) <= 10


def test_recompute_with_done_tickets_fills_in_history_for_the_reports(app):
    make_default_sla()
    agent = make_staff()
    solved = open_at(riyadh(2026, 11, 22, 9, 0))  # Sunday, inside business hours
    tickets.change_status(solved, Status.SOLVED, actor=agent, at=riyadh(2026, 11, 22, 11, 0))
    # History brought in without SLA data (imported or generated): no clock row, no due times.
    db.session.execute(TicketSla.__table__.delete())
    solved.resolution_due_at = None
    db.session.commit()

    assert sla.recompute_all_open() == 0
    assert sla.recompute_all_open(include_done=True) == 1
    row = db.session.scalar(select(TicketSla).where(TicketSla.ticket_id == solved.id))
    assert row.resolution_business_minutes == 120
    assert solved.resolution_due_at is not None
    assert solved.next_due_at is None  # no clock runs on a solved ticket
