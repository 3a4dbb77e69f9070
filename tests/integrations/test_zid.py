"""Zid: webhooks authenticated by the Basic credentials Zid sends back, the OAuth code flow with its
two tokens, and the backfill sync."""

from __future__ import annotations

import json
from decimal import Decimal
from urllib.parse import parse_qs, urlparse

import pytest
from sqlalchemy import func, select

from helpdesk.auth.models import Role
from helpdesk.customers.models import Order
from helpdesk.extensions import db
from helpdesk.integrations import inbox, tokens, zid
from helpdesk.integrations.models import Platform, ShopConnection, ShopOrder, ShopWebhook
from helpdesk.integrations.sync import sync_store
from tests.factories import make_staff
from tests.integrations.conftest import ZID_SECRET
from tests.integrations.payloads import zid_order


def zid_post(client, payload: dict, event: str, *, secret: str | None = ZID_SECRET):
    headers = {"Content-Type": "application/json"}
    if secret is not None:
        headers["Authorization"] = zid.basic_header(secret)
    body = json.dumps(payload, ensure_ascii=False).encode()
    return client.post(f"/integrations/zid/webhook?event={event}", data=body, headers=headers)


def _count(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


def test_order_webhook_is_stored_then_mapped(app, client, shops):
    assert zid_post(client, zid_order(), "order.create").status_code == 200
    assert inbox.map_shop_webhooks(app) == 1
    order = db.session.scalar(select(Order))
    shop = db.session.get(ShopOrder, order.id)
    assert (order.source, order.number, order.status) == ("zid:251073", "Z25304285", "new")
    assert order.total == Decimal("149.50") and order.tracking_number == "TRACK-1"
    assert (shop.status_label_ar, shop.status_label_en) == ("جديد", "New")
    assert shop.payment_method == "tamara" and shop.payment_label == "تمارا"
    assert shop.tracking_url == "https://track.example/TRACK-1" and shop.shipping_company == "SMSA"
    assert order.customer.phone == "+966501234567" and order.customer.email == "osama@example.com"


@pytest.mark.parametrize("secret", [None, "guessed"])
def test_webhook_without_the_shared_credentials_is_refused_and_not_stored(app, client, shops, secret):
    assert zid_post(client, zid_order(), "order.create", secret=secret).status_code == 401
    assert _count(ShopWebhook) == 0


def test_the_secret_in_the_registered_url_authenticates_a_delivery(app, client, shops):
    body = json.dumps(zid_order(), ensure_ascii=False).encode()
    headers = {"Content-Type": "application/json"}
    url = "/integrations/zid/webhook?event=order.create&token="
    assert client.post(url + "guessed", data=body, headers=headers).status_code == 401
    assert _count(ShopWebhook) == 0
    assert client.post(url + ZID_SECRET, data=body, headers=headers).status_code == 200
    assert _count(ShopWebhook) == 1


def test_status_updates_apply_in_time_order_whatever_the_delivery_order(app, client, shops):
    delivered = zid_order(code="delivered", name="تم التوصيل", updated_at="2026-12-01 15:00:00")
    preparing = zid_order(code="preparing", name="جاري التجهيز", updated_at="2026-12-01 11:00:00")
    zid_post(client, delivered, "order.status.update")
    zid_post(client, preparing, "order.status.update")
    zid_post(client, zid_order(), "order.create")
    zid_post(client, delivered, "order.status.update")  # a redelivery
    inbox.map_shop_webhooks(app)
    assert _count(ShopWebhook) == 3
    assert db.session.scalar(select(Order.status)) == "delivered"


def test_connect_runs_the_code_flow_and_keeps_both_tokens_encrypted(app, client, shops, login):
    login(make_staff(Role.ADMIN))
    start = client.get("/integrations/zid/connect")
    assert start.status_code == 302
    query = parse_qs(urlparse(start.headers["Location"]).query)
    assert query["client_id"] == ["zid-client"] and query["response_type"] == ["code"]
    back = client.get(f"/integrations/zid/callback?code=abc&state={query['state'][0]}")
    assert back.status_code == 302
    connection = db.session.scalar(select(ShopConnection))
    assert (connection.platform, connection.store_id, connection.store_name) == (
        Platform.ZID,
        "251073",
        "Osama's Store",
    )
    found = tokens.tokens_of(connection)
    assert found.access_token == "zid-access-r1" and found.authorization == "zid-app-auth"
    assert b"zid-app-auth" not in connection.authorization_token


def test_callback_with_a_forged_state_is_refused(app, client, shops, login):
    login(make_staff(Role.ADMIN))
    client.get("/integrations/zid/connect")
    assert client.get("/integrations/zid/callback?code=abc&state=forged").status_code == 400
    assert _count(ShopConnection) == 0


def test_sync_fetches_every_page_and_matches_repeat_customers(app, client, shops, login):
    login(make_staff(Role.ADMIN))
    query = parse_qs(urlparse(client.get("/integrations/zid/connect").headers["Location"]).query)
    client.get(f"/integrations/zid/callback?code=abc&state={query['state'][0]}")
    connection = db.session.scalar(select(ShopConnection))
    shops.state.orders = 250
    shops.state.rate_limit_on_call = {1}
    result = sync_store(connection, None, sleep=lambda s: None)
    assert result.orders == 250 and result.pages == 3
    assert _count(Order) == 250
    assert db.session.scalar(select(func.count(func.distinct(Order.customer_id)))) == 50


def test_admin_sees_the_connections_page(app, client, shops, login):
    login(make_staff(Role.ADMIN))
    page = client.get("/integrations")
    assert page.status_code == 200
    assert "/integrations/salla/connect" in page.get_data(as_text=True)


def _connected_zid(client, login) -> ShopConnection:
    login(make_staff(Role.ADMIN))
    query = parse_qs(urlparse(client.get("/integrations/zid/connect").headers["Location"]).query)
    client.get(f"/integrations/zid/callback?code=abc&state={query['state'][0]}")
    return db.session.scalar(select(ShopConnection))


def test_sync_pages_through_the_stores_customers_matching_by_email_then_phone(app, client, shops, login):
    from helpdesk.customers.models import Customer, CustomerEmail

    connection = _connected_zid(client, login)
    shops.state.orders = 100  # their customers: c0…c49, phones +9665000000NN
    result = sync_store(connection, "2026-01-01", sleep=lambda s: None)
    assert result.customers == 80
    # 0-39 matched by email, 40-49 by phone (their new email added), 50-79 created.
    assert _count(Customer) == 80
    by_phone = db.session.scalar(select(Customer).where(Customer.phone == "+966500000045"))
    assert {e.email for e in by_phone.emails} == {"c45@example.com", "other45@example.com"}
    newcomer = db.session.scalar(
        select(Customer).join(CustomerEmail).where(CustomerEmail.email == "other70@example.com")
    )
    assert newcomer.name == "Customer 70" and newcomer.phone == "+966500000070"
    # The documented list queries: orders with their products and the ISO date, customers page by page
    # until an empty page (the peer caps pages at 50: 50, 30, then none).
    orders_query = shops.state.zid_queries[0]
    assert orders_query["payload_type"] == "default"
    assert orders_query["date_from"] == "2026-01-01T00:00:00.000+0300"
    assert [q["page"] for q in shops.state.zid_queries if "payload_type" not in q] == ["1", "2", "3"]
    # A second run matches everyone again and creates nobody.
    sync_store(connection, None, sleep=lambda s: None)
    assert _count(Customer) == 80


def test_sync_without_an_order_count_stops_after_a_short_page(app, client, shops, login):
    connection = _connected_zid(client, login)
    shops.state.orders = 150
    shops.state.zid_counts_orders = False
    result = sync_store(connection, None, sleep=lambda s: None)
    assert result.orders == 150 and result.pages == 2


def test_zid_sync_command_brings_orders_and_customers(app, client, shops, login):
    _connected_zid(client, login)
    db.session.commit()
    shops.state.orders = 20
    result = app.test_cli_runner().invoke(args=["zid", "sync", "--since", "2026-01-01"])
    assert result.exit_code == 0, result.output
    assert "20 orders from page 1" in result.output and "80 customers matched or added" in result.output
    assert _count(Order) == 20
