import logging
from datetime import timedelta

from sqlalchemy import func, select

from helpdesk.dbtypes import utcnow
from helpdesk.extensions import db
from helpdesk.mail import outbox
from helpdesk.mail.models import OutboundEmail, OutboxStatus
from tests.factories import make_ticket
from tests.smtp_sink import SmtpSink, free_port


def _queue(n: int = 1, **kw) -> list[OutboundEmail]:
    emails = [
        outbox.queue_email(to=f"c{i}@example.test", subject=f"Subject {i}", text=f"Body {i}", **kw)
        for i in range(n)
    ]
    db.session.commit()
    return emails


def _make_all_due() -> None:
    for email in db.session.scalars(select(OutboundEmail)):
        email.next_attempt_at = utcnow() - timedelta(seconds=1)
    db.session.commit()


def test_queued_email_is_sent_once_through_smtp(app, smtp_sink):
    ticket = make_ticket()
    [email] = _queue(
        ticket=ticket, headers={"X-Helpdesk-Ticket": ticket.number}, message_id="<abc@helpdesk.test>"
    )
    assert outbox.send_due_emails() == {"sent": 1, "failed": 0}
    assert outbox.send_due_emails() == {"sent": 0, "failed": 0}
    [received] = smtp_sink.wait_for(1)
    assert received["To"] == "c0@example.test"
    assert received["Message-ID"] == "<abc@helpdesk.test>"
    assert received["X-Helpdesk-Ticket"] == ticket.number
    assert received.get_content().strip() == "Body 0"
    db.session.refresh(email)
    assert email.status == OutboxStatus.SENT and email.sent_at is not None and email.attempts == 1


def test_email_is_not_queued_when_the_transaction_rolls_back(app):
    outbox.queue_email(to="x@example.test", subject="s", text="t")
    db.session.rollback()
    assert db.session.scalar(select(OutboundEmail)) is None


def test_server_down_keeps_emails_then_delivers_each_exactly_once(app, caplog):
    port = free_port()
    app.config.update(MAIL_SERVER="127.0.0.1", MAIL_PORT=port)
    app.extensions["mail"].server, app.extensions["mail"].port = "127.0.0.1", port
    _queue(5)
    outbox._ServerState.down = False  # another test may have left the server "down"
    caplog.set_level(logging.WARNING, logger="helpdesk.mail.outbox")
    for _ in range(5):  # one email per pass meets the dead server; the rest keep their place
        assert outbox.send_due_emails() == {"sent": 0, "failed": 1}
    emails = db.session.scalars(select(OutboundEmail)).all()
    assert all(e.status == OutboxStatus.QUEUED and e.attempts == 1 and e.last_error for e in emails)
    assert all(e.next_attempt_at > utcnow() for e in emails)  # backed off
    assert outbox.send_due_emails() == {"sent": 0, "failed": 0}  # nothing due yet
    assert len(caplog.records) == 1 and "unreachable" in caplog.records[0].getMessage()

    sink = SmtpSink(port).start()
    try:
        _make_all_due()
        assert outbox.send_due_emails() == {"sent": 5, "failed": 0}
        _make_all_due()
        assert outbox.send_due_emails() == {"sent": 0, "failed": 0}
        received = sink.wait_for(5)
        assert sorted(m["Subject"] for m in received) == [f"Subject {i}" for i in range(5)]
    finally:
        sink.stop()
    assert "reachable again" in caplog.records[-1].getMessage()


def test_temporary_refusal_is_retried(app, smtp_sink):
    smtp_sink.handler.refuse = True
    [email] = _queue()
    assert outbox.send_due_emails()["failed"] == 1
    db.session.refresh(email)
    assert "451" in email.last_error
    smtp_sink.handler.refuse = False
    _make_all_due()
    assert outbox.send_due_emails()["sent"] == 1


def test_gives_up_after_max_attempts(app):
    port = free_port()
    app.extensions["mail"].server, app.extensions["mail"].port = "127.0.0.1", port
    [email] = _queue()
    for _ in range(outbox.MAX_ATTEMPTS):
        _make_all_due()
        outbox.send_due_emails()
    db.session.refresh(email)
    assert email.status == OutboxStatus.FAILED
    assert email.attempts == outbox.MAX_ATTEMPTS


def test_a_claimed_email_cannot_be_claimed_again(app):
    [email] = _queue()
    assert outbox._claim(email.id, 0) is True
    assert outbox._claim(email.id, 0) is False


def test_backoff_grows_and_is_capped():
    delays = [outbox.retry_delay(n) for n in range(1, 15)]
    assert delays[0] == timedelta(minutes=1) and delays[1] == timedelta(minutes=2)
    assert delays == sorted(delays)
    assert delays[-1] == outbox.LONGEST_RETRY


def test_a_backlog_goes_out_in_one_pass_batch_after_batch(app, smtp_sink):
    _queue(250)
    assert outbox.send_due_emails(batch=100) == {"sent": 250, "failed": 0}
    assert len(smtp_sink.wait_for(250)) == 250


def test_a_refusing_server_stops_the_pass_after_one_batch(app, smtp_sink):
    _queue(30)
    smtp_sink.handler.refuse = True  # "451 try again later" to every message, the server is up
    assert outbox.send_due_emails(batch=10) == {"sent": 0, "failed": 10}
    assert db.session.scalar(select(func.count()).where(OutboundEmail.attempts == 0)) == 20
