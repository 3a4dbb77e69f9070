"""Sample payloads in the shapes Salla and Zid document (written by us, trimmed to what we read).

Each builder names the page the shape comes from; change a fixture only with the page open. The two
order payloads are recorded once, in ``helpdesk/demo/content/shop_payloads.json``, which the demo data
feeds through the same mapping.
"""

from __future__ import annotations

import copy

from helpdesk.demo.shops import recorded


def salla_order(order_id: int = 251, *, slug: str = "under_review", name: str = "بإنتظار المراجعة", **over):
    # https://docs.salla.dev/ (Merchant API › Orders › Order Details; Order Statuses) and the order.*
    # webhooks,
    # https://docs.salla.dev/doc-421119 — status {id, name, slug, customized}, amounts {total, tax},
    # customer {first_name, last_name, mobile, mobile_code, email}, items, shipping.shipment.
    order = recorded("salla_order")
    order["id"], order["reference_id"] = order_id, 70000 + order_id
    order["urls"] = {
        "customer": f"https://shop.example/orders/{order_id}",
        "admin": f"https://s.salla.sa/orders/{order_id}",
    }
    order["status"] |= {"name": name, "slug": slug, "customized": {"id": 1, "name": name}}
    order.update(over)
    return order


def salla_webhook(
    event: str, data: dict, *, merchant: int = 1234509876, created_at: str = "2026-12-01T10:00:00+03:00"
):
    # https://docs.salla.dev/doc-421119 — every event: {event, merchant, created_at, data}.
    return {"event": event, "merchant": merchant, "created_at": created_at, "data": copy.deepcopy(data)}


def salla_authorize(
    access_token: str = "sa-access-1", refresh_token: str = "sa-refresh-1", expires: int = 1893456000
):
    # https://docs.salla.dev/421118m0 (Salla OAuth 2.0 › Easy mode) and https://docs.salla.dev/421413m0
    # (App Events › App Store Authorize), re-checked: {event, merchant, created_at "2021-10-05 16:41:07"
    # (no zone), data {access_token, expires (a Unix time), refresh_token, scope, token_type}}. ``id``
    # and ``app_name`` are the app's, never the store's (the store is ``merchant``).
    return salla_webhook(
        "app.store.authorize",
        created_at="2026-12-01 10:00:00",
        data={
            "id": 1911645512,
            "app_name": "Helpdesk",
            "access_token": access_token,
            "expires": expires,
            "refresh_token": refresh_token,
            "scope": "settings.read orders.read customers.read offline_access",
            "token_type": "bearer",
        },
    )


def salla_shipment(order_id: int, *, merchant: int = 1234509876):
    # https://docs.salla.dev/doc-421119 — shipment.created: the shipment with order_id, courier, tracking.
    return salla_webhook(
        "shipment.created",
        {
            "id": 9911,
            "order_id": order_id,
            "courier_name": "أرامكس",
            "tracking_number": "ARX123456",
            "tracking_link": "https://www.aramex.com/track/results?ShipmentNumber=ARX123456",
        },
        merchant=merchant,
    )


def zid_order(
    order_id: int = 25304285,
    *,
    code: str = "new",
    name: str = "جديد",
    updated_at: str = "2026-12-01 10:00:00",
    **over,
):
    # https://docs.zid.sa/webhook-events-order (Order schema) and https://docs.zid.sa/list-of-orders
    # (re-checked): id, code, store_id, order_url (the customer's invoice page), order_status {name, code},
    # customer {name, email, mobile "966…"}, payment_status ("pending", "paid"), payment.method {name,
    # code}, shipping.method {name, courier, tracking}, products, order_total, currency_code, created_at,
    # updated_at ("2024-12-05 12:27:22", no zone).
    order = recorded("zid_order")
    order |= {"id": order_id, "code": f"Z{order_id}", "updated_at": updated_at}
    order["order_status"] = {"name": name, "code": code}
    order.update(over)
    return order


def zid_orders_page(orders: list[dict], total: int | None = None) -> dict:
    # https://docs.zid.sa/list-of-orders — GET /v1/managers/store/orders?page=&per_page= (at most 100)
    # answers {"status": "object", "orders": [...]}. The documented example is cut before any count; the
    # connector reads ``total_order_count`` when present, else takes a full page to mean "ask again".
    body: dict = {"status": "object", "orders": orders}
    if total is not None:
        body["total_order_count"] = total
    return body


def zid_customer(customer_id: int = 1111, **over) -> dict:
    # https://docs.zid.sa/get-customer-by-id — the customer object (trimmed): id, name, email, mobile
    # ("966500000005", no plus sign), verified, is_active, type, created_at, updated_at.
    customer = {
        "id": customer_id,
        "name": "John Doe",
        "email": "john.doe@example.com",
        "mobile": "966500000005",
        "verified": True,
        "is_active": True,
        "type": "individual",
        "created_at": "2022-05-24T20:50:42.000000Z",
        "updated_at": "2025-09-01T19:23:45.000000Z",
    }
    customer.update(over)
    return customer


def zid_customers_page(customers: list[dict]) -> dict:
    # GET https://api.zid.sa/v1/managers/store/customers?page=&per_page= — the list answer's
    # ``customers`` key as in https://docs.zid.sa/add-bulk-customers-35887214e0 ({"status": "object",
    # "customers": [...]}); the docs give no total, so the connector asks until a page is empty.
    return {"status": "object", "customers": customers}
