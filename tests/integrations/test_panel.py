"""The ticket page's customer panel shows the shop orders as the platform shows them."""

from __future__ import annotations

from sqlalchemy import select

from helpdesk.customers.models import Order
from helpdesk.extensions import db
from helpdesk.integrations import inbox
from tests.factories import make_customer, make_ticket
from tests.integrations.conftest import salla_post
from tests.integrations.payloads import salla_order, salla_shipment, salla_webhook


def test_agent_sees_platform_status_payment_items_and_tracking(app, client, shops, login_as):
    salla_post(client, salla_webhook("order.created", salla_order(31)))
    salla_post(client, salla_shipment(31))
    inbox.map_shop_webhooks(app)
    customer = db.session.scalar(select(Order)).customer
    ticket = make_ticket(customer=customer)
    login_as("agent")
    page = client.get(f"/agent/tickets/{ticket.number}", headers={"Accept-Language": "ar"}).get_data(
        as_text=True
    )
    assert "70031" in page
    assert "بإنتظار المراجعة" in page or "Under Review" in page
    assert "عباية سوداء" in page
    assert "https://www.aramex.com/track/results?ShipmentNumber=ARX123456" in page
    assert "https://s.salla.sa/orders/31" in page


def test_a_platform_order_number_finds_its_ticket_and_links_a_new_case(app, client, shops, login_as):
    from helpdesk.tickets.routing import own_order_named

    salla_post(client, salla_webhook("order.created", salla_order(32)))
    inbox.map_shop_webhooks(app)
    order = db.session.scalar(select(Order))
    assert own_order_named(order.customer, "وين طلبي رقم 70032؟") == order
    ticket = make_ticket(customer=order.customer, order=order)
    login_as("agent")
    found = client.get("/agent/search?q=70032")
    assert found.status_code == 302 and found.headers["Location"].endswith(f"/agent/tickets/{ticket.number}")


def test_the_open_ticket_shows_a_status_change_from_the_platform(app, client, shops, login_as):
    salla_post(
        client, salla_webhook("order.created", salla_order(33), created_at="2026-12-01T09:00:00+03:00")
    )
    inbox.map_shop_webhooks(app)
    customer = db.session.scalar(select(Order)).customer
    login_as("agent")
    url = f"/integrations/customers/{customer.id}/orders"
    shipped = salla_order(33, slug="shipped", name="تم الشحن")
    salla_post(client, salla_webhook("order.status.updated", shipped, created_at="2026-12-01T11:00:00+03:00"))
    inbox.map_shop_webhooks(app)
    fragment = client.get(url, headers={"HX-Request": "true"}).get_data(as_text=True)
    assert "تم الشحن" in fragment and 'hx-trigger="every 10s"' in fragment


def test_the_portal_case_form_offers_the_customers_own_orders(app, client, shops, login):
    salla_post(client, salla_webhook("order.created", salla_order(34)))
    inbox.map_shop_webhooks(app)
    customer = db.session.scalar(select(Order)).customer
    customer.password_hash = make_customer().password_hash
    db.session.commit()
    login(customer)
    page = client.get("/portal/cases/new").get_data(as_text=True)
    assert 'list="my-orders"' in page and '<option value="70034">' in page
