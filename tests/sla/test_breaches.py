"""The worker's SLA check: warnings, breaches, escalation emails, and that a second run does nothing."""

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from sqlalchemy import func, select

from helpdesk.auth.models import Role
from helpdesk.extensions import db
from helpdesk.mail.models import OutboundEmail
from helpdesk.sla.breaches import check_breaches
from helpdesk.sla.models import BreachKind, SlaBreach, SlaMetric, SlaPolicy
from helpdesk.tickets import service as tickets
from helpdesk.tickets.models import Message, MessageKind, Priority, Ticket
from helpdesk.worker.runner import registered_jobs
from tests.factories import make_customer, make_default_sla, make_queue, make_staff

RIYADH = ZoneInfo("Asia/Riyadh")


def riyadh(*args) -> datetime:
    return datetime(*args, tzinfo=RIYADH).astimezone(UTC)


def open_at(when: datetime, **kw) -> Ticket:
    return tickets.open_ticket(
        customer=make_customer(), subject="Broken kettle", body="It leaks", created_at=when, **kw
    )


def events(ticket: Ticket, name: str) -> list[Message]:
    return list(
        db.session.scalars(
            select(Message).where(
                Message.ticket_id == ticket.id, Message.kind == MessageKind.EVENT, Message.event == name
            )
        )
    )


def emails() -> list[OutboundEmail]:
    return list(db.session.scalars(select(OutboundEmail).order_by(OutboundEmail.id)))


def test_breach_is_recorded_and_escalated_exactly_once(app):
    make_default_sla()
    supervisor = make_staff(Role.SUPERVISOR, language="en", email="lead@staff.test")
    queue = make_queue("kitchen", supervisor_id=supervisor.id)
    ticket = open_at(riyadh(2026, 11, 22, 9, 0), queue=queue)  # first response due 11:00
    assert check_breaches(riyadh(2026, 11, 22, 10, 59)) == {"warnings": 1, "breaches": 0}
    assert check_breaches(riyadh(2026, 11, 22, 11, 0)) == {"warnings": 0, "breaches": 1}
    assert check_breaches(riyadh(2026, 11, 22, 11, 5)) == {"warnings": 0, "breaches": 0}
    [breach] = db.session.scalars(select(SlaBreach).where(SlaBreach.kind == BreachKind.BREACH)).all()
    assert (breach.ticket_id, breach.metric, breach.due_at) == (
        ticket.id,
        SlaMetric.FIRST_RESPONSE,
        riyadh(2026, 11, 22, 11, 0),
    )
    assert breach.notified_to == "lead@staff.test"
    assert len(events(ticket, "sla_breached")) == 1
    assert len(events(ticket, "sla_warning")) == 1
    warning, escalation = emails()
    assert warning.to == escalation.to == "lead@staff.test"  # no assignee: the warning goes to the supervisor
    assert escalation.subject == f"[{ticket.number}] SLA breached: first response"
    assert ticket.subject in escalation.text and f"/agent/tickets/{ticket.number}" in escalation.text
    assert "(due 22 Nov 2026, 11:00 AM)" in escalation.text  # Riyadh time, the one English date style
    assert escalation.kind == "sla_breach"


def test_warning_goes_to_the_assignee_in_their_language(app):
    make_default_sla()
    agent = make_staff(language="ar")
    ticket = open_at(riyadh(2026, 11, 22, 9, 0))
    tickets.assign(ticket, agent, actor=agent)
    # 75 % of the 120-minute first-response target is used at 10:30.
    assert check_breaches(riyadh(2026, 11, 22, 10, 29)) == {"warnings": 0, "breaches": 0}
    assert check_breaches(riyadh(2026, 11, 22, 10, 30)) == {"warnings": 1, "breaches": 0}
    [email] = emails()
    assert email.to == agent.email
    assert "تنبيه" in email.subject and ticket.number in email.subject


def test_breach_without_a_supervisor_is_recorded_without_email(app):
    make_default_sla()
    ticket = open_at(riyadh(2026, 11, 22, 9, 0))
    assert check_breaches(riyadh(2026, 11, 23, 9, 0))["breaches"] == 1
    assert emails() == []
    assert len(events(ticket, "sla_breached")) == 1


