"""The demo (``make run``) connects a Salla and a Zid test store whose orders fill the demo customers'
panels: built from the recorded payloads and mapped by the connectors' own code."""

from __future__ import annotations

from sqlalchemy import func, select

from helpdesk.customers.models import Order
from helpdesk.demo.loader import DEMO_PASSWORD, load_demo
from helpdesk.extensions import db
from helpdesk.integrations.models import Platform, ShopConnection, ShopOrder
from helpdesk.tickets.models import Ticket


def test_demo_connects_both_stores_and_maps_their_orders_onto_demo_customers(app):
    summary = load_demo(ticket_count=40)
    connections = db.session.scalars(select(ShopConnection)).all()
    assert {c.platform for c in connections} == {Platform.SALLA, Platform.ZID}
    shops = db.session.scalars(select(ShopOrder)).all()
    assert len(shops) == summary["Salla and Zid orders"] > 100
    assert {s.platform for s in shops} == {Platform.SALLA, Platform.ZID}
    # Through the mapping: the demo customer found by email, the platform's own labels, payment,
    # items, and a shipment with its tracking link on the shipped ones.
    for shop in shops:
        order = shop.order
        assert order.customer.email.endswith("@demo.test") and order.items
        assert shop.status_label_ar and shop.status_label_en and shop.payment_method and shop.dashboard_url
    shipped = [s for s in shops if s.order.status in {"shipped", "out_for_delivery", "delivered"}]
    assert shipped and all(s.tracking_url and s.order.tracking_number for s in shipped)
    assert not db.session.scalar(  # nobody new: every platform customer is a demo customer
        select(func.count(Order.id)).where(Order.customer_id.is_(None))
    )


def test_an_agent_opening_a_demo_ticket_sees_the_customers_salla_and_zid_orders(app, client):
    load_demo(ticket_count=60)
    ticket = db.session.scalar(
        select(Ticket)
        .join(Order, Order.id == Ticket.order_id)
        .join(ShopOrder, ShopOrder.order_id == Order.id)
        .where(ShopOrder.shipping_company.is_not(None), ShopOrder.tracking_url.is_not(None))
        .order_by(Ticket.id)
    )
    assert ticket is not None, "some demo tickets are about a Salla or Zid order"
    shop = db.session.get(ShopOrder, ticket.order_id)
    signed_in = client.submit("/staff/login", {"email": "agent1@demo.test", "password": DEMO_PASSWORD})
    assert signed_in.status_code == 302
    page = client.get(f"/agent/tickets/{ticket.number}", headers={"Accept-Language": "ar"}).get_data(
        as_text=True
    )
    assert "طلبات المتجر" in page or "Shop orders" in page
    assert ticket.order.number in page and shop.status_label_ar in page
    assert shop.tracking_url in page and shop.dashboard_url in page
    listed = f'<strong><bdi dir="ltr">{ticket.order.number}</bdi></strong>'
    assert page.count(listed) == 1  # once, in the shop orders, not again in the plain order list
