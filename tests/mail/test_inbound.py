import threading
from datetime import timedelta

from sqlalchemy import func, select

from helpdesk.dbtypes import utcnow
from helpdesk.extensions import db
from helpdesk.mail import inbound, ledger
from helpdesk.mail.models import InboundMessage, InboundStatus, OutboundEmail
from helpdesk.tickets.models import Message, Ticket
from tests.factories import make_queue
from tests.mail.mailfactory import make_email


def _count(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


def test_new_message_is_stored_then_becomes_a_ticket(app):
    raw = make_email(message_id="<first@example.com>")
    result = inbound.ingest(raw)
    assert result.action == "created" and result.ticket.startswith("HD-")
    row = db.session.scalar(select(InboundMessage))
    assert row.raw == raw and row.status == InboundStatus.PROCESSED and row.action == "created"
    ticket = db.session.scalar(select(Ticket).where(Ticket.number == result.ticket))
    assert ticket.subject == "My order has not arrived"
    assert ticket.customer.email == "sara@example.com" and ticket.customer.name == "Sara Customer"
    assert ticket.messages[0].email_message_id == "<first@example.com>"


def test_same_message_twice_is_a_duplicate(app):
    raw = make_email(message_id="<same@example.com>")
    first, second = inbound.ingest(raw), inbound.ingest(raw)
    assert (first.action, second.action) == ("created", "duplicate")
    assert second.ticket == first.ticket
    assert _count(Ticket) == 1 and _count(InboundMessage) == 1


def test_without_message_id_the_content_hash_dedupes(app):
    raw = make_email(message_id=None)
    assert [inbound.ingest(raw).action for _ in range(2)] == ["created", "duplicate"]
    other = make_email(message_id=None, body="something else")
    assert inbound.ingest(other).action == "created"


def test_two_workers_at_once_make_one_ticket(app):
    raw = make_email(message_id="<race@example.com>")
    results = []
    barrier = threading.Barrier(4)

    def worker():
        with app.app_context():
            barrier.wait()
            results.append(inbound.ingest(raw).action)
            db.session.remove()

    threads = [threading.Thread(target=worker) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(results) == ["created", "duplicate", "duplicate", "duplicate"]
    assert _count(Ticket) == 1 and _count(Message) == 1


def test_crash_between_store_and_parse_is_picked_up_by_the_worker_job(app):
    raw = make_email(message_id="<crash@example.com>")
    row_id, created = ledger.store_raw(raw, source="pipe")  # …and the process dies here
    assert created and _count(Ticket) == 0
    assert inbound.process_stored() == 0  # too fresh: whoever stored it may still be working
    db.session.get(InboundMessage, row_id).received_at = utcnow() - timedelta(minutes=5)
    db.session.commit()
    assert inbound.process_stored() == 1
    assert _count(Ticket) == 1
    assert inbound.process_stored(older_than=timedelta(0)) == 0
    assert inbound.ingest(raw).action == "duplicate"


def test_bad_message_is_kept_as_failed_with_its_reason(app):
    result = inbound.ingest(b"\x00\x01 not an email at all")
    assert result.action == "failed" and result.error
    row = db.session.scalar(select(InboundMessage))
    assert row.status == InboundStatus.FAILED and row.error == result.error
    assert row.raw == b"\x00\x01 not an email at all"
    assert ledger.failed_messages() == [row]


def test_message_without_sender_fails_and_can_be_retried(app):
    raw = b"To: support@helpdesk.localhost\r\nSubject: who am I\r\nMessage-ID: <nos@x>\r\n\r\nhello\r\n"
    result = inbound.ingest(raw)
    assert result.action == "failed" and "sender" in result.error
    row = db.session.get(InboundMessage, result.inbound_id)
    ledger.retry_failed(row)
    db.session.commit()
    assert inbound.process_inbound(row.id).action == "failed"


def test_queue_from_the_option_or_the_recipient_address(app):
    orders = make_queue("orders", email_address="orders@shop.test")
    refunds = make_queue("refunds", email_address="refunds@shop.test")
    first = inbound.ingest(make_email(to="orders@shop.test"), queue=refunds)
    second = inbound.ingest(make_email(to="Orders <ORDERS+x@shop.test>"))
    tickets = {t.number: t for t in db.session.scalars(select(Ticket))}
    assert tickets[first.ticket].queue_id == refunds.id
    assert tickets[second.ticket].queue_id == orders.id


def test_new_ticket_is_acknowledged_once(app):
    inbound.ingest(make_email())
    [ack] = db.session.scalars(select(OutboundEmail)).all()
    assert ack.kind == "acknowledgement" and ack.to == "sara@example.com"


def test_redelivery_of_a_stored_but_unprocessed_message_processes_it(app):
    raw = make_email(message_id="<half@example.com>")
    ledger.store_raw(raw, source="imap")  # the first delivery crashed after storing
    assert inbound.ingest(raw).action == "created"
    assert inbound.ingest(raw).action == "duplicate"
    assert _count(Ticket) == 1
