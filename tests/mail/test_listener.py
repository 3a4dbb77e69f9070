"""The inbound SMTP/LMTP listener, tested by sending with smtplib; and the whole email round trip."""

import smtplib
import subprocess
import sys
import time
from email.message import EmailMessage
from email.policy import SMTP

import pytest
from imapclient import IMAPClient
from sqlalchemy import func, select

from helpdesk.auth.models import Role
from helpdesk.extensions import db
from helpdesk.mail import imap, outbox
from helpdesk.mail.listener import start_listener
from helpdesk.mail.models import Mailbox
from helpdesk.tickets.models import Ticket
from tests.factories import make_queue, make_staff
from tests.mail.mailfactory import make_email
from tests.smtp_sink import free_port


@pytest.fixture
def listener(app):
    port = free_port()
    controller = start_listener(app, "127.0.0.1", port)
    yield port
    controller.stop()


def _send(port: int, raw: bytes, to: str = "orders@shop.test", lmtp: bool = False) -> None:
    client = smtplib.LMTP("127.0.0.1", port) if lmtp else smtplib.SMTP("127.0.0.1", port, timeout=10)
    with client:
        client.sendmail("sender@example.com", [to], raw)


def test_mail_sent_to_the_listener_becomes_a_ticket_in_the_recipients_queue(app, listener):
    queue = make_queue("orders", email_address="orders@shop.test")
    _send(listener, make_email(subject="Over SMTP", to="orders@shop.test"))
    _send(listener, make_email(subject="Over SMTP", to="orders@shop.test", message_id="<dup@x>"))
    _send(listener, make_email(subject="Over SMTP", to="orders@shop.test", message_id="<dup@x>"))
    db.session.commit()
    tickets = db.session.scalars(select(Ticket)).all()
    assert len(tickets) == 2 and {t.queue_id for t in tickets} == {queue.id}


def test_lmtp_listener(app):
    port = free_port()
    controller = start_listener(app, "127.0.0.1", port, lmtp=True)
    try:
        _send(port, make_email(subject="Over LMTP"), lmtp=True)
    finally:
        controller.stop()
    db.session.commit()
    assert db.session.scalar(select(Ticket.subject)) == "Over LMTP"


def test_listen_command_serves_until_stopped(app, app_config, tmp_path):
    port = free_port()
    env = {
        "HELPDESK_INSTANCE_PATH": app_config["INSTANCE_PATH"],
        "HELPDESK_DATABASE_URL": app_config["SQLALCHEMY_DATABASE_URI"],
        "HELPDESK_SECRET_KEY": "test-secret-key",
        "PATH": "/usr/bin:/bin",
    }
    process = subprocess.Popen(
        [sys.executable, "-m", "helpdesk.cli", "mail", "listen", "--port", str(port)],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                _send(port, make_email(subject="Through the command"))
                break
            except OSError:
                if time.monotonic() > deadline or process.poll() is not None:
                    raise
                time.sleep(0.2)
    finally:
        process.terminate()
        process.wait(timeout=20)
    db.session.commit()
    assert db.session.scalar(select(Ticket.subject)) == "Through the command"


def test_round_trip_smtp_and_imap_tickets_answered_and_replies_threaded(
    app, client, login, listener, dovecot, smtp_sink, monkeypatch
):
    """Done-when of the email channel: one mail through the listener, one in the IMAP mailbox; an
    agent answers both in the web UI; the answers reach the customer threaded."""
    queue = make_queue("orders", email_address="orders@shop.test")
    monkeypatch.setenv("HD_TEST_IMAP_PASSWORD", dovecot.password)
    db.session.add(
        Mailbox(
            queue=queue,
            host="127.0.0.1",
            port=dovecot.port,
            use_tls=False,
            username=dovecot.user,
            password_env="HD_TEST_IMAP_PASSWORD",
        )
    )
    db.session.commit()
    _send(listener, make_email(subject="Via SMTP", message_id="<smtp-1@example.com>", to="orders@shop.test"))
    with IMAPClient("127.0.0.1", port=dovecot.port, ssl=False) as imap_client:
        imap_client.login(dovecot.user, dovecot.password)
        imap_client.append("INBOX", make_email(subject="Via IMAP", message_id="<imap-1@example.com>"))
    assert imap.poll_all() == {"support": 1}
    db.session.commit()
    assert db.session.scalar(select(func.count(Ticket.id))) == 2

    login(make_staff(Role.AGENT))
    for ticket in db.session.scalars(select(Ticket)).all():
        response = client.submit(
            f"/agent/tickets/{ticket.number}/reply",
            {"body": f"Answer to {ticket.subject}", "kind": "reply", "version": ticket.version},
        )
        assert response.status_code == 303
    assert outbox.send_due_emails()["sent"] == 4  # two acknowledgements, two answers
    answers = {m["Subject"]: m for m in smtp_sink.wait_for(4) if "Answer to" in m.get_content()}
    by_origin = {m["In-Reply-To"]: m for m in answers.values()}
    assert set(by_origin) == {"<smtp-1@example.com>", "<imap-1@example.com>"}
    for origin, mail in by_origin.items():
        ticket = db.session.scalar(
            select(Ticket).where(Ticket.subject == ("Via SMTP" if "smtp" in origin else "Via IMAP"))
        )
        assert mail["Subject"] == f"Re: {ticket.subject} [{ticket.number}]"
        assert mail["Reply-To"].startswith(f"orders+{ticket.number}.")
        assert mail["References"].startswith(origin)
        # …and the customer's answer to it lands on the same ticket.
        reply = EmailMessage()
        reply["From"], reply["To"] = "sara@example.com", mail["Reply-To"]
        reply["Subject"], reply["Message-ID"] = "Re: " + mail["Subject"], f"<re-{ticket.number}@example.com>"
        reply["In-Reply-To"] = mail["Message-ID"]
        reply.set_content("Thanks!")
        _send(listener, reply.as_bytes(policy=SMTP))
        db.session.commit()
        db.session.refresh(ticket)
        assert ticket.messages[-1].body_text.strip() == "Thanks!"
