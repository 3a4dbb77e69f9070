"""The benchmark generator at a tiny scale, so CI notices when it falls out of step with the schema."""

from __future__ import annotations

from email import message_from_bytes
from email import policy as email_policy

from sqlalchemy import func, select

from bench.generate import Scale, generate
from helpdesk.customers.models import Customer, Order
from helpdesk.extensions import db
from helpdesk.kb.models import Article
from helpdesk.tickets import service
from helpdesk.tickets.models import Channel, Message, Ticket
from helpdesk.tickets.queries import ACTIVE_STATUSES

TINY = Scale(
    tickets=50,
    customers=8,
    messages=140,
    orders=30,
    articles=6,
    emails=6,
    agents=3,
    big_customer_tickets=6,
    big_customer_orders=10,
    days=20,
)


def count(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


def test_generator_fills_every_table_at_the_asked_scale(app, tmp_path):
    summary = generate(TINY, data_dir=tmp_path, progress=False)

    assert (count(Ticket), count(Message), count(Customer), count(Order), count(Article)) == (
        50,
        140,
        8,
        30,
        6,
    )
    big = db.session.get(Customer, summary["big_customer_id"])
    assert len(big.tickets) == 6 and len(big.orders) == 10
    assert {a.locale for a in db.session.scalars(select(Article))} == {"ar", "en"}


def test_generated_open_tickets_have_sla_due_times_and_new_tickets_follow_on(app, tmp_path):
    generate(TINY, data_dir=tmp_path, progress=False)

    open_tickets = db.session.scalars(select(Ticket).where(Ticket.status.in_(ACTIVE_STATUSES))).all()
    assert open_tickets
    assert any(t.next_due_at is not None for t in open_tickets)
    # Numbers and ids continue after the generated rows (counter and PostgreSQL sequences).
    ticket = service.open_ticket(
        customer=db.session.get(Customer, 2),
        subject="After the bench data",
        body="Hello",
        channel=Channel.PORTAL,
    )
    db.session.commit()
    assert ticket.number == "HD-1051" and ticket.id == 51


def test_generator_writes_parseable_mail_for_the_ingest_run(app, tmp_path):
    generate(TINY, data_dir=tmp_path, progress=False)

    files = sorted((tmp_path / "mail").glob("*.eml"))
    assert len(files) == 6
    parsed = [message_from_bytes(f.read_bytes(), policy=email_policy.default) for f in files]
    assert all(m["Message-ID"] and m["From"] for m in parsed)
    assert any("[#HD-" in m["Subject"] for m in parsed)
