"""``ingest_batch`` on SQLite: a batch is processed in one transaction with one flush, and gives the
same tickets, messages, acknowledgements, SLA clocks and ledger as the same mail ingested one by one."""

import logging
import shutil

import pytest
from sqlalchemy import event, select
from sqlalchemy.orm import Session

from helpdesk import create_app
from helpdesk.automations import runs as automation_runs
from helpdesk.extensions import db
from helpdesk.mail import inbound, ledger
from helpdesk.mail.models import InboundMessage, OutboundEmail
from helpdesk.search.models import IndexJob
from helpdesk.sla.models import SlaPause, TicketSla
from helpdesk.tickets import service as tickets
from helpdesk.tickets.models import Status, Ticket
from tests.factories import POSTGRES_URL, count_queries, make_default_sla, make_staff
from tests.mail.mailfactory import make_email

pytestmark = pytest.mark.skipif(
    bool(POSTGRES_URL), reason="batches are SQLite's: on PostgreSQL each message has its own transaction"
)

ALICE, BOB, CAROL = "Alice <alice@example.com>", "Bob <bob@example.com>", "Carol <carol@example.com>"
ERIN = "Erin <erin@example.com>"


def _earlier_tickets() -> None:
    """Two tickets from before the batch: one solved, one answered by an agent (its next-response
    clock starts with the customer's next message)."""
    make_default_sla()
    db.session.commit()
    inbound.ingest(make_email(sender=BOB, message_id="<solved@example.com>", subject="Broken lid"))
    inbound.ingest(make_email(sender=CAROL, message_id="<answered@example.com>", subject="Late parcel"))
    solved, answered = db.session.scalars(select(Ticket).order_by(Ticket.id)).all()
    tickets.change_status(solved, Status.SOLVED, actor=None)
    tickets.add_message(answered, author=make_staff(), body="It leaves today.", notify=False)


def _batch() -> list[bytes]:
    """Mail whose handling depends on the mail of the same batch just before it."""
    bulk = {"Precedence": "bulk"}  # not acknowledged
    return [
        make_email(sender=ALICE, message_id="<a1@example.com>", subject="Wrong size"),  # HD-1003
        # A reply to that new ticket, from someone else: threads by In-Reply-To.
        make_email(sender=CAROL, message_id="<c1@example.com>", headers={"In-Reply-To": "<a1@example.com>"}),
        # Alice's third new ticket in a row is over the hourly limit of acknowledgements (2).
        make_email(sender=ALICE, message_id="<a2@example.com>", subject="Second question"),  # HD-1004
        make_email(sender=ALICE, message_id="<a3@example.com>", subject="Third question"),  # HD-1005
        # A new sender twice: one customer.
        make_email(sender=ERIN, message_id="<e1@example.com>", subject="Hello", headers=bulk),  # HD-1006
        make_email(sender=ERIN, message_id="<e2@example.com>", subject="Hello again"),  # HD-1007
        # The subject token of a ticket just opened, from its customer, without In-Reply-To.
        make_email(sender=BOB, message_id="<b1@example.com>", subject="Refund", headers=bulk),  # HD-1008
        make_email(sender=BOB, message_id="<b2@example.com>", subject="Re: Refund [HD-1008]"),
        # Two replies reopen the solved ticket once; an out-of-office is an event on a batch ticket.
        make_email(
            sender=BOB, message_id="<s1@example.com>", headers={"In-Reply-To": "<solved@example.com>"}
        ),
        make_email(sender=BOB, message_id="<s2@example.com>", headers={"In-Reply-To": "<s1@example.com>"}),
        make_email(
            sender="Dave <dave@example.com>",
            message_id="<ooo@example.com>",
            headers={"In-Reply-To": "<b1@example.com>", "Auto-Submitted": "auto-replied"},
        ),
        # The customer answers the agent: the next-response clock starts.
        make_email(
            sender=CAROL, message_id="<n1@example.com>", headers={"In-Reply-To": "<answered@example.com>"}
        ),
        make_email(sender=BOB, message_id="<b1@example.com>", subject="Refund"),  # a duplicate
    ]


