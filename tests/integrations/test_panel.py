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


def test_a_platform_order_is_listed_once_and_other_orders_stay_in_the_plain_list(
    app, client, shops, login_as
):
    """Issue 22's bug: the plain order list read every row of ``orders``, the platform ones too, and
    the shop orders section listed them again."""
    from decimal import Decimal

    salla_post(client, salla_webhook("order.created", salla_order(35)))
    inbox.map_shop_webhooks(app)
    order = db.session.scalar(select(Order))
    local = Order(
        customer=order.customer,
        source="csv",
        external_id="9",
        number="SO-9",
        status="delivered",
        total=Decimal(5),
    )
    db.session.add(local)
    db.session.commit()
    ticket = make_ticket(customer=order.customer, order=order)
    login_as("agent")
    page = client.get(f"/agent/tickets/{ticket.number}", headers={"Accept-Language": "en"}).get_data(
        as_text=True
    )
    assert page.count('<strong><bdi dir="ltr">70035</bdi></strong>') == 1
    assert page.count('<strong><bdi dir="ltr">SO-9</bdi></strong>') == 1
    start = page.index('<li class="order shop-order')
    shop_item = page[start : page.index("</li>", start)]
    assert "is-ticket-order" in shop_item and "This ticket" in shop_item
    # The figures still count both orders.
    panel = page[page.index('id="customer-panel-title"') :]
    assert "<dt>Orders</dt><dd>2</dd>" in panel


def test_the_shop_template_helpers_are_app_level_globals(app):
    """Registered in ``helpdesk.app._register_template_helpers``, not by the integrations blueprint."""
    import inspect

    from helpdesk.integrations import panel, views

    helpers = app.jinja_env.globals
    assert helpers["shop_orders"] is panel.shop_orders_for
    assert helpers["orders_to_pick"] is panel.orders_to_pick
    assert helpers["platform_label"] is panel.platform_label
    assert "app_template_global" not in inspect.getsource(views)
