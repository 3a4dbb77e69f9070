"""The HTTP JSON provider against a real HTTP server on a free loopback port."""

import json
import threading
from decimal import Decimal
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from helpdesk.customers.models import Order
from helpdesk.customers.providers import (
    HttpJsonOrderProvider,
    LocalOrderProvider,
    OrderServiceUnavailable,
)
from helpdesk.extensions import db
from tests.factories import make_customer, make_staff, make_ticket


class ShopApi:
    def __init__(self):
        self.requests: list[str] = []
        self.mode = "ok"
        self.release = threading.Event()
        api = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):
                api.requests.append(self.path)
                if api.mode == "slow":
                    api.release.wait(5)
                if api.mode == "error":
                    self.send_response(500)
                    self.end_headers()
                    return
                body = b"<html>" if api.mode == "garbage" else json.dumps(api.payload()).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def payload(self):
        return {
            "orders": [
                {
                    "number": "R-1",
                    "status": "delivered",
                    "total": "20.00",
                    "ordered_at": "2026-01-01T00:00:00Z",
                },
                {
                    "number": "R-2",
                    "status": "shipped",
                    "total": 35.5,
                    "currency": "SAR",
                    "ordered_at": "2026-02-01T00:00:00Z",
                    "carrier": "SMSA",
                    "tracking_number": "T-9",
                    "items": [{"name_ar": "غلاية", "name_en": "Kettle", "quantity": 1}],
                },
            ]
        }

    def stop(self):
        self.release.set()
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def shop():
    api = ShopApi()
    yield api
    api.stop()


def test_http_provider_reads_orders_and_caches_them(app, shop):
    customer = make_customer(email="a+b@shop.test")
    provider = HttpJsonOrderProvider(shop.url + "/orders?email={email}", ttl=60, timeout=2, locale="ar")
    orders = provider.orders_for(customer)
    assert [o.number for o in orders] == ["R-2", "R-1"]
    assert orders[0].total == Decimal("35.5") and orders[0].items[0].name == "غلاية"
    assert shop.requests == ["/orders?email=a%2Bb%40shop.test"]
    recent = provider.recent_orders(customer, 1)
    assert [o.number for o in recent.orders] == ["R-2"] and recent.count == 2
    assert recent.lifetime_value == sum((o.total for o in orders), Decimal("0"))
    assert len(shop.requests) == 1  # served from the cache
    expired = HttpJsonOrderProvider(shop.url + "/orders?email={email}", ttl=0, timeout=2)
    expired.orders_for(customer)
    expired.orders_for(customer)
    assert len(shop.requests) == 3


@pytest.mark.parametrize("mode", ["error", "garbage", "slow"])
def test_http_provider_failures_raise_unavailable(app, shop, mode):
    shop.mode = mode
    provider = HttpJsonOrderProvider(shop.url + "/c/{customer_id}", ttl=60, timeout=0.5)
    with pytest.raises(OrderServiceUnavailable):
        provider.orders_for(make_customer())


def test_nothing_listening_is_unavailable(app, shop):
    url = shop.url
    shop.stop()
    with pytest.raises(OrderServiceUnavailable):
        HttpJsonOrderProvider(url + "/{customer_id}", timeout=0.5).orders_for(make_customer())


def test_ticket_page_shows_remote_orders_or_says_the_service_is_unavailable(app, client, login, shop):
    app.config.update(
        ORDERS_PROVIDER="http", ORDERS_URL_TEMPLATE=shop.url + "/orders/{customer_id}", ORDERS_TIMEOUT=1
    )
    ticket = make_ticket()
    login(make_staff())
    page = client.get(f"/agent/tickets/{ticket.number}").get_data(as_text=True)
    assert "R-2" in page and "T-9" in page and "55.50" in page
    app.config["ORDERS_URL_TEMPLATE"] = shop.url + "/other/{customer_id}"  # a fresh cache
    shop.mode = "error"
    response = client.get(f"/agent/tickets/{ticket.number}")
    assert response.status_code == 200
    assert "خدمة الطلبات غير متاحة" in response.get_data(as_text=True)
    assert ticket.number in response.get_data(as_text=True)


def test_local_provider_lists_newest_first(app):
    customer = make_customer()
    from datetime import UTC, datetime

    for n, month in (("L-1", 1), ("L-2", 3)):
        db.session.add(
            Order(
                customer=customer,
                external_id=n,
                number=n,
                status="new",
                total=Decimal(1),
                ordered_at=datetime(2026, month, 1, tzinfo=UTC),
            )
        )
    db.session.commit()
    assert [o.number for o in LocalOrderProvider().orders_for(customer)] == ["L-2", "L-1"]
    recent = LocalOrderProvider().recent_orders(customer, 1)
    assert [o.number for o in recent.orders] == ["L-2"] and recent.count == 2
    assert recent.lifetime_value == Decimal("2.00")
    assert LocalOrderProvider().recent_orders(make_customer(), 5).count == 0
