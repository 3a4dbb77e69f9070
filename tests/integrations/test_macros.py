"""Macros filled from the ticket's Salla / Zid order: payment, shipping company, tracking and order links."""

from __future__ import annotations

from sqlalchemy import select

from helpdesk.customers.models import Order
from helpdesk.extensions import db
from helpdesk.integrations import inbox
from helpdesk.tickets import macros
from helpdesk.tickets.models import Macro, MessageKind, Ticket
from tests.factories import make_staff, make_ticket
from tests.integrations.conftest import salla_post
from tests.integrations.payloads import salla_order, salla_shipment, salla_webhook, zid_order
from tests.integrations.test_zid import zid_post

SHOP_MACRO = (
    "Paid by {{ payment_method }} ({{ payment_status }}), shipped with {{ shipping_company }}: "
    "{{ tracking_number }} {{ tracking_link }} — {{ order_link }}"
)


def _zid_ticket(app, client, **over) -> Ticket:
    zid_post(client, zid_order(payment_status="paid", **over), "order.create")
    inbox.map_shop_webhooks(app)
    order = db.session.scalar(select(Order))
    return make_ticket(customer=order.customer, order=order)


def test_the_shop_placeholders_are_offered_in_the_macro_editor(app, client, login):
    from helpdesk.auth.models import Role

    assert {"payment_method", "payment_status", "shipping_company", "tracking_link", "order_link"} <= set(
        macros.PLACEHOLDERS
    )
    assert macros.unknown_placeholders(SHOP_MACRO) == []
    login(make_staff(Role.SUPERVISOR))
    page = client.get("/agent/macros/new", headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert "{{ tracking_link }}" in page and "{{ payment_status }}" in page


def test_a_zid_order_fills_every_shop_placeholder_in_the_macros_language(app, client, shops, login):
    ticket = _zid_ticket(app, client)
    english = Macro(name="Where is it", locale="en", body=SHOP_MACRO)
    arabic = Macro(name="أين طلبي", locale="ar", body="الدفع: {{ payment_method }}، {{ payment_status }}")
    db.session.add_all([english, arabic])
    db.session.commit()
    agent = make_staff()
    assert macros.render_macro(english, ticket, agent) == (
        "Paid by Tamara (instalments) (paid), shipped with SMSA: TRACK-1 https://track.example/TRACK-1 — "
        "https://zid.store/osama/o/6IJWXOYLuR/inv"
    )
    assert macros.render_macro(arabic, ticket, agent) == "الدفع: تمارا (تقسيط)، مدفوع"
    # Sent as the macro reply: what the customer reads.
    login(agent)
    response = client.submit(
        f"/agent/tickets/{ticket.number}/macro", {"macro": english.id, "version": ticket.version}
    )
    assert response.status_code == 303
    reply = [m for m in db.session.get(Ticket, ticket.id).messages if m.kind == MessageKind.REPLY][-1]
    assert "https://track.example/TRACK-1" in reply.body_text and "{{" not in reply.body_text


def test_a_salla_order_without_a_shipment_yet_keeps_the_markers_and_the_reply_is_refused(
    app, client, shops, login
):
    salla_post(client, salla_webhook("order.created", salla_order(41)))
    inbox.map_shop_webhooks(app)
    order = db.session.scalar(select(Order))
    ticket = make_ticket(customer=order.customer, order=order)
    macro = Macro(
        name="Tracking", locale="en", body="{{ payment_method }}: {{ tracking_link }} {{ order_link }}"
    )
    db.session.add(macro)
    db.session.commit()
    rendered = macros.render_macro(macro, ticket, make_staff())
    assert rendered == "Cash on delivery: {{ tracking_link }} https://shop.example/orders/41"
    assert macros.unfilled_placeholders(rendered) == ["tracking_link"]
    login(make_staff())
    refused = client.submit(
        f"/agent/tickets/{ticket.number}/macro", {"macro": macro.id, "version": ticket.version}
    )
    assert refused.status_code == 409 and "{{ tracking_link }}" in refused.get_data(as_text=True)
    # The shipment arrives: the same macro now goes out.
    salla_post(client, salla_shipment(41))
    inbox.map_shop_webhooks(app)
    filled = macros.render_macro(macro, db.session.get(Ticket, ticket.id), make_staff())
    assert "aramex.com/track" in filled and macros.unfilled_placeholders(filled) == []


def test_a_ticket_without_a_shop_order_leaves_the_shop_placeholders_as_markers(app):
    ticket = make_ticket()  # no order at all
    macro = Macro(name="x", locale="ar", body="{{ payment_status }} {{ shipping_company }} {{ order_link }}")
    rendered = macros.render_macro(macro, ticket, make_staff())
    assert rendered == "{{ payment_status }} {{ shipping_company }} {{ order_link }}"
    assert macros.unfilled_placeholders(rendered) == ["payment_status", "shipping_company", "order_link"]
