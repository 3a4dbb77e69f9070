"""The demo data shows the WhatsApp channel: a connected number and a few WhatsApp conversations,
one inside the 24-hour window, one past it (the template offered), with the statuses of replies."""

from __future__ import annotations

from sqlalchemy import select

from helpdesk.demo.loader import DEMO_PASSWORD, load_demo
from helpdesk.extensions import db
from helpdesk.tickets.models import Channel, Status, Ticket
from helpdesk.whatsapp.models import WhatsAppAccount, WhatsAppOutbound


def test_the_demo_connects_a_number_and_has_whatsapp_conversations(app, client):
    summary = load_demo(ticket_count=30)
    assert summary["WhatsApp tickets"] == 4
    account = db.session.scalar(select(WhatsAppAccount))
    assert account.queue.slug == "orders" and account.display_number == "+966 9200 12345"
    chats = db.session.scalars(
        select(Ticket).where(Ticket.channel == Channel.WHATSAPP).order_by(Ticket.id)
    ).all()
    assert [t.status for t in chats] == [Status.OPEN, Status.PENDING, Status.SOLVED, Status.CLOSED]
    assert all(t.customer.phone and t.queue_id == account.queue_id and t.assignee_id for t in chats)
    assert {r.delivery for r in db.session.scalars(select(WhatsAppOutbound))} == {"read", "delivered"}

    signed_in = client.submit("/staff/login", {"email": "admin@demo.test", "password": DEMO_PASSWORD})
    assert signed_in.status_code == 302
    admin_page = client.get("/admin/whatsapp").get_data(as_text=True)
    assert "+966 9200 12345" in admin_page and "115566778899001" in admin_page
    open_chat = client.get(f"/agent/tickets/{chats[0].number}").get_data(as_text=True)
    assert "wa-status-" in open_chat and 'data-delivery="read"' in open_chat
    assert "whatsapp-window" not in open_chat  # the customer wrote half an hour ago
    closed_window = client.get(f"/agent/tickets/{chats[1].number}").get_data(as_text=True)
    assert "whatsapp-window" in closed_window and "case_update" in closed_window
