import json

import pytest
from sqlalchemy import func, select

from helpdesk.customers.models import Order
from helpdesk.customers.webhook import signature_for
from helpdesk.extensions import db

SECRET = "shared-secret"
ORDER = {
    "source": "salla",
    "external_id": "77",
    "number": "SO-77",
    "customer_email": "Huda@Shop.test",
    "customer_name": "Huda",
    "status": "processing",
    "total": "99.90",
    "items": [{"sku": "B2", "name": "Blender", "quantity": 1, "price": 99.9}],
}


@pytest.fixture
def secret(app):
    app.config["ORDERS_WEBHOOK_SECRET"] = SECRET
    return SECRET


def post(client, payload, secret=SECRET, signature=None):
    body = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
    headers = {
        "Content-Type": "application/json",
        "X-Helpdesk-Signature": signature or signature_for(body, secret),
    }
    return client.post("/api/v1/orders", data=body, headers=headers)


def test_signed_order_is_created_then_updated(client, secret):
    response = post(client, ORDER)
    assert response.status_code == 200 and response.json == {"created": 1, "updated": 0}
    response = post(
        client, {"orders": [dict(ORDER, status="shipped", carrier="Aramex", tracking_number="A1")]}
    )
    assert response.json == {"created": 0, "updated": 1}
    order = db.session.scalar(select(Order))
    assert (order.status, order.carrier, order.customer.email) == ("shipped", "Aramex", "huda@shop.test")


def test_wrong_or_missing_signature_is_refused(client, secret):
    assert post(client, ORDER, secret="other").status_code == 401
    assert post(client, ORDER, signature="sha256=").status_code == 401
    body = json.dumps(ORDER).encode()
    assert client.post("/api/v1/orders", data=body).status_code == 401
    assert db.session.scalar(select(func.count(Order.id))) == 0


def test_unconfigured_webhook_says_so(client, app):
    app.config["ORDERS_WEBHOOK_SECRET"] = ""
    response = post(client, ORDER, secret="x")
    assert response.status_code == 503 and "HELPDESK_ORDERS_WEBHOOK_SECRET" in response.json["error"]


def test_invalid_orders_are_a_400_and_nothing_is_saved(client, secret):
    assert post(client, b"not json").status_code == 400
    response = post(client, [ORDER, dict(ORDER, external_id="78", total="lots")])
    assert response.status_code == 400
    assert response.json["errors"] == [{"index": 1, "error": "total is not a number"}]
    assert db.session.scalar(select(func.count(Order.id))) == 0


def test_webhook_needs_no_csrf_token(client, secret, app):
    app.config["WTF_CSRF_ENABLED"] = True
    assert post(client, ORDER).status_code == 200
