"""Agent replies go out through the outbox and the customer's answer comes back to the same ticket."""

from datetime import timedelta
from email.message import EmailMessage
from email.policy import SMTP

from sqlalchemy import select

from helpdesk.auth.models import Role
from helpdesk.dbtypes import utcnow
from helpdesk.extensions import db
from helpdesk.mail import inbound, outbox
from helpdesk.mail.models import OutboundEmail
from helpdesk.tickets.models import Message, MessageKind, Status, Ticket
from tests.factories import make_staff
from tests.mail.mailfactory import make_email
from tests.smtp_sink import SmtpSink, free_port


def _answer(received: EmailMessage, body: str) -> bytes:
    """What the customer's mail client sends when they press Reply."""
    reply = EmailMessage()
    reply["From"] = received["To"]
    reply["To"] = received["Reply-To"]
    reply["Subject"] = "Re: " + received["Subject"]
    reply["Message-ID"] = "<answer-1@example.com>"
    reply["In-Reply-To"] = received["Message-ID"]
    reply["References"] = f"{received['References'] or ''} {received['Message-ID']}".strip()
    reply.set_content(f"{body}\n\nOn Tue, Support wrote:\n> earlier text\n")
    return reply.as_bytes(policy=SMTP)


def _all_due() -> None:
    for email in db.session.scalars(select(OutboundEmail)):
        email.next_attempt_at = utcnow() - timedelta(seconds=1)
    db.session.commit()


def test_agent_reply_reaches_the_customer_threaded_and_the_answer_threads_back(app, client, login, smtp_sink):
    created = inbound.ingest(make_email(message_id="<start@example.com>", subject="Late parcel"))
    agent = make_staff(Role.AGENT)
    login(agent)
    version = db.session.scalar(select(Ticket.version).where(Ticket.number == created.ticket))
    response = client.submit(
        f"/agent/tickets/{created.ticket}/reply",
        {"body": "Your parcel ships today.", "kind": "reply", "version": version},
    )
    assert response.status_code == 303
    assert outbox.send_due_emails()["sent"] == 2  # the acknowledgement and the reply
    received = {m["Subject"]: m for m in smtp_sink.wait_for(2)}
    reply = received[f"Re: Late parcel [{created.ticket}]"]
    assert reply["In-Reply-To"] == "<start@example.com>"
    assert "<start@example.com>" in reply["References"]
    assert reply["Reply-To"].startswith(f"support+{created.ticket}.")
    assert reply["Message-ID"].endswith("@helpdesk.localhost>")
    assert "Your parcel ships today." in reply.get_content()

    answer = inbound.ingest(_answer(reply, "Thank you, received!"))
    assert answer.action == "appended" and answer.ticket == created.ticket
    ticket = db.session.scalar(select(Ticket).where(Ticket.number == created.ticket))
    last = [m for m in ticket.messages if m.kind == MessageKind.REPLY][-1]
    assert last.display_text == "Thank you, received!"
    assert "earlier text" in last.body_text  # the full body is kept
    assert ticket.status == Status.OPEN


def test_replies_wait_while_the_server_is_down_and_go_out_exactly_once(app):
    port = free_port()
    app.extensions["mail"].server, app.extensions["mail"].port = "127.0.0.1", port
    created = inbound.ingest(make_email())
    ticket = db.session.scalar(select(Ticket).where(Ticket.number == created.ticket))
    from helpdesk.tickets import service

    agent = make_staff()
    for n in range(3):
        service.add_message(ticket, author=agent, body=f"update {n}")
    assert outbox.send_due_emails() == {"sent": 0, "failed": 1}  # the pass stops at a dead server
    sink = SmtpSink(port).start()
    try:
        _all_due()
        assert outbox.send_due_emails() == {"sent": 4, "failed": 0}
        _all_due()
        assert outbox.send_due_emails() == {"sent": 0, "failed": 0}
        received = sink.wait_for(4)
        assert len(received) == 4
        ids = [m["Message-ID"] for m in received]
        assert len(set(ids)) == 4
        stored = set(
            db.session.scalars(select(Message.email_message_id).where(Message.author_staff_id == agent.id))
        )
        assert stored <= set(ids)
        # Each reply answers the one before it, so mail clients show one thread.
        replies = [m for m in received if m["Subject"].startswith("Re: ")]
        assert replies[1]["In-Reply-To"] == replies[0]["Message-ID"]
    finally:
        sink.stop()
