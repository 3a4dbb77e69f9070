"""The WhatsApp channel end to end against a local Cloud API: signed webhooks into the ledger and on
into tickets, agents' replies out through the outbox, statuses back onto the replies."""

from __future__ import annotations

import logging
import time
from datetime import timedelta

import pytest
from sqlalchemy import func, select, update

from helpdesk.auth.models import Role
from helpdesk.customers.models import Customer
from helpdesk.dbtypes import utcnow
from helpdesk.extensions import db
from helpdesk.tickets import service as tickets
from helpdesk.tickets.errors import DomainError
from helpdesk.tickets.models import Channel, Message, MessageKind, Status, Ticket
from helpdesk.transaction import unit_of_work
from helpdesk.whatsapp import inbound, outbound
from helpdesk.whatsapp.models import LedgerStatus, OutboxStatus, WhatsAppInbound, WhatsAppOutbound
from tests.factories import make_customer, make_staff
from tests.whatsapp import payloads
from tests.whatsapp.conftest import post

NOW = int(time.time())


def _count(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


def _process() -> int:
    done = inbound.process_due()
    db.session.expire_all()
    return done


def _due_now() -> None:
    """Make every waiting ledger item and send due (the backoff has passed)."""
    for model in (WhatsAppInbound, WhatsAppOutbound):
        db.session.execute(update(model).values(next_attempt_at=utcnow() - timedelta(seconds=1)))
    db.session.commit()


def test_handshake_echoes_the_challenge_only_for_our_verify_token(app, client, account):
    ok = client.get(
        "/channels/whatsapp/webhook",
        query_string={
            "hub.mode": "subscribe",
            "hub.verify_token": payloads.VERIFY_TOKEN,
            "hub.challenge": "1158201444",
        },
    )
    assert ok.status_code == 200 and ok.get_data(as_text=True) == "1158201444"
    wrong = client.get(
        "/channels/whatsapp/webhook",
        query_string={"hub.mode": "subscribe", "hub.verify_token": "guess", "hub.challenge": "1"},
    )
    assert wrong.status_code == 403


@pytest.mark.parametrize("secret", ["wrong-secret", ""])
def test_a_badly_signed_delivery_is_refused_and_nothing_is_stored(app, client, account, secret):
    body, headers = payloads.signed(payloads.text("مرحبا", wamid="wamid.A", ts=NOW), secret or "x")
    if not secret:
        del headers["X-Hub-Signature-256"]
    assert client.post("/channels/whatsapp/webhook", data=body, headers=headers).status_code == 401
    assert _count(WhatsAppInbound) == 0


def test_arabic_message_with_a_voice_note_becomes_a_ticket_for_the_customer_found_by_phone(
    app, client, account, cloud
):
    existing = make_customer(email="noura@example.com", name="نورة العتيبي")
    existing.phone = "+966551234567"
    db.session.commit()
    cloud.state.media["media-voice-1"] = (b"OggS-voice-bytes", "audio/ogg")
    assert (
        post(client, payloads.text("السلام عليكم، طلبي تأخر", wamid="wamid.T1", ts=NOW - 60)).status_code
        == 200
    )
    assert (
        post(client, payloads.voice_note("media-voice-1", wamid="wamid.V1", ts=NOW - 30)).status_code == 200
    )
    assert _count(WhatsAppInbound) == 2 and _count(Ticket) == 0  # stored first, filed by the worker
    assert _process() == 2
    ticket = db.session.scalar(select(Ticket))
    assert ticket.channel == Channel.WHATSAPP and ticket.queue_id == account.queue_id
    assert ticket.customer_id == existing.id and _count(Customer) == 1  # one record: email and WhatsApp
    assert ticket.subject == "السلام عليكم، طلبي تأخر"
    first, voice = ticket.messages
    assert first.body_text == "السلام عليكم، طلبي تأخر" and first.channel == Channel.WHATSAPP
    assert voice.author_customer_id == existing.id and [a.content_type for a in voice.attachments] == [
        "audio/ogg"
    ]
    assert voice.attachments[0].size == len(b"OggS-voice-bytes")
    assert db.session.scalar(select(WhatsAppInbound.status).limit(1)) == LedgerStatus.DONE


def test_a_redelivered_message_is_stored_and_counted_once(app, client, account):
    payload = payloads.text("hello", wamid="wamid.R1", ts=NOW)
    assert post(client, payload).get_json() == {"stored": 1}
    assert post(client, payload).get_json() == {"stored": 0}
    _process()
    assert _count(Message) == 1 and _count(WhatsAppInbound) == 1


def test_a_new_customer_is_created_with_the_e164_number(app, client, account):
    post(client, payloads.text("hi", wamid="wamid.N1", ts=NOW, wa_id="971501234567", name="Omar"))
    _process()
    customer = db.session.scalar(select(Customer))
    assert (customer.phone, customer.name) == ("+971501234567", "Omar")


def test_messages_join_the_open_ticket_and_a_late_one_after_solving_opens_a_new_ticket(app, client, account):
    post(client, payloads.text("first", wamid="wamid.J1", ts=NOW - 3 * 86400))
    _process()
    ticket = db.session.scalar(select(Ticket))
    post(client, payloads.text("second", wamid="wamid.J2", ts=NOW - 3 * 86400 + 60))
    _process()
    assert _count(Ticket) == 1 and len(ticket.messages) == 2
    agent = make_staff(Role.AGENT)
    with unit_of_work():
        tickets.change_status(ticket, Status.SOLVED, actor=agent)
        ticket.solved_at = ticket.solved_at.replace(year=ticket.solved_at.year - 1)
    post(client, payloads.text("again", wamid="wamid.J3", ts=NOW))
    _process()
    assert _count(Ticket) == 2


def test_location_contacts_interactive_reaction_and_unknown_types_are_kept(app, client, account):
    post(client, payloads.text("start", wamid="wamid.K0", ts=NOW - 100))
    post(
        client,
        payloads.message(
            "location",
            {"latitude": 24.7136, "longitude": 46.6753, "name": "الرياض"},
            wamid="wamid.K1",
            ts=NOW - 90,
        ),
    )
    post(
        client,
        payloads.message(
            "contacts",
            [{"name": {"formatted_name": "Ali"}, "phones": [{"phone": "+966500000001"}]}],
            wamid="wamid.K2",
            ts=NOW - 80,
        ),
    )
    post(
        client,
        payloads.message(
            "interactive",
            {"type": "button_reply", "button_reply": {"id": "yes", "title": "نعم"}},
            wamid="wamid.K3",
            ts=NOW - 70,
        ),
    )
    post(
        client,
        payloads.message(
            "reaction", {"message_id": "wamid.K0", "emoji": "👍"}, wamid="wamid.K4", ts=NOW - 60
        ),
    )
    post(client, payloads.message("hologram", {"x": 1}, wamid="wamid.K5", ts=NOW - 50))
    assert _process() == 6
    ticket = db.session.scalar(select(Ticket))
    texts = [m.body_text for m in ticket.messages]
    assert "الرياض" in texts[1] and "https://maps.google.com/?q=24.7136,46.6753" in texts[1]
    assert "Ali: +966500000001" in texts[2] and texts[3] == "نعم"
    reaction = ticket.messages[4]
    assert (
        reaction.kind == MessageKind.EVENT
        and reaction.event == "whatsapp_reaction"
        and reaction.body_text == "👍"
    )
    assert "hologram" in texts[5]


def test_media_download_failure_keeps_the_message_and_retries_it(app, client, account, cloud):
    cloud.state.media["media-img"] = (b"\x89PNG-bytes", "image/png")
    cloud.state.media_down = True
    post(
        client,
        payloads.message(
            "image",
            {"id": "media-img", "mime_type": "image/png", "caption": "الفاتورة"},
            wamid="wamid.M1",
            ts=NOW,
        ),
    )
    assert _process() == 0
    row = db.session.scalar(select(WhatsAppInbound))
    assert row.status == LedgerStatus.QUEUED and "503" in row.error and _count(Ticket) == 0
    cloud.state.media_down = False
    _due_now()
    assert _process() == 1
    message = db.session.scalar(select(Message))
    assert message.body_text == "الفاتورة" and message.attachments[0].filename.endswith(".png")


def test_an_item_for_a_number_no_longer_connected_waits_and_the_rest_of_its_batch_is_filed(
    app, client, account, caplog
):
    post(client, payloads.text("first", wamid="wamid.D1", ts=NOW))
    post(client, payloads.text("second", wamid="wamid.D2", ts=NOW + 1))
    stray = db.session.scalar(select(WhatsAppInbound).where(WhatsAppInbound.dedupe_key == "msg:wamid.D2"))
    stray.body = stray.body.replace(payloads.PHONE_NUMBER_ID, "999000999")
    db.session.commit()
    caplog.set_level(logging.INFO, logger="helpdesk.worker.jobtable")
    assert _process() == 1
    assert "one by one" not in caplog.text  # the batch was not rolled back for it
    waiting = db.session.scalar(select(WhatsAppInbound).where(WhatsAppInbound.dedupe_key == "msg:wamid.D2"))
    assert waiting.status == LedgerStatus.QUEUED and "999000999" in waiting.error
    assert [m.body_text for m in db.session.scalars(select(Message))] == ["first"]


def _reply(client, ticket: Ticket, body: str):
    data = {"body": body, "kind": "reply", "version": ticket.version}
    return client.submit(f"/agent/tickets/{ticket.number}/reply", data)


def _ticket_with_customer_message(client, ts: int) -> Ticket:
    post(client, payloads.text("أين طلبي؟", wamid=f"wamid.C{ts}", ts=ts))
    _process()
    return db.session.scalar(select(Ticket))


def test_agent_reply_reaches_the_cloud_api_and_statuses_show_on_it_out_of_order(
    app, client, account, cloud, login
):
    ticket = _ticket_with_customer_message(client, NOW - 600)
    agent = make_staff(Role.AGENT)
    login(agent)
    page = client.get(f"/agent/tickets/{ticket.number}")
    assert "Replies go to the customer" in page.get_data(as_text=True) or "واتساب" in page.get_data(
        as_text=True
    )
    response = _reply(client, ticket, "طلبك في الطريق")
    assert response.status_code in (200, 303)
    assert _count(WhatsAppOutbound) == 1 and cloud.state.sent == []  # the outbox, not the request
    assert outbound.send_due() == {"sent": 1, "failed": 0}
    assert cloud.state.sent == [
        {
            "messaging_product": "whatsapp",
            "recipient_type": "individual",
            "to": "966551234567",
            "type": "text",
            "text": {"body": "طلبك في الطريق"},
        }
    ]
    row = db.session.scalar(select(WhatsAppOutbound))
    assert row.status == OutboxStatus.SENT and row.wamid == "wamid.OUT1"
    post(client, payloads.status("wamid.OUT1", "read", ts=NOW))
    post(client, payloads.status("wamid.OUT1", "delivered", ts=NOW - 5))  # late, older news
    post(client, payloads.status("wamid.OUT1", "sent", ts=NOW - 9))
    _process()
    assert db.session.get(WhatsAppOutbound, row.id).delivery == "read"
    html = client.get(f"/agent/tickets/{ticket.number}").get_data(as_text=True)
    assert 'data-delivery="read"' in html
    assert outbound.send_due() == {"sent": 0, "failed": 0}  # sent once


def test_a_failed_status_shows_metas_error_code(app, client, account, cloud):
    ticket = _ticket_with_customer_message(client, NOW - 600)
    with unit_of_work():
        tickets.add_message(ticket, author=make_staff(Role.AGENT), body="ok")
    outbound.send_due()
    post(client, payloads.status("wamid.OUT1", "failed", ts=NOW, error_code=131026))
    _process()
    row = db.session.scalar(select(WhatsAppOutbound))
    assert (row.delivery, row.error_code, row.last_error) == ("failed", "131026", "Message undeliverable")


def test_graph_api_down_then_rate_limited_then_up_delivers_each_reply_once(app, client, account, cloud):
    ticket = _ticket_with_customer_message(client, NOW - 600)
    agent = make_staff(Role.AGENT)
    with unit_of_work():
        tickets.add_message(ticket, author=agent, body="one")
        tickets.add_message(ticket, author=agent, body="two")
    cloud.state.down = True
    assert outbound.send_due() == {"sent": 0, "failed": 1}  # the pass stops at the outage
    rows = db.session.scalars(select(WhatsAppOutbound).order_by(WhatsAppOutbound.id)).all()
    assert [r.status for r in rows] == [OutboxStatus.QUEUED, OutboxStatus.QUEUED] and "503" in rows[
        0
    ].last_error
    cloud.state.down = False
    cloud.state.rate_limited = 1
    _due_now()
    assert outbound.send_due() == {"sent": 0, "failed": 1}
    assert "130429" in db.session.get(WhatsAppOutbound, rows[0].id).last_error
    _due_now()
    assert outbound.send_due() == {"sent": 2, "failed": 0}
    assert [m["text"]["body"] for m in cloud.state.sent] == ["one", "two"]
    _due_now()
    assert outbound.send_due() == {"sent": 0, "failed": 0}


def test_attachments_go_out_as_media(app, client, account, cloud):
    from helpdesk.tickets.attachments import IncomingFile

    ticket = _ticket_with_customer_message(client, NOW - 600)
    with unit_of_work():
        tickets.add_message(
            ticket,
            author=make_staff(Role.AGENT),
            body="الفاتورة مرفقة",
            attachments=[IncomingFile("invoice.pdf", "application/pdf", b"%PDF-1.4 bytes")],
        )
    assert outbound.send_due() == {"sent": 2, "failed": 0}
    assert cloud.state.uploads == [("application/pdf", b"%PDF-1.4 bytes")]
    media = cloud.state.sent[1]
    assert media["type"] == "document" and media["document"]["filename"] == "invoice.pdf"


def test_a_reply_after_the_window_is_refused_and_the_template_is_offered_and_sent(
    app, client, account, cloud, login
):
    ticket = _ticket_with_customer_message(client, NOW - 25 * 3600)
    login(make_staff(Role.AGENT))
    page = client.get(f"/agent/tickets/{ticket.number}").get_data(as_text=True)
    assert "whatsapp-template" in page
    response = _reply(client, ticket, "late answer")
    assert response.status_code == 409 and "24" in response.get_data(as_text=True)
    db.session.expire_all()
    assert _count(WhatsAppOutbound) == 0 and len(db.session.get(Ticket, ticket.id).messages) == 1
    response = client.submit(f"/agent/tickets/{ticket.number}/whatsapp-template", {"language": "ar"})
    assert response.status_code in (200, 303)
    assert outbound.send_due()["sent"] == 1
    template = cloud.state.sent[0]["template"]
    assert template["name"] == "case_update" and template["language"] == {"code": "ar"}
    assert template["components"][0]["parameters"] == [{"type": "text", "text": ticket.number}]


def test_the_apis_window_error_fails_the_send_with_its_code(app, client, account, cloud):
    ticket = _ticket_with_customer_message(client, NOW - 600)
    with unit_of_work():
        tickets.add_message(ticket, author=make_staff(Role.AGENT), body="hi")
    cloud.state.window_closed = True
    assert outbound.send_due() == {"sent": 0, "failed": 1}
    row = db.session.scalar(select(WhatsAppOutbound))
    assert (row.status, row.error_code) == (OutboxStatus.FAILED, "131047")


def test_too_long_text_is_refused_with_a_clear_message(app, client, account):
    ticket = _ticket_with_customer_message(client, NOW - 600)
    with pytest.raises(DomainError, match="4096"), unit_of_work():
        tickets.add_message(ticket, author=make_staff(Role.AGENT), body="ن" * 4097)
    assert _count(WhatsAppOutbound) == 0


def test_whatsapp_tickets_count_in_the_channel_report_and_automations_can_match_them(app, client, account):
    from datetime import date
    from zoneinfo import ZoneInfo

    from helpdesk.automations.models import RuleKind
    from helpdesk.automations.service import clean_conditions
    from helpdesk.reports.service import ReportFilters, volume_by_channel

    _ticket_with_customer_message(client, NOW - 600)
    today = date.today()
    table = volume_by_channel(ReportFilters(today.replace(day=1), today, ZoneInfo("UTC")))
    assert [str(name) for name, count in table.rows if count] == ["واتساب"]  # the install speaks Arabic
    condition = {"field": "channel", "op": "is", "value": ["whatsapp"]}
    assert clean_conditions({"all": [condition]}, RuleKind.TRIGGER)["all"][0]["value"] == ["whatsapp"]
