"""Two processes writing to the same SQLite file at once: every write lands, none is lost to
'database is locked'."""

from __future__ import annotations

import subprocess
import sys
import textwrap
import threading

import pytest
from sqlalchemy import create_engine, func, select, update

from helpdesk.app import configure_engine
from helpdesk.extensions import db
from helpdesk.tickets.models import Message, Ticket
from tests.factories import make_ticket

WRITER = textwrap.dedent(
    """
    import sys
    from helpdesk import create_app
    from helpdesk.customers.models import Customer, CustomerEmail
    from helpdesk.extensions import db
    from helpdesk.tickets import service
    from helpdesk.transaction import unit_of_work

    app = create_app({"INSTANCE_PATH": sys.argv[1], "SQLALCHEMY_DATABASE_URI": sys.argv[2]})
    with app.app_context():
        customer = Customer(name="Writer " + sys.argv[3])
        customer.emails.append(CustomerEmail(email=f"writer{sys.argv[3]}@example.com", is_primary=True))
        db.session.add(customer)
        db.session.commit()
        for i in range(int(sys.argv[4])):  # two transactions per ticket, as a portal user makes them
            with unit_of_work():
                ticket = service.open_ticket(customer=customer, subject=f"w{sys.argv[3]} #{i}", body="body")
            with unit_of_work():
                service.add_message(ticket, author=customer, body="and a reply")
    """
)


def test_two_writer_processes_lose_nothing(app, app_config):
    url = app.config["SQLALCHEMY_DATABASE_URI"]
    if not url.startswith("sqlite"):
        pytest.skip("SQLite locking only")
    per_writer = 60
    writers = [
        subprocess.Popen(
            [sys.executable, "-c", WRITER, app.instance_path, url, str(n), str(per_writer)],
            stderr=subprocess.PIPE,
            text=True,
        )
        for n in (1, 2)
    ]
    for writer in writers:
        _out, err = writer.communicate(timeout=300)
        assert writer.returncode == 0, err[-2000:]
    db.session.expire_all()
    assert db.session.scalar(select(func.count(Ticket.id))) == 2 * per_writer
    assert db.session.scalar(select(func.count(func.distinct(Ticket.number)))) == 2 * per_writer
    assert db.session.scalar(select(func.count(Message.id))) == 4 * per_writer


def test_a_savepoints_read_then_write_waits_for_another_writer_instead_of_failing(app):
    """A nested transaction reads, another connection writes meanwhile, then it writes: on SQLite this
    failed at once with 'database is locked' (a claim lost to the worker's webhook bookkeeping)."""
    if app.config["SQLALCHEMY_DATABASE_URI"].startswith("postgresql"):
        pytest.skip("SQLite's locking")
    first, second = make_ticket(subject="first"), make_ticket(subject="second")
    db.session.commit()
    other = configure_engine(create_engine(app.config["SQLALCHEMY_DATABASE_URI"]))
    wrote = threading.Event()

    def write_elsewhere() -> None:
        with app.app_context(), other.begin() as conn:  # (updated_at's default reads the app's clock)
            conn.execute(update(Ticket).where(Ticket.id == second.id).values(subject="second, edited"))
        wrote.set()

    with db.session.begin_nested():
        assert db.session.scalar(select(Ticket.subject).where(Ticket.id == first.id)) == "first"
        writer = threading.Thread(target=write_elsewhere)
        writer.start()
        writer.join(timeout=1)  # it waits for this transaction's write lock
        assert not wrote.is_set()
        first.subject = "first, edited"
    db.session.commit()
    writer.join(timeout=15)
    assert wrote.is_set()
    other.dispose()
    db.session.expire_all()
    assert [t.subject for t in (first, second)] == ["first, edited", "second, edited"]