def _state(results: list[ledger.IngestResult]) -> dict:
    """What the batch left, without ids and times (which differ between two runs)."""
    db.session.commit()
    all_tickets = db.session.scalars(select(Ticket).order_by(Ticket.id)).all()
    return {
        "results": [r.as_json() for r in results],
        "tickets": [
            (
                t.number,
                t.status,
                t.version,
                t.customer.email,
                [
                    (m.kind, m.event, m.author_customer.email if m.author_customer else None)
                    for m in t.messages
                ],
                [getattr(t, f) is not None for f in ("first_response_due_at", "next_response_due_at")],
                [getattr(t, f) is not None for f in ("resolution_due_at", "next_due_at")],
                db.session.get(TicketSla, t.id).awaiting_since is not None,
                [
                    (p.reason, p.ended_at is None)
                    for p in db.session.scalars(select(SlaPause).filter_by(ticket_id=t.id))
                ],
            )
            for t in all_tickets
        ],
        "acknowledgements": sorted(
            (e.to, e.ticket.number)
            for e in db.session.scalars(select(OutboundEmail).filter_by(kind="acknowledgement"))
        ),
        "ledger": [
            (row.status, row.action, row.ticket.number if row.ticket else None, row.sender)
            for row in db.session.scalars(select(InboundMessage).order_by(InboundMessage.id))
        ],
        "index jobs": sorted(job.doc_id for job in db.session.scalars(select(IndexJob))),
    }


def test_a_batch_leaves_what_one_by_one_leaves(app, app_config, database_template, tmp_path, caplog):
    app.config["MAIL_AUTO_REPLIES_PER_HOUR"] = 2
    _earlier_tickets()
    caplog.set_level(logging.INFO, logger="helpdesk.mail.inbound")
    batched = _state(inbound.ingest_batch(_batch()))
    assert "one by one" not in caplog.text  # the batch went through together, not message by message

    other = tmp_path / "one-by-one"  # a second instance with its own fresh database
    other.mkdir()
    shutil.copy(database_template, other / "helpdesk.db")
    one_app = create_app(
        {
            **app_config,
            "INSTANCE_PATH": str(other),
            "SQLALCHEMY_DATABASE_URI": f"sqlite:///{other / 'helpdesk.db'}",
            "MAIL_AUTO_REPLIES_PER_HOUR": 2,
        }
    )
    with one_app.app_context():
        _earlier_tickets()
        one_by_one = _state([inbound.ingest(raw) for raw in _batch()])
        db.session.remove()
        db.engine.dispose()

    assert batched == one_by_one
    actions = [r["action"] for r in batched["results"]]
    assert actions == ["created", "appended"] + ["created"] * 5 + ["appended"] * 5 + ["duplicate"]
    alice = [number for to, number in batched["acknowledgements"] if to == "alice@example.com"]
    assert alice == ["HD-1003", "HD-1004"]


def _senders(count: int, prefix: str) -> list[bytes]:
    return [
        make_email(sender=f"Customer {n} <{prefix}{n}@example.com>", message_id=f"<{prefix}-{n}@example.com>")
        for n in range(count)
    ]


def test_a_batch_is_written_in_one_flush_with_a_few_statements_per_message(app, monkeypatch):
    # The SLA and automation rules are re-checked after a second: a busy machine that takes longer
    # between the two batches must not turn that re-check into two more counted statements.
    app.config["SLA_RULES_RECHECK_SECONDS"] = 3600
    monkeypatch.setattr(automation_runs, "RULES_RECHECK_SECONDS", 3600)
    make_default_sla()
    db.session.commit()
    inbound.ingest_batch(_senders(5, "warm"))  # the SLA rules and queue addresses are read
    flushes = []
    listener = lambda session, _context: flushes.append(session)  # noqa: E731
    event.listen(Session, "after_flush", listener)
    try:
        with count_queries() as statements:
            results = inbound.ingest_batch(_senders(25, "new"))
    finally:
        event.remove(Session, "after_flush", listener)
    assert [r.action for r in results] == ["created"] * 25
    assert len(flushes) == 1
    # Per new ticket from a new sender: its customer looked up, the acknowledgement limit counted,
    # the ticket number taken, and one INSERT each of customer, address, ticket, message and
    # acknowledgement. Per batch: the raw mail, the claim, the SLA rows, the live-update rows, the
    # index jobs, the ledger rows, and the request types' email keywords, read once …
    per_message, per_batch = 8, 10
    assert len(statements) <= 25 * per_message + per_batch, "\n".join(statements)
