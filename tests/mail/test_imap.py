"""IMAP polling against a real Dovecot server."""

from imapclient import IMAPClient
from sqlalchemy import func, select, text

from helpdesk.extensions import db
from helpdesk.mail import imap
from helpdesk.mail.models import InboundMessage, Mailbox
from helpdesk.tickets.models import Ticket
from helpdesk.worker.runner import run_once
from tests.factories import make_queue
from tests.mail.mailfactory import make_email


def _mailbox(dovecot, queue, monkeypatch, **fields) -> Mailbox:
    monkeypatch.setenv("HD_TEST_IMAP_PASSWORD", dovecot.password)
    mailbox = Mailbox(
        queue=queue,
        host="127.0.0.1",
        port=dovecot.port,
        use_tls=False,
        username=dovecot.user,
        password_env="HD_TEST_IMAP_PASSWORD",
        **fields,
    )
    db.session.add(mailbox)
    db.session.commit()
    return mailbox


def _client(dovecot) -> IMAPClient:
    client = IMAPClient("127.0.0.1", port=dovecot.port, ssl=False, timeout=10)
    client.login(dovecot.user, dovecot.password)
    return client


def _deliver(dovecot, *messages: bytes) -> None:
    with _client(dovecot) as client:
        for raw in messages:
            client.append("INBOX", raw)


def _unseen(dovecot, folder: str = "INBOX") -> list[int]:
    with _client(dovecot) as client:
        client.select_folder(folder)
        return client.search(["UNSEEN"])


def _tickets() -> int:
    return db.session.scalar(select(func.count(Ticket.id)))


def test_polling_turns_mail_into_tickets_and_flags_it_afterwards(app, dovecot, monkeypatch):
    queue = make_queue("orders")
    _mailbox(dovecot, queue, monkeypatch)
    _deliver(dovecot, make_email(subject="From IMAP"), b"\x00 junk that is no email")
    assert imap.poll_all() == {"support": 2}
    tickets = db.session.scalars(select(Ticket)).all()
    assert [(t.subject, t.queue_id) for t in tickets] == [("From IMAP", queue.id)]
    assert db.session.scalar(select(func.count()).select_from(InboundMessage)) == 2  # the junk kept as failed
    assert _unseen(dovecot) == []
    assert imap.poll_all() == {"support": 0}
    mailbox = db.session.scalar(select(Mailbox))
    assert mailbox.last_polled_at is not None and mailbox.last_error is None


def test_moves_messages_to_a_folder_when_configured(app, dovecot, monkeypatch):
    _mailbox(dovecot, make_queue(), monkeypatch, move_to="Helpdesk")
    _deliver(dovecot, make_email())
    imap.poll_all()
    with _client(dovecot) as client:
        assert client.select_folder("INBOX")[b"EXISTS"] == 0
        assert client.select_folder("Helpdesk")[b"EXISTS"] == 1


def test_message_stays_unread_when_it_cannot_be_stored_and_is_taken_next_time(app, dovecot, monkeypatch):
    _mailbox(dovecot, make_queue(), monkeypatch)
    _deliver(dovecot, make_email(subject="Survives an outage"))
    db.session.execute(text("ALTER TABLE inbound_messages RENAME TO inbound_messages_away"))
    db.session.commit()
    try:
        assert imap.poll_all() == {"support": 0}
    finally:
        db.session.rollback()
        db.session.execute(text("ALTER TABLE inbound_messages_away RENAME TO inbound_messages"))
        db.session.commit()
    assert "inbound_messages" in db.session.scalar(select(Mailbox.last_error))
    assert len(_unseen(dovecot)) == 1  # not flagged: nothing was committed
    assert imap.poll_all() == {"support": 1}
    assert _tickets() == 1 and _unseen(dovecot) == []


def test_a_message_read_twice_gives_one_ticket(app, dovecot, monkeypatch):
    """A crash after the commit but before the flag means a second read: the ledger says duplicate."""
    _mailbox(dovecot, make_queue(), monkeypatch)
    _deliver(dovecot, make_email())
    imap.poll_all()
    with _client(dovecot) as client:
        client.select_folder("INBOX")
        client.remove_flags(client.search(["ALL"]), [b"\\Seen"])
    mailbox = db.session.scalar(select(Mailbox))
    [result] = imap.poll_mailbox(mailbox)
    assert result.action == "duplicate" and _tickets() == 1


def test_wrong_password_is_recorded_not_raised(app, dovecot, monkeypatch):
    _mailbox(dovecot, make_queue(), monkeypatch)
    monkeypatch.setenv("HD_TEST_IMAP_PASSWORD", "wrong")
    assert imap.poll_all() == {"support": 0}
    assert db.session.scalar(select(Mailbox.last_error))


def test_the_worker_polls_the_mailboxes(app, dovecot, monkeypatch):
    _mailbox(dovecot, make_queue(), monkeypatch)
    _deliver(dovecot, make_email(subject="Via the worker"))
    monkeypatch.setattr(imap, "_last_poll", None)
    results = run_once(app)
    assert results["mail.poll_mailboxes"] == {"support": 1}
    assert _tickets() == 1
