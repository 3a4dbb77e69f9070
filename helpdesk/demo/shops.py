"""The demo's shops: a Salla and a Zid test store connected, and their orders for some demo customers as
if a sync had just brought them in. Each order starts from the recorded payload
(``content/shop_payloads.json``, the tests' fixtures too) and goes through the connectors' own mapping
(``record_from`` → ``apply_orders``), so an agent sees what a real store would show: the platform's
status labels, payment, items, shipment and links."""

from __future__ import annotations

import copy
import json
import random
import string
from datetime import datetime, timedelta
from functools import cache
from zoneinfo import ZoneInfo

from helpdesk.customers.models import Customer
from helpdesk.extensions import db
from helpdesk.integrations import salla, zid
from helpdesk.integrations.mapping import ShopOrderRecord, apply_orders
from helpdesk.integrations.models import Platform, ShopConnection

PAYLOADS = "shop_payloads.json"
SALLA_STORE, ZID_STORE = "1234509876", "251073"
RIYADH = ZoneInfo("Asia/Riyadh")
SALLA_STATUSES = [
    "under_review",
    "in_progress",
    "completed",
    "shipped",
    "delivering",
    "delivered",
    "canceled",
]
SALLA_PAYMENTS = ["cod", "mada", "credit_card", "apple_pay", "tabby", "tamara", "stc_pay"]
ZID_STATUSES = ["new", "preparing", "ready", "indelivery", "delivered", "cancelled"]
ZID_PAYMENTS = [
    ("zid_cod", "الدفع عند الاستلام"),
    ("zidpay", "بطاقة مدى البنكية"),
    ("tabby", "تابي"),
    ("tamara", "تمارا"),
    ("zid_bank_transfer", "تحويل بنكي"),
]
SHIPPED = {"shipped", "delivering", "delivered", "indelivery"}


@cache
def _payloads() -> dict:
    from helpdesk.demo.loader import CONTENT

    return json.loads((CONTENT / PAYLOADS).read_text(encoding="utf-8"))


def recorded(name: str) -> dict:
    """A fresh copy of a recorded payload (``salla_order``, ``zid_order``)."""
    return copy.deepcopy(_payloads()[name]["payload"])


def create_shops(seed: int, customers: list[Customer], people: dict, now: datetime) -> int:
    """Connect the two demo stores and give every third demo customer a Salla order and every fourth
    a Zid one; returns the number of orders. Flushes."""
    rng = random.Random(seed)  # its own sequence: the rest of the demo stays as it was
    for platform, store, name in (
        (Platform.SALLA, SALLA_STORE, "متجر العرض على سلة"),
        (Platform.ZID, ZID_STORE, "متجر العرض على زد"),
    ):
        db.session.add(ShopConnection(platform=platform, store_id=store, store_name=name, last_synced_at=now))
    records: list[ShopOrderRecord] = []
    for n, customer in enumerate(customers):
        if n % 3 == 0:
            records.append(_salla(rng, n, customer, people, now))
        if n % 4 == 1:
            records.append(_zid(rng, n, customer, people, now))
    apply_orders(records)
    return len(records)


def _lines(rng: random.Random, customer: Customer, people: dict) -> list[tuple[dict, str, int]]:
    arabic = (customer.language or "ar") == "ar"
    picked = rng.sample(people["products"], rng.choice([1, 1, 2]))
    return [(p, p["name_ar"] if arabic else p["name_en"], rng.choice([1, 1, 2])) for p in picked]


def _tracking(rng: random.Random, carrier: str) -> tuple[str, str]:
    number = f"{rng.randrange(10**11, 10**12)}"
    return number, f"https://tracking.demo.test/{carrier.lower()}/{number}"


