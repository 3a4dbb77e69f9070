"""The ticket page's customer panel shows the shop orders as the platform shows them."""

from __future__ import annotations

from sqlalchemy import select

from helpdesk.customers.models import Order
from helpdesk.extensions import db
from helpdesk.integrations import inbox
from tests.factories import make_ticket
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
