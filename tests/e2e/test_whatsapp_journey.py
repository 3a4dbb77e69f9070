"""A customer who writes on WhatsApp: an admin connects the queue to a local Cloud API server, a signed
webhook with an Arabic message and a voice note becomes a ticket, the agent's reply reaches the
Cloud API, and a reply after the 24-hour window is refused with the approved template offered."""

from __future__ import annotations

import os
import re
import time

import httpx
from playwright.sync_api import expect

from tests.e2e.conftest import PHONE, sign_in, use_language
from tests.whatsapp import payloads
from tests.whatsapp.peer import CloudPeer

SHOTS = os.environ.get("HELPDESK_WHATSAPP_SHOTS")  # a folder: also save screenshots there


def _shot(page, name: str) -> None:
    if SHOTS:
        page.screenshot(path=f"{SHOTS}/{name}.png", full_page=True)


def _deliver(live_server, payload: dict) -> None:
    body, headers = payloads.signed(payload)
    response = httpx.post(f"{live_server.url}/channels/whatsapp/webhook", content=body, headers=headers)
    assert response.status_code == 200, response.text


def _until(probe, timeout: float = 60):  # a hang guard: a busy machine files the voice note later
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = probe()
        if found:
            return found
        time.sleep(0.3)
    raise AssertionError("timed out waiting")


def _ticket_number(live_server, wa_id: str) -> str:
    from sqlalchemy import select

    from helpdesk.customers.models import Customer
    from helpdesk.extensions import db
    from helpdesk.tickets.models import Channel, Ticket

    app = live_server.app()

    def probe():  # the customer's WhatsApp ticket (other journeys open portal cases for them too)
        with app.app_context():
            return db.session.scalar(
                select(Ticket.number)
                .join(Customer)
                .where(Customer.phone == "+" + wa_id, Ticket.channel == Channel.WHATSAPP)
                .order_by(Ticket.id.desc())
            )

    return _until(probe)


def _phone_of(live_server, email: str) -> str:
    from sqlalchemy import select

    from helpdesk.customers.models import Customer, CustomerEmail
    from helpdesk.extensions import db

    with live_server.app().app_context():
        query = select(Customer.phone).join(CustomerEmail).where(CustomerEmail.email == email)
        return db.session.scalar(query)


def test_whatsapp_conversation_from_webhook_to_reply_and_template(new_page, live_server):
    with CloudPeer() as cloud:
        admin = new_page("en")
        sign_in(admin, "admin@demo.test", staff=True)
        admin.goto("/admin/whatsapp")
        admin.select_option("#queue_id", label="Orders & delivery")
        admin.fill("#phone_number_id", payloads.PHONE_NUMBER_ID)
        admin.fill("#token_env", "WA_TOKEN")
        admin.fill("#app_secret_env", "WA_APP_SECRET")
        admin.fill("#verify_token_env", "WA_VERIFY")
        admin.fill("#graph_url", cloud.url)
        admin.fill("#template_name", "case_update")
        admin.click("form.admin-form button[type=submit]")
        expect(admin.locator("main table")).to_contain_text(payloads.PHONE_NUMBER_ID)
        expect(admin.locator("main table")).to_contain_text("Set in the environment")

        handshake = httpx.get(
            f"{live_server.url}/channels/whatsapp/webhook",
            params={
                "hub.mode": "subscribe",
                "hub.verify_token": payloads.VERIFY_TOKEN,
                "hub.challenge": "42",
            },
        )
        assert handshake.text == "42"

        # The sender is a demo customer who has written by email before: the WhatsApp message must
        # land on that record, found by the phone number it holds.
        wa_id = _phone_of(live_server, "customer1@demo.test").lstrip("+")
        now = int(time.time())
        cloud.state.media["voice-e2e"] = (b"OggS voice note", "audio/ogg")
        _deliver(
            live_server,
            payloads.text("السلام عليكم، وين طلبي؟", wamid="wamid.E2E1", ts=now - 120, wa_id=wa_id),
        )
        _deliver(live_server, payloads.voice_note("voice-e2e", wamid="wamid.E2E2", ts=now - 60, wa_id=wa_id))
        number = _ticket_number(live_server, wa_id)

        agent = new_page("ar")
        sign_in(agent, "agent4@demo.test", staff=True)
        use_language(agent, "ar")
        agent.goto(f"/agent/tickets/{number}")
        _until(lambda: (agent.reload(), agent.locator(".attachments a").count())[1])
        expect(agent.locator("main")).to_contain_text("السلام عليكم، وين طلبي؟")
        expect(agent.locator("main")).to_contain_text("رسالة صوتية")
        expect(agent.locator("main")).to_contain_text("تصل الردود إلى واتساب العميل")
        expect(agent.locator(".customer-panel")).to_contain_text("customer1@demo.test")
        expect(agent.locator(".attachments a").first).to_have_attribute("href", re.compile("/attachments/"))
        agent.fill("#reply-form textarea[name=body]", "طلبك خرج للتوصيل اليوم")
        agent.click("#reply-form button[type=submit]")
        expect(agent.locator("main")).to_contain_text("طلبك خرج للتوصيل اليوم")
        sent = _until(lambda: cloud.state.sent)
        assert sent[0]["to"] == wa_id and sent[0]["text"]["body"] == "طلبك خرج للتوصيل اليوم"
        _deliver(live_server, payloads.status("wamid.OUT1", "read", ts=now))
        _until(lambda: (agent.reload(), agent.locator("[data-delivery=read]").count())[1])
        _shot(agent, "whatsapp-ticket-ar-desktop")

        # A customer whose last message is 25 hours old: the reply is refused, the template offered.
        _deliver(
            live_server,
            payloads.text("Any news?", wamid="wamid.E2E3", ts=now - 25 * 3600, wa_id="966500000222"),
        )
        late = _ticket_number(live_server, "966500000222")
        english = new_page("en", viewport=PHONE)
        sign_in(english, "agent5@demo.test", staff=True)
        use_language(english, "en")
        english.goto(f"/agent/tickets/{late}")
        expect(english.locator(".whatsapp-window")).to_contain_text("The 24-hour WhatsApp window has closed.")
        _shot(english, "whatsapp-window-en-phone")
        english.fill("#reply-form textarea[name=body]", "Your order ships today")
        english.click("#reply-form button[type=submit]")
        expect(english.locator("main")).to_contain_text("approved template")
        english.goto(f"/agent/tickets/{late}")
        english.click(".whatsapp-window button[type=submit]")
        template = _until(lambda: [m for m in cloud.state.sent if m.get("type") == "template"])[0]["template"]
        assert template["name"] == "case_update"
        assert template["components"][0]["parameters"][0]["text"] == late
        assert not [m for m in cloud.state.sent if m.get("text", {}).get("body") == "Your order ships today"]

        if SHOTS:
            for locale in ("ar", "en"):
                for size, viewport in (("desktop", {"width": 1366, "height": 768}), ("phone", PHONE)):
                    page = new_page(locale, viewport=viewport)
                    sign_in(page, "admin@demo.test", staff=True)
                    use_language(page, locale)
                    page.goto("/admin/whatsapp")
                    _shot(page, f"whatsapp-admin-{locale}-{size}")
                    page.goto(f"/agent/tickets/{late}")
                    _shot(page, f"whatsapp-late-{locale}-{size}")
