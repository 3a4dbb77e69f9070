import pytest
from sqlalchemy import func, select

from helpdesk.extensions import db
from helpdesk.mail import inbound
from helpdesk.mail.models import OutboundEmail
from helpdesk.tickets.models import Message, Ticket
from tests.factories import make_queue
from tests.mail.mailfactory import make_email


def _acks() -> list[OutboundEmail]:
    return list(db.session.scalars(select(OutboundEmail).where(OutboundEmail.kind == "acknowledgement")))


def test_acknowledgement_is_in_the_customers_language_with_number_and_portal_link(app):
    result = inbound.ingest(make_email(sender="fahad@example.com", subject="طلب", body="أين طلبي؟"))
    [ack] = _acks()
    assert ack.subject == f"[{result.ticket}] استلمنا طلب الدعم: طلب"
    assert result.ticket in ack.text and "شكرًا لتواصلك معنا" in ack.text
    assert f"http://127.0.0.1:5000/portal/cases/{result.ticket}" in ack.text
    assert ack.headers["Auto-Submitted"] == "auto-replied"
    english = inbound.ingest(make_email(sender="john@example.com", body="Where is my order?"))
    ack_en = next(a for a in _acks() if a.to == "john@example.com")
    assert ack_en.subject.startswith(f"[{english.ticket}] We received your request")


@pytest.mark.parametrize(
    ("sender", "headers"),
    [
        ("a@example.com", {"Auto-Submitted": "auto-replied"}),
        ("a@example.com", {"Auto-Submitted": "auto-generated"}),
        ("a@example.com", {"Precedence": "bulk"}),
        ("a@example.com", {"Precedence": "junk"}),
        ("a@example.com", {"Precedence": "list"}),
        ("a@example.com", {"List-Id": "<news.example.com>"}),
        ("a@example.com", {"X-Autoreply": "yes"}),
        ("a@example.com", {"X-Autorespond": "Out of office"}),
        ("MAILER-DAEMON@example.com", {}),
        ("no-reply@shop.example", {}),
        ("noreply@shop.example", {}),
        ("support@helpdesk.localhost", {}),
        ("orders+x@shop.test", {}),
    ],
)
def test_no_acknowledgement_to_robots_lists_and_ourselves(app, sender, headers):
    make_queue("orders", email_address="orders@shop.test")
    result = inbound.ingest(make_email(sender=sender, headers=headers))
    assert result.action == "created"  # the message itself is kept as a ticket
    assert _acks() == []


def test_auto_submitted_no_is_answered(app):
    inbound.ingest(make_email(headers={"Auto-Submitted": "no"}))
    assert len(_acks()) == 1


def test_at_most_n_acknowledgements_per_sender_per_hour(app):
    app.config["MAIL_AUTO_REPLIES_PER_HOUR"] = 3
    for i in range(5):
        inbound.ingest(make_email(sender="loop@example.com", subject=f"Ticket {i}"))
    inbound.ingest(make_email(sender="other@example.com"))
    assert db.session.scalar(select(func.count(Ticket.id))) == 6
    assert sorted(a.to for a in _acks()) == ["loop@example.com"] * 3 + ["other@example.com"]


def test_replies_are_not_acknowledged(app):
    first = inbound.ingest(make_email(message_id="<t1@example.com>"))
    inbound.ingest(make_email(headers={"In-Reply-To": "<t1@example.com>"}))
    assert len(_acks()) == 1 and first.action == "created"


def _bounce(original_id: str, recipient: str = "gone@example.com") -> bytes:
    return (
        "From: Mail Delivery System <MAILER-DAEMON@mx.example.com>\r\n"
        "To: support@helpdesk.localhost\r\n"
        "Subject: Undelivered Mail Returned to Sender\r\n"
        "Message-ID: <bounce-1@mx.example.com>\r\n"
        "Auto-Submitted: auto-replied\r\n"
        "MIME-Version: 1.0\r\n"
        'Content-Type: multipart/report; report-type=delivery-status; boundary="B"\r\n'
        "\r\n--B\r\nContent-Type: text/plain\r\n\r\nYour message could not be delivered.\r\n"
        "--B\r\nContent-Type: message/delivery-status\r\n\r\n"
        "Reporting-MTA: dns; mx.example.com\r\n\r\n"
        f"Final-Recipient: rfc822; {recipient}\r\nAction: failed\r\nStatus: 5.1.1\r\n"
        "Diagnostic-Code: smtp; 550 5.1.1 user unknown\r\n"
        "--B\r\nContent-Type: text/rfc822-headers\r\n\r\n"
        f"From: support@helpdesk.localhost\r\nTo: {recipient}\r\nMessage-ID: {original_id}\r\n"
        "Subject: Re: order\r\n--B--\r\n"
    ).encode()


def test_bounce_is_attached_to_its_ticket_as_a_system_event(app):
    result = inbound.ingest(make_email(sender="gone@example.com"))
    ack = _acks()[0]
    bounce = inbound.ingest(_bounce(ack.message_id))
    assert bounce.action == "appended" and bounce.ticket == result.ticket
    assert db.session.scalar(select(func.count(Ticket.id))) == 1
    event = db.session.scalar(select(Message).where(Message.event == "bounce"))
    assert "gone@example.com" in event.body_text and "5.1.1" in event.body_text
    assert "user unknown" in event.body_text
    assert {a.filename for a in event.attachments} >= {"delivery-status.txt", "original-headers.txt"}
    assert len(_acks()) == 1  # never answered


def test_bounce_for_a_message_we_never_sent_is_kept_as_failed(app):
    result = inbound.ingest(_bounce("<unknown@elsewhere>"))
    assert result.action == "failed" and "bounce" in result.error
    assert db.session.scalar(select(func.count(Ticket.id))) == 0
