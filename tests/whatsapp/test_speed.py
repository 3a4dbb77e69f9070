"""What makes the channel fast (issue 25, item 7) keeps it right: the worker files the ledger a batch
per transaction on SQLite, with the lookups done once per batch, and the webhook stores a delivery
in a fixed, small number of statements."""

from __future__ import annotations

import time

import pytest
from sqlalchemy import func, select

from helpdesk.customers.models import Customer
from helpdesk.extensions import db
from helpdesk.tickets.models import Channel, Message, Status, Ticket
from helpdesk.transaction import unit_of_work
from helpdesk.whatsapp import inbound
from helpdesk.whatsapp.accounts import Settings, connect
from helpdesk.whatsapp.models import LedgerStatus, WhatsAppInbound
from tests.factories import count_queries, make_customer, make_queue
from tests.whatsapp import payloads
from tests.whatsapp.conftest import post

NOW = int(time.time())


def _sqlite_only(app) -> None:
    if db.engine.dialect.name != "sqlite":
        pytest.skip("PostgreSQL files each item in its own transaction (the batch is SQLite's)")


def test_a_batch_files_every_sender_as_one_by_one_would(app, client, account):
    """Senders new and known, several messages each, interleaved: one ticket per sender, each message
    its own version of the ticket, in order, every ledger row done and pointing at its message."""
    known = make_customer(email="noura@example.com", name="نورة")
    known.phone = "+966551234567"
    db.session.commit()
    senders = ["966551234567", "966500000001", "966500000002", "971501234567"]
    for n in range(12):
        wa_id = senders[n % len(senders)]
        post(client, payloads.text(f"رسالة {n}", wamid=f"wamid.S{n}", ts=NOW - 100 + n, wa_id=wa_id))
    assert inbound.process_due() == 12
    db.session.expire_all()
    assert db.session.scalar(select(func.count()).select_from(Customer)) == 4  # 3 new, 1 found by phone
    tickets = db.session.scalars(select(Ticket).order_by(Ticket.id)).all()
    assert len(tickets) == 4 and {t.channel for t in tickets} == {Channel.WHATSAPP}
    assert tickets[0].customer_id == known.id
    for i, ticket in enumerate(tickets):
        assert [m.body_text for m in ticket.messages] == [f"رسالة {n}" for n in range(i, 12, 4)]
        assert ticket.version == 3  # opened, then two more messages: each its own change
        assert ticket.status == Status.NEW
    rows = db.session.scalars(select(WhatsAppInbound)).all()
    assert {r.status for r in rows} == {LedgerStatus.DONE}
    assert all(db.session.get(Message, r.ticket_message_id).body_text for r in rows)


def test_an_item_that_must_wait_leaves_the_rest_of_its_batch_filed(app, client, account, cloud):
    _sqlite_only(app)
    cloud.state.media["media-x"] = (b"OggS", "audio/ogg")
    cloud.state.media_down = True
    post(client, payloads.text("قبل", wamid="wamid.F1", ts=NOW - 30))
    post(client, payloads.voice_note("media-x", wamid="wamid.F2", ts=NOW - 20, wa_id="966500000009"))
    post(client, payloads.text("بعد", wamid="wamid.F3", ts=NOW - 10))
    assert inbound.process_due() == 2
    db.session.expire_all()
    waiting = db.session.scalar(select(WhatsAppInbound).where(WhatsAppInbound.status == LedgerStatus.QUEUED))
    assert waiting.dedupe_key == "msg:wamid.F2" and "503" in waiting.error and waiting.attempts == 1
    assert cloud.state.downloads == ["media-x"]  # it waits alone: the batch was not rolled back and redone
    ticket = db.session.scalar(select(Ticket))
    assert [m.body_text for m in ticket.messages] == ["قبل", "بعد"]
    assert db.session.scalar(select(func.count()).select_from(Customer)) == 1  # none made for the waiting one


def test_a_row_that_fails_rolls_its_batch_back_and_the_rest_are_filed_one_by_one(app, client, account):
    _sqlite_only(app)
    post(client, payloads.text("أولى", wamid="wamid.G1", ts=NOW - 30))
    broken = payloads.text("بلا رقم", wamid="wamid.G2", ts=NOW - 20)
    broken["entry"][0]["changes"][0]["value"]["metadata"]["phone_number_id"] = "999"  # no such number
    post(client, broken)
    post(client, payloads.text("ثالثة", wamid="wamid.G3", ts=NOW - 10))
    assert inbound.process_due() == 2
    db.session.expire_all()
    failed = db.session.scalar(select(WhatsAppInbound).where(WhatsAppInbound.status == LedgerStatus.QUEUED))
    assert failed.dedupe_key == "msg:wamid.G2" and "999" in failed.error
    ticket = db.session.scalar(select(Ticket))
    assert [m.body_text for m in ticket.messages] == ["أولى", "ثالثة"] and ticket.version == 2


def test_filing_a_batch_costs_a_few_statements_per_message(app, client, account):
    _sqlite_only(app)
    for n in range(40):
        post(
            client,
            payloads.text(f"m{n}", wamid=f"wamid.Q{n}", ts=NOW - 100 + n, wa_id=f"9665000000{n % 20:02d}"),
        )
    with count_queries() as statements:
        assert inbound.process_due() == 40
    # About five per message (its insert, the SLA reads and writes); the account,
    # the customers and their tickets are read once for the batch.
    assert len(statements) <= 40 * 5 + 5, len(statements)
    accounts = [s for s in statements if "FROM whatsapp_accounts" in s]
    assert len(accounts) == 1


def test_the_webhook_stores_a_delivery_in_one_statement(app, client, account):
    post(client, payloads.text("first", wamid="wamid.W0", ts=NOW))  # reads the numbers' secret names
    with count_queries() as statements:
        assert post(client, payloads.text("hello", wamid="wamid.W1", ts=NOW)).status_code == 200
    assert len(statements) == 1 and statements[0].startswith("INSERT INTO whatsapp_inbound")


def test_a_newly_connected_number_is_accepted_at_once(app, client, account, cloud, monkeypatch):
    post(client, payloads.text("first", wamid="wamid.C0", ts=NOW))  # the names are now kept
    monkeypatch.setenv("WA2_SECRET", "second-app-secret")
    with unit_of_work():
        connect(
            make_queue(slug="second"),
            Settings("222333444", "WA_TOKEN", "WA2_SECRET", "WA_VERIFY", cloud.url),
        )
    response = post(client, payloads.text("hi", wamid="wamid.C1", ts=NOW), secret="second-app-secret")
    assert response.status_code == 200