def test_answered_paused_or_solved_tickets_do_not_breach(app):
    make_default_sla()
    agent = make_staff()
    answered = open_at(riyadh(2026, 11, 22, 9, 0))
    tickets.add_message(answered, author=agent, body="Hello", created_at=riyadh(2026, 11, 22, 9, 5))
    pending = open_at(riyadh(2026, 11, 22, 9, 0))
    from helpdesk.tickets.models import Status

    tickets.change_status(pending, Status.PENDING, actor=agent, at=riyadh(2026, 11, 22, 9, 10))
    solved = open_at(riyadh(2026, 11, 22, 9, 0))
    tickets.change_status(solved, Status.SOLVED, actor=agent, at=riyadh(2026, 11, 22, 9, 10))
    assert check_breaches(riyadh(2026, 11, 22, 12, 0)) == {"warnings": 0, "breaches": 0}


def test_each_unanswered_customer_message_gets_its_own_next_response_breach(app):
    make_default_sla()
    agent = make_staff()
    ticket = open_at(riyadh(2026, 11, 22, 9, 0))
    tickets.add_message(ticket, author=agent, body="Hi", created_at=riyadh(2026, 11, 22, 9, 5))
    tickets.add_message(ticket, author=ticket.customer, body="?", created_at=riyadh(2026, 11, 22, 9, 10))
    assert check_breaches(riyadh(2026, 11, 22, 13, 10))["breaches"] == 1  # 240 minutes later
    tickets.add_message(ticket, author=agent, body="Sorry", created_at=riyadh(2026, 11, 22, 13, 30))
    tickets.add_message(ticket, author=ticket.customer, body="??", created_at=riyadh(2026, 11, 22, 13, 40))
    assert check_breaches(riyadh(2026, 11, 23, 13, 40))["breaches"] == 1
    assert check_breaches(riyadh(2026, 11, 23, 14, 0))["breaches"] == 0
    metrics = db.session.scalars(select(SlaBreach.metric).where(SlaBreach.kind == BreachKind.BREACH)).all()
    assert sorted(metrics) == [SlaMetric.NEXT_RESPONSE, SlaMetric.NEXT_RESPONSE]


def test_breach_can_raise_priority_and_reassign(app):
    make_default_sla()
    lead = make_staff(Role.SUPERVISOR, name="Lead")
    normal = db.session.scalar(select(SlaPolicy).where(SlaPolicy.name == "Normal priority"))
    normal.breach_raises_priority = True
    normal.breach_reassign_to_id = lead.id
    db.session.commit()
    ticket = open_at(riyadh(2026, 11, 22, 9, 0))
    assert check_breaches(riyadh(2026, 11, 22, 11, 0))["breaches"] == 1
    db.session.refresh(ticket)
    assert ticket.priority == Priority.HIGH
    assert ticket.assignee_id == lead.id
    assert ticket.first_response_due_at == riyadh(2026, 11, 22, 10, 0)  # recomputed under "High priority"
    assert [e.event for e in events(ticket, "priority_changed")] == ["priority_changed"]
    # The new, earlier due time is the same clock: no second breach, no second escalation.
    assert check_breaches(riyadh(2026, 11, 22, 12, 0)) == {"warnings": 0, "breaches": 0}
    assert db.session.scalar(select(func.count(SlaBreach.id))) == 1


def test_the_worker_runs_the_sla_check(app):
    assert "sla.check_breaches" in {job.name for job in registered_jobs()}


def test_a_second_worker_that_saw_the_same_breach_does_nothing(app):
    """Two workers can both select a clock before either commits; the unique key lets one win."""
    from helpdesk.sla.breaches import _record

    make_default_sla()
    supervisor = make_staff(Role.SUPERVISOR)
    ticket = open_at(riyadh(2026, 11, 22, 9, 0), queue=make_queue("q", supervisor_id=supervisor.id))
    due, now = riyadh(2026, 11, 22, 11, 0), riyadh(2026, 11, 22, 11, 1)
    assert _record(ticket.id, SlaMetric.FIRST_RESPONSE, BreachKind.BREACH, due, ticket.created_at, now)
    db.session.commit()
    assert not _record(ticket.id, SlaMetric.FIRST_RESPONSE, BreachKind.BREACH, due, ticket.created_at, now)
    db.session.commit()
    assert len(events(ticket, "sla_breached")) == 1
    assert len(emails()) == 1
