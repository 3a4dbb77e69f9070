from sqlalchemy import func, select

from helpdesk.auth.models import Role
from helpdesk.customers.models import CustomerEmail
from helpdesk.extensions import db
from helpdesk.mail import inbound
from helpdesk.mail.addresses import reply_address, ticket_signature
from helpdesk.mail.models import OutboundEmail
from helpdesk.tickets import service
from helpdesk.tickets.models import Message, MessageKind, Status, Ticket
from tests.factories import make_customer, make_staff, make_ticket
from tests.mail.mailfactory import make_email


def _ticket(number: str) -> Ticket:
    return db.session.scalar(select(Ticket).where(Ticket.number == number))


def _tickets() -> int:
    return db.session.scalar(select(func.count(Ticket.id)))


def test_reply_with_in_reply_to_a_stored_message_is_appended(app):
    first = inbound.ingest(make_email(message_id="<q1@example.com>"))
    reply = inbound.ingest(
        make_email(subject="Re: anything", body="more details", headers={"In-Reply-To": "<q1@example.com>"})
    )
    assert reply.action == "appended" and reply.ticket == first.ticket
    assert [m.body_text for m in _ticket(first.ticket).messages if m.kind == MessageKind.REPLY] == [
        "Hello, order 1234 has not arrived yet.",
        "more details",
    ]


def test_reply_to_our_acknowledgement_threads_by_references(app):
    first = inbound.ingest(make_email())
    ack = db.session.scalar(select(OutboundEmail).where(OutboundEmail.kind == "acknowledgement"))
    reply = inbound.ingest(make_email(body="thanks", headers={"References": f"<other@x> {ack.message_id}"}))
    assert reply.action == "appended" and reply.ticket == first.ticket


def test_signed_plus_address_threads_only_with_a_valid_signature(app):
    customer = make_customer("huda@example.com")
    ticket = make_ticket(customer=customer)
    good = inbound.ingest(make_email(sender="huda@example.com", to=reply_address(ticket), subject="hi"))
    assert good.action == "appended" and good.ticket == ticket.number
    forged = f"support+{ticket.number}.aaaaaaaaaa@helpdesk.localhost"
    assert ticket_signature(ticket.number) != "aaaaaaaaaa"
    bad = inbound.ingest(make_email(sender="huda@example.com", to=forged, subject="hi again"))
    assert bad.action == "created" and bad.ticket != ticket.number


def test_subject_token_is_trusted_only_from_a_participant(app):
    customer = make_customer("omar@example.com")
    ticket = make_ticket(customer=customer, subject="Broken kettle")
    own = inbound.ingest(
        make_email(sender="OMAR@example.com", subject=f"Re: Broken kettle [{ticket.number}]")
    )
    assert own.action == "appended" and own.ticket == ticket.number
    stranger = inbound.ingest(make_email(sender="eve@evil.test", subject=f"[{ticket.number}] give me data"))
    assert stranger.action == "created" and stranger.ticket != ticket.number
    assert _ticket(stranger.ticket).subject == "give me data"


def test_agent_on_the_ticket_counts_as_participant(app):
    agent = make_staff(Role.AGENT, email="agent@shop.test")
    ticket = make_ticket()
    result = inbound.ingest(make_email(sender="agent@shop.test", subject=f"note [{ticket.number}]"))
    assert result.ticket == ticket.number
    assert agent.email == "agent@shop.test"


def test_reply_to_a_solved_ticket_reopens_it(app):
    customer = make_customer("lina@example.com")
    ticket = make_ticket(customer=customer, status=Status.SOLVED)
    result = inbound.ingest(
        make_email(sender="lina@example.com", subject=f"Re: [{ticket.number}] still broken")
    )
    assert result.action == "appended"
    db.session.refresh(ticket)
    assert ticket.status == Status.OPEN


