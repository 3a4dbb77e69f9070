"""Two processes writing to the same SQLite file at once: every write lands, none is lost to
'database is locked'."""

from __future__ import annotations

import subprocess
import sys
import textwrap

import pytest
from sqlalchemy import func, select

from helpdesk.extensions import db
from helpdesk.tickets.models import Message, Ticket

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