def _salla(rng: random.Random, n: int, customer: Customer, people: dict, now: datetime) -> ShopOrderRecord:
    order = recorded("salla_order")
    order_id = 880_000 + n
    slug = rng.choice(SALLA_STATUSES)
    label_ar, label_en = salla.STATUS_LABELS[slug]
    label = label_ar if (customer.language or "ar") == "ar" else label_en
    lines = _lines(rng, customer, people)
    sub_total = round(sum(p["price"] * q for p, _name, q in lines), 2)
    tax = round(sub_total * 0.15, 2)
    ordered = now - timedelta(days=rng.randrange(1, 60), minutes=rng.randrange(0, 1440))
    first, _, last = (customer.name or "").partition(" ")
    carrier = rng.choice(people["carriers"])
    number, link = _tracking(rng, carrier) if slug in SHIPPED else (None, None)
    order |= {
        "id": order_id,
        "reference_id": 240_000 + n,
        "urls": {
            "customer": f"https://demo-store.demo.test/orders/{order_id}",
            "admin": f"https://s.salla.sa/orders/order/{order_id}",
        },
        "payment_method": rng.choice(SALLA_PAYMENTS),
        "items": [
            {"name": name, "sku": p["sku"], "quantity": q, "amounts": {"total": {"amount": p["price"] * q}}}
            for p, name, q in lines
        ],
        "shipping": {"company": carrier, "shipment_reference": number, "shipment": {"tracking_link": link}},
    }
    order["status"] |= {"name": label, "slug": slug, "customized": {"id": 1, "name": label}}
    order["date"]["date"] = ordered.astimezone(RIYADH).strftime("%Y-%m-%d %H:%M:%S.000000")
    order["amounts"] = {
        "sub_total": {"amount": sub_total, "currency": "SAR"},
        "tax": {"percent": "15.00", "amount": {"amount": tax, "currency": "SAR"}},
        "total": {"amount": round(sub_total + tax, 2), "currency": "SAR"},
    }
    order["customer"] |= {
        "id": 1_227_000_000 + n,
        "first_name": first,
        "last_name": last,
        "mobile": int((customer.phone or "+966500000000")[4:]),
        "mobile_code": "+966",
        "email": customer.email,
    }
    return salla.record_from(order, SALLA_STORE, when=now)


def _zid(rng: random.Random, n: int, customer: Customer, people: dict, now: datetime) -> ShopOrderRecord:
    order = recorded("zid_order")
    code = "".join(rng.choices(string.ascii_letters + string.digits, k=10))
    status = rng.choice(ZID_STATUSES)
    label_ar, label_en = zid.STATUS_LABELS[status]
    lines = _lines(rng, customer, people)
    total = round(sum(p["price"] * q for p, _name, q in lines) * 1.15, 2)
    method, method_name = rng.choice(ZID_PAYMENTS)
    paid = method != "zid_cod" or status == "delivered"
    carrier = rng.choice(people["carriers"])
    number, link = _tracking(rng, carrier) if status in SHIPPED else (None, None)
    ordered = now - timedelta(days=rng.randrange(1, 60), minutes=rng.randrange(0, 1440))
    when = ordered.astimezone(RIYADH)
    order |= {
        "id": 60_400_000 + n,
        "code": code,
        "store_id": int(ZID_STORE),
        "order_url": f"https://demo-store.zid.store/o/{code}/inv",
        "order_status": {
            "name": label_ar if (customer.language or "ar") == "ar" else label_en,
            "code": status,
        },
        "customer": {
            "id": str(2_083_000 + n),
            "name": customer.name,
            "email": customer.email,
            "mobile": (customer.phone or "").lstrip("+"),
        },
        "payment_status": "paid" if paid else "pending",
        "payment": {"method": {"name": method_name, "code": method}},
        "shipping": {
            "method": {
                "name": "توصيل سريع",
                "courier": carrier,
                "tracking": {"number": number, "status": None, "url": link},
            }
        },
        "order_total": f"{total:.2f}",
        "products": [
            {"name": name, "sku": p["sku"], "quantity": q, "price": f"{p['price']:.2f}"}
            for p, name, q in lines
        ],
        "created_at": when.strftime("%Y-%m-%d %H:%M:%S"),
        "updated_at": (when + timedelta(hours=3)).strftime("%Y-%m-%d %H:%M:%S"),
    }
    return zid.record_from(order, ZID_STORE, when=now)
