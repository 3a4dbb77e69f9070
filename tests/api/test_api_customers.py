"""The customers API: search, create, update, and a customer's tickets and orders."""

from __future__ import annotations

from decimal import Decimal

import pytest

from helpdesk.audit.models import AuditEvent
from helpdesk.customers.models import Order
from helpdesk.extensions import db
from tests.api.api_helpers import ApiClient, api_token
from tests.factories import count_queries, make_customer, make_ticket


@pytest.fixture
def api(client):
    staff, secret = api_token()
    api = ApiClient(client, secret)
    api.staff = staff
    return api


def test_create_read_and_update_a_customer(api):
    response = api.post(
        "/api/v1/customers", {"name": "سارة", "email": "Sara@Example.test", "language": "ar", "tier": "gold"}
    )
    assert response.status_code == 201, response.get_json()
    created = response.get_json()
    assert created["email"] == "sara@example.test" and created["tier"] == "gold"
    url = f"/api/v1/customers/{created['id']}"
    assert api.get(url).get_json()["name"] == "سارة"
    response = api.patch(url, {"email": "sara.new@example.test", "phone": "+966500000000"})
    assert response.status_code == 200
    updated = response.get_json()
    assert updated["email"] == "sara.new@example.test"
    assert set(updated["emails"]) == {"sara@example.test", "sara.new@example.test"}
    actions = db.session.scalars(db.select(AuditEvent.action).order_by(AuditEvent.id)).all()
    assert actions[-2:] == ["customer.created", "customer.updated"]


def test_an_email_another_customer_has_is_a_409(api):
    make_customer(email="taken@example.test")
    response = api.post("/api/v1/customers", {"name": "X", "email": "TAKEN@example.test"})
    assert response.status_code == 409 and "taken@example.test" in response.get_json()["message"]
    other = make_customer()
    response = api.patch(f"/api/v1/customers/{other.id}", {"email": "taken@example.test"})
    assert response.status_code == 409


def test_invalid_customer_fields_are_422(api):
    response = api.post("/api/v1/customers", {"name": "", "email": "not-an-email", "language": "fr"})
    assert response.status_code == 422
    assert {"name", "email", "language"} <= set(response.get_json()["errors"]["json"])
    assert api.patch(f"/api/v1/customers/{make_customer().id}", {}).status_code == 422


def test_search_and_pagination(api):
    for i in range(7):
        make_customer(name=f"Noura {i}")
    make_customer(name="Someone", email="noura.alt@example.test")
    make_customer(name="Ahmed")
    body = api.get("/api/v1/customers?q=noura&limit=5").get_json()
    assert len(body["items"]) == 5 and body["next_cursor"]
    rest = api.get(f"/api/v1/customers?q=noura&limit=5&cursor={body['next_cursor']}").get_json()
    assert len(rest["items"]) == 3 and rest["next_cursor"] is None
    assert api.get("/api/v1/customers?q=100%25").get_json()["items"] == []
    assert api.get("/api/v1/customers?cursor=-1").status_code == 400


def test_a_customers_tickets_and_orders(api):
    customer = make_customer()
    make_ticket(customer=customer, subject="mine")
    make_ticket(subject="someone else's")
    db.session.add(
        Order(
            customer=customer,
            external_id="A1",
            number="1001",
            status="shipped",
            total=Decimal("149.50"),
            items=[{"sku": "X", "quantity": 1, "price": 149.5}],
            tracking_number="TRK1",
        )
    )
    db.session.commit()
    tickets = api.get(f"/api/v1/customers/{customer.id}/tickets").get_json()
    assert [t["subject"] for t in tickets["items"]] == ["mine"]
    orders = api.get(f"/api/v1/customers/{customer.id}/orders").get_json()["items"]
    assert orders[0]["total"] == "149.50" and orders[0]["tracking_number"] == "TRK1"
    assert api.get("/api/v1/customers/999999/orders").status_code == 404


def test_customer_list_uses_a_fixed_number_of_queries(api):
    make_customer()
    api.get("/api/v1/customers")
    with count_queries() as few:
        api.get("/api/v1/customers")
    for _ in range(20):
        make_customer()
    with count_queries() as many:
        assert len(api.get("/api/v1/customers").get_json()["items"]) == 21
    assert len(many) == len(few) <= 4
