"""Salla: signed webhooks into the inbox and on into orders, easy-mode tokens, the backfill sync."""

from __future__ import annotations

import time
from decimal import Decimal
from urllib.parse import parse_qs, urlparse

import pytest
from sqlalchemy import func, select

from helpdesk.auth.models import Role
from helpdesk.customers.models import Customer, CustomerEmail, Order
from helpdesk.extensions import db
from helpdesk.integrations import inbox, tokens
from helpdesk.integrations.client import PlatformDown
from helpdesk.integrations.jobs import refresh_expiring_tokens
from helpdesk.integrations.models import InboxStatus, Platform, ShopConnection, ShopOrder, ShopWebhook
from helpdesk.integrations.sync import sync_store
from helpdesk.worker import runner
from tests.factories import make_customer, make_staff
from tests.integrations.conftest import salla_post
from tests.integrations.payloads import salla_authorize, salla_order, salla_shipment, salla_webhook


def _map(app):
    return inbox.map_shop_webhooks(app)


def _count(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


def test_signed_order_webhook_is_stored_then_mapped_with_the_platforms_labels(app, client, shops):
    response = salla_post(client, salla_webhook("order.created", salla_order(251)))
    assert response.status_code == 200 and response.get_json() == {"stored": True}
    assert _count(ShopWebhook) == 1 and _count(Order) == 0  # stored first, mapped by the worker
    assert _map(app) == 1
    order = db.session.scalar(select(Order))
    shop = db.session.get(ShopOrder, order.id)
    assert (order.source, order.external_id, order.number) == ("salla:1234509876", "251", "70251")
    assert order.status == "new" and order.total == Decimal("264.50") and order.carrier == "سمسا"
    assert (shop.status_label_ar, shop.status_label_en) == ("بإنتظار المراجعة", "Under Review")
    assert shop.payment_method == "cod" and shop.vat == "34.50"
    assert shop.dashboard_url == "https://s.salla.sa/orders/251"
    assert order.items == [{"name": "عباية سوداء", "sku": "AB-1", "quantity": 2, "price": "200.00"}]
    customer = order.customer
    assert customer.email == "sara@example.com" and customer.phone == "+966555123456"
    assert customer.name == "سارة القحطاني"


@pytest.mark.parametrize("secret", [None, "wrong-secret"])
def test_unsigned_or_wrongly_signed_webhook_is_refused_and_nothing_is_stored(app, client, shops, secret):
    response = salla_post(client, salla_webhook("order.created", salla_order()), secret=secret)
    assert response.status_code == 401
    assert _count(ShopWebhook) == 0


def test_a_duplicate_delivery_is_stored_once(app, client, shops):
    payload = salla_webhook("order.updated", salla_order(7))
    assert salla_post(client, payload).get_json() == {"stored": True}
    assert salla_post(client, payload).get_json() == {"stored": False}
    _map(app)
    assert _count(ShopWebhook) == 1 and _count(Order) == 1


def test_a_late_created_or_older_event_never_overwrites_a_newer_status(app, client, shops):
    delivered = salla_order(9, slug="delivered", name="تم التوصيل")
    salla_post(
        client, salla_webhook("order.status.updated", delivered, created_at="2026-12-01T12:00:00+03:00")
    )
    _map(app)
    late_created = salla_webhook("order.created", salla_order(9), created_at="2026-12-01T09:00:00+03:00")
    older_update = salla_webhook(
        "order.updated",
        salla_order(9, slug="in_progress", name="قيد التنفيذ"),
        created_at="2026-12-01T10:00:00+03:00",
    )
    salla_post(client, late_created)
    salla_post(client, older_update)
    _map(app)
    order = db.session.scalar(select(Order))
    assert order.status == "delivered"
    assert db.session.get(ShopOrder, order.id).status_label_ar == "تم التوصيل"


def test_shipment_event_adds_courier_and_tracking_link(app, client, shops):
    salla_post(client, salla_webhook("order.created", salla_order(11)))
    salla_post(client, salla_shipment(11))
    _map(app)
    order = db.session.scalar(select(Order))
    assert order.tracking_number == "ARX123456" and order.carrier == "أرامكس"
    assert db.session.get(ShopOrder, order.id).tracking_url.endswith("ARX123456")


def test_customer_is_matched_by_phone_when_the_email_is_new(app, client, shops):
    known = make_customer(phone="+966555123456")
    salla_post(client, salla_webhook("order.created", salla_order(12)))
    _map(app)
    assert db.session.scalar(select(Order)).customer_id == known.id
    assert _count(Customer) == 1
    assert db.session.scalar(
        select(CustomerEmail.customer_id).where(CustomerEmail.email == "sara@example.com")
    )


def test_a_delivery_that_fails_to_map_is_retried_later(app, client, shops, monkeypatch):
    salla_post(client, salla_webhook("order.created", salla_order(13)))
    real = inbox.apply_delivery
    monkeypatch.setattr(inbox, "apply_delivery", lambda row: (_ for _ in ()).throw(RuntimeError("db busy")))
    _map(app)
    row = db.session.scalar(select(ShopWebhook))
    assert row.status == InboxStatus.QUEUED and row.attempts == 1 and "db busy" in row.error
    monkeypatch.setattr(inbox, "apply_delivery", real)
    row.next_attempt_at = row.received_at  # the backoff has passed
    db.session.commit()
    assert _map(app) == 1
    assert _count(Order) == 1


def test_the_worker_runs_the_inbox_job(app, client, shops):
    assert "shop webhooks" in {job.name for job in runner.registered_jobs()}


def test_easy_mode_tokens_are_stored_encrypted(app, client, shops):
    response = salla_post(client, salla_authorize())
    assert response.status_code == 200
    assert _count(ShopWebhook) == 0  # tokens never enter the inbox in clear
    connection = db.session.scalar(select(ShopConnection))
    assert connection.platform == Platform.SALLA and connection.store_id == "1234509876"
    assert b"sa-access-1" not in connection.access_token
    assert tokens.tokens_of(connection).access_token == "sa-access-1"


def _connected(client) -> ShopConnection:
    salla_post(client, salla_authorize())
    return db.session.scalar(select(ShopConnection))


def test_sync_pages_through_orders_through_rate_limits_and_an_expired_token(app, client, shops):
    connection = _connected(client)
    shops.state.rate_limit_on_call = {2}
    shops.state.expire_tokens_on_call = {3}
    waits = []
    result = sync_store(connection, "2026-01-01", sleep=waits.append)
    assert result.orders == 130 and result.created == 130 and result.pages == 2
    assert waits and waits[0] == 1.0  # Retry-After respected
    assert shops.state.refreshes == 1
    db.session.expire_all()
    assert tokens.tokens_of(connection).access_token == "sa-access-r1"  # the refreshed token was kept
    assert connection.sync_next_page is None and connection.last_synced_at is not None
    assert _count(Order) == 130
    assert result.customers == 80 and _count(Customer) == 81  # the orders' customer and 80 more


def test_sync_stopped_by_the_platform_being_down_resumes_where_it_stopped(app, client, shops):
    connection = _connected(client)
    shops.state.orders = 200
    shops.state.down_from_page = 2
    with pytest.raises(PlatformDown):
        sync_store(connection, None, sleep=lambda s: None)
    db.session.expire_all()
    assert connection.sync_next_page == 2 and _count(Order) == 65
    shops.state.down_from_page = None
    result = sync_store(connection, None, sleep=lambda s: None)
    assert result.first_page == 2 and result.orders == 135
    assert _count(Order) == 200


def test_sync_command_reports_progress(app, shops, client):
    _connected(client)
    db.session.commit()
    result = app.test_cli_runner().invoke(args=["salla", "sync", "--since", "2026-01-01"])
    assert result.exit_code == 0, result.output
    assert "130 orders from page 1" in result.output


def test_the_worker_refreshes_tokens_close_to_expiry_and_keeps_the_new_ones(app, client, shops):
    salla_post(client, salla_authorize(expires=int(time.time()) + 3600))
    assert refresh_expiring_tokens(app) == 1
    connection = db.session.scalar(select(ShopConnection))
    db.session.refresh(connection)
    assert tokens.tokens_of(connection).access_token == "sa-access-r1"
    assert refresh_expiring_tokens(app) == 0  # two weeks ahead now


def test_uninstalling_the_app_forgets_the_tokens(app, client, shops):
    salla_post(client, salla_authorize())
    salla_post(client, salla_webhook("app.uninstalled", {"id": 1911645512}))
    connection = db.session.scalar(select(ShopConnection))
    assert connection.access_token is None and connection.refresh_token is None


def test_an_authorize_event_without_tokens_is_refused(app, client, shops):
    assert salla_post(client, salla_webhook("app.store.authorize", {"id": 1})).status_code == 400
    assert _count(ShopConnection) == 0


def test_salla_code_flow_connects_the_merchants_store(app, client, shops, login):
    login(make_staff(Role.ADMIN))
    query = parse_qs(urlparse(client.get("/integrations/salla/connect").headers["Location"]).query)
    assert query["scope"] == ["offline_access"]
    assert client.get(f"/integrations/salla/callback?code=c0de&state={query['state'][0]}").status_code == 302
    connection = db.session.scalar(select(ShopConnection))
    assert (connection.store_id, connection.store_name) == ("1234509876", "متجر سارة")
    assert tokens.tokens_of(connection).refresh_token == "sa-refresh-r1"


def test_connecting_while_the_platform_is_down_says_so(app, client, shops, login):
    login(make_staff(Role.ADMIN))
    app.config["SALLA_OAUTH_URL"] = "http://127.0.0.1:9"  # nothing listens there
    query = parse_qs(urlparse(client.get("/integrations/salla/connect").headers["Location"]).query)
    answer = client.get(f"/integrations/salla/callback?code=c0de&state={query['state'][0]}")
    assert answer.status_code == 400
    assert _count(ShopConnection) == 0


def test_a_zone_less_webhook_time_as_salla_documents_it_is_saudi_time():
    from datetime import UTC, datetime

    from helpdesk.integrations import salla

    # https://docs.salla.dev/421118m0: "created_at": "2021-10-05 16:41:07"
    _event, store, when = salla.envelope({"event": "x", "merchant": 1, "created_at": "2021-10-05 16:41:07"})
    assert store == "1" and when == datetime(2021, 10, 5, 13, 41, 7, tzinfo=UTC)