def test_reply_to_a_closed_ticket_opens_a_linked_follow_up(app):
    customer = make_customer("lina@example.com")
    ticket = make_ticket(customer=customer, status=Status.CLOSED)
    result = inbound.ingest(make_email(sender="lina@example.com", subject=f"Re: [{ticket.number}] again"))
    assert result.action == "created" and result.ticket != ticket.number
    follow_up = _ticket(result.ticket)
    assert follow_up.follow_up_of_id == ticket.id and follow_up.customer_id == customer.id
    assert any(m.event == "follow_up" for m in follow_up.messages)
    db.session.refresh(ticket)
    assert ticket.status == Status.CLOSED and len(ticket.messages) == 2  # opening message + closing event


def test_customer_matched_case_insensitively_on_any_of_their_addresses(app):
    customer = make_customer("main@example.com")
    customer.emails.append(CustomerEmail(email="old.address@example.com"))
    db.session.commit()
    result = inbound.ingest(make_email(sender="Someone <Old.Address@EXAMPLE.com>"))
    assert _ticket(result.ticket).customer_id == customer.id


def test_new_customer_gets_the_decoded_display_name_and_language(app):
    result = inbound.ingest(
        make_email(sender="=?UTF-8?B?2YbZiNix2Kkg2KfZhNiz2YrYrw==?= <noura@example.com>", body="طلبي لم يصل")
    )
    customer = _ticket(result.ticket).customer
    assert customer.name == "نورة السيد" and customer.language == "ar"
    assert customer.emails[0].email == "noura@example.com"


def test_agent_reply_is_queued_with_threading_headers(app):
    first = inbound.ingest(make_email(message_id="<orig@example.com>"))
    ticket = _ticket(first.ticket)
    agent = make_staff()
    message = service.add_message(ticket, author=agent, body="It ships tomorrow.")
    email = db.session.scalar(select(OutboundEmail).where(OutboundEmail.kind == "reply"))
    assert email.to == "sara@example.com"
    assert email.subject == f"Re: My order has not arrived [{ticket.number}]"
    assert email.message_id == message.email_message_id and email.message_id.endswith("@helpdesk.localhost>")
    assert email.headers["In-Reply-To"] == "<orig@example.com>"
    assert email.headers["References"] == "<orig@example.com>"
    assert email.headers["Reply-To"] == reply_address(ticket)
    assert ticket.number in email.headers["Reply-To"]
    assert "It ships tomorrow." in email.text and f"/portal/cases/{ticket.number}" in email.text


def test_internal_note_is_not_emailed(app):
    ticket = make_ticket()
    service.add_message(ticket, author=make_staff(), body="secret", kind=MessageKind.NOTE)
    assert db.session.scalar(select(func.count(OutboundEmail.id))) == 0


def test_message_ids_are_stored_for_threading(app):
    result = inbound.ingest(
        make_email(headers={"In-Reply-To": "<nothing@x>", "References": "<a@x> <nothing@x>"})
    )
    message = db.session.scalar(select(Message).where(Message.ticket_id == _ticket(result.ticket).id))
    assert message.in_reply_to == "<nothing@x>" and message.references == "<a@x> <nothing@x>"


def test_out_of_office_reply_is_kept_as_an_event_and_does_not_reopen(app):
    customer = make_customer("away@example.com")
    ticket = make_ticket(customer=customer, status=Status.SOLVED)
    result = inbound.ingest(
        make_email(
            sender="away@example.com",
            subject=f"Automatic reply: [{ticket.number}]",
            body="I am on leave until Sunday.",
            headers={"Auto-Submitted": "auto-replied"},
        )
    )
    assert result.action == "appended" and result.ticket == ticket.number
    db.session.refresh(ticket)
    assert ticket.status == Status.SOLVED
    event = ticket.messages[-1]
    assert (event.kind, event.event, event.body_text) == (
        MessageKind.EVENT,
        "auto_reply",
        "I am on leave until Sunday.",
    )
    closed = make_ticket(customer=customer, status=Status.CLOSED)
    again = inbound.ingest(
        make_email(
            sender="away@example.com", subject=f"Re: [{closed.number}]", headers={"X-Autoreply": "yes"}
        )
    )
    assert again.ticket == closed.number and _tickets() == 2  # no follow-up ticket for a robot
