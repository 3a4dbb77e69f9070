from datetime import timedelta

import pytest
from flask_babel import force_locale

from helpdesk.dbtypes import utcnow
from helpdesk.extensions import db
from helpdesk.tickets import service
from helpdesk.tickets.errors import IllegalTransition, StaleTicket
from helpdesk.tickets.models import MessageKind, Status, Ticket
from helpdesk.transaction import unit_of_work
from tests.factories import make_customer, make_staff, make_ticket


def test_ticket_numbers_are_sequential_and_human(app):
    first, second = make_ticket(), make_ticket()
    assert first.number == "HD-1001"
    assert second.number == "HD-1002"


def test_opening_a_ticket_stores_the_customer_message(app):
    customer = make_customer()
    ticket = service.open_ticket(customer=customer, subject="  Late delivery ", body="Order 55 is late")
    assert ticket.status == Status.NEW
    assert ticket.subject == "Late delivery"
    [message] = ticket.messages
    assert message.kind == MessageKind.REPLY
    assert message.author_customer == customer
    assert message.body_text == "Order 55 is late"


def test_first_staff_reply_sets_first_response_and_opens(app):
    ticket = make_ticket()
    agent = make_staff()
    service.add_message(ticket, author=agent, body="We are on it")
    assert ticket.first_response_at is not None
    assert ticket.status == Status.OPEN
    first = ticket.first_response_at
    service.add_message(ticket, author=agent, body="Update")
    assert ticket.first_response_at == first


def test_internal_note_is_not_a_first_response(app):
    ticket = make_ticket()
    service.add_message(ticket, author=make_staff(), body="check the warehouse", kind=MessageKind.NOTE)
    assert ticket.first_response_at is None
    assert ticket.status == Status.NEW


def test_customer_cannot_write_internal_notes(app):
    ticket = make_ticket()
    with pytest.raises(IllegalTransition):
        service.add_message(ticket, author=ticket.customer, body="x", kind=MessageKind.NOTE)


@pytest.mark.parametrize("status", [Status.PENDING, Status.SOLVED])
def test_customer_reply_reopens_pending_or_solved_ticket(app, status):
    ticket = make_ticket(status=status)
    service.add_message(ticket, author=ticket.customer, body="Still broken")
    assert ticket.status == Status.OPEN
    assert ticket.solved_at is None


@pytest.mark.parametrize(("locale", "word"), [("en", "closed"), ("ar", "مغلقة")])
def test_closed_ticket_refuses_replies_in_the_readers_language(app, locale, word):
    ticket = make_ticket(status=Status.CLOSED)
    with force_locale(locale), pytest.raises(IllegalTransition, match=word):
        service.add_message(ticket, author=ticket.customer, body="hello?")


def test_closed_ticket_cannot_be_reopened(app):
    ticket = make_ticket(status=Status.CLOSED)
    with pytest.raises(IllegalTransition):
        service.change_status(ticket, Status.OPEN, actor=None)


def test_solved_ticket_cannot_go_pending(app):
    ticket = make_ticket(status=Status.SOLVED)
    with pytest.raises(IllegalTransition):
        service.change_status(ticket, Status.PENDING, actor=None)


def test_every_allowed_transition_works_and_records_an_event(app):
    agent = make_staff()
    for old, allowed in service.TRANSITIONS.items():
        for new in allowed:
            ticket = make_ticket()
            if old != Status.NEW:
                service.change_status(ticket, old, actor=agent)
            service.change_status(ticket, new, actor=agent)
            assert ticket.status == new
            events = [m for m in ticket.messages if m.kind == MessageKind.EVENT]
            assert events[-1].body_text == f"{old.value} → {new.value}"


def test_solving_and_closing_set_timestamps(app):
    ticket = make_ticket()
    service.change_status(ticket, Status.SOLVED, actor=None)
    assert ticket.solved_at is not None
    service.change_status(ticket, Status.CLOSED, actor=None)
    assert ticket.closed_at is not None


def test_write_with_stale_version_is_refused_with_what_changed(app):
    ticket = make_ticket()
    seen_version = ticket.version
    agent = make_staff()
    service.assign(ticket, agent, actor=None)
    db.session.commit()
    with pytest.raises(StaleTicket) as error:
        service.change_status(ticket, Status.PENDING, actor=None, expected_version=seen_version)
    assert ticket.number in error.value.message
    assert f"المسؤول: {agent.email}" in error.value.message  # "assignee: <who>", in the user's language
    db.session.rollback()
    assert db.session.get(Ticket, ticket.id).status != Status.PENDING


def test_version_increments_on_every_change(app):
    ticket = make_ticket()
    before = ticket.version
    service.change_priority(ticket, service.Priority.HIGH, actor=make_staff())
    assert ticket.version == before + 1


def test_assigning_a_new_ticket_opens_it(app):
    ticket = make_ticket()
    agent = make_staff()
    service.assign(ticket, agent, actor=agent)
    assert ticket.assignee == agent
    assert ticket.status == Status.OPEN


def test_tags_are_normalised_and_shared(app):
    a = make_ticket(tags=["Refund", " refund", "VIP"])
    b = make_ticket(tags=["vip"])
    assert [t.name for t in a.tags] == ["refund", "vip"]
    assert b.tags[0].id == a.tags[1].id


def test_auto_close_closes_only_old_solved_tickets(app):
    old = make_ticket(status=Status.SOLVED)
    old.solved_at = utcnow() - timedelta(days=10)
    recent = make_ticket(status=Status.SOLVED)
    db.session.commit()
    assert service.close_solved_tickets(older_than=timedelta(days=4)) == 1
    assert old.status == Status.CLOSED
    assert recent.status == Status.SOLVED


def test_datetimes_come_back_timezone_aware(app):
    ticket = make_ticket()
    db.session.expire_all()
    fresh = db.session.get(Ticket, ticket.id)
    assert fresh.created_at.tzinfo is not None
    assert fresh.created_at.utcoffset() == timedelta(0)


def test_ticket_numbers_stay_unique_under_concurrent_writers(app):
    import threading

    customer_id = make_customer().id
    numbers: list[str] = []
    errors: list[BaseException] = []

    def open_many() -> None:
        with app.app_context():
            try:
                from helpdesk.customers.models import Customer

                customer = db.session.get(Customer, customer_id)
                for _ in range(10):
                    with unit_of_work():
                        ticket = service.open_ticket(customer=customer, subject="s", body="b")
                    numbers.append(ticket.number)
            except BaseException as exc:  # collected and asserted below
                errors.append(exc)
            finally:
                db.session.remove()

    threads = [threading.Thread(target=open_many) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert len(numbers) == len(set(numbers)) == 30
    assert sorted(numbers) == [f"HD-{n}" for n in range(1001, 1031)]


def test_events_read_in_the_reader_language(app):
    from flask_babel import force_locale

    from helpdesk.tickets.models import MessageKind

    with app.test_request_context(), force_locale("ar"):
        text = service.describe_change(MessageKind.EVENT, "status_changed", "open → solved")
        assert text == "الحالة: مفتوحة → محلولة"
    with app.test_request_context(), force_locale("en"):
        assert service.describe_change(MessageKind.EVENT, "priority_changed", "normal → urgent") == (
            "priority: Normal → Urgent"
        )
        assert (
            service.describe_change(MessageKind.EVENT, "status_changed", "weird → open")
            == "status: weird → Open"
        )
