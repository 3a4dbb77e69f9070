import pytest
from sqlalchemy.exc import IntegrityError

from helpdesk.customers.models import CustomerEmail
from helpdesk.extensions import db
from helpdesk.tickets.models import Attachment, Message, MessageKind, Ticket
from tests.factories import make_customer, make_ticket


def test_customer_email_is_unique_across_customers(app):
    make_customer(email="same@example.test")
    other = make_customer()
    db.session.add(CustomerEmail(customer=other, email="same@example.test"))
    with pytest.raises(IntegrityError):
        db.session.commit()


def test_deleting_a_ticket_removes_its_messages_and_attachments(app):
    ticket = make_ticket()
    message = ticket.messages[0]
    db.session.add(Attachment(message=message, filename="a.txt", size=3, sha256="0" * 64))
    db.session.commit()
    db.session.delete(ticket)
    db.session.commit()
    assert db.session.query(Message).count() == 0
    assert db.session.query(Attachment).count() == 0


def test_message_author_helpers(app):
    ticket = make_ticket()
    message = ticket.messages[0]
    assert message.author_email == ticket.customer.email
    assert message.author_name == ticket.customer.name
    assert message.is_public
    assert Message(kind=MessageKind.NOTE).is_public is False


def test_naive_datetimes_are_refused(app):
    from datetime import datetime

    ticket = make_ticket()
    ticket.updated_at = datetime(2026, 1, 1)
    with pytest.raises(Exception, match="naive"):
        db.session.commit()
    db.session.rollback()
    assert db.session.get(Ticket, ticket.id) is not None
