"""From a platform's order to ours: one order per platform + store + id, its customer found by email,
then by phone (E.164), else created; updates idempotent and safe when events arrive out of order."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation

from sqlalchemy import select

from helpdesk.customers.models import Customer, CustomerEmail, Order
from helpdesk.dbtypes import utcnow
from helpdesk.extensions import db
from helpdesk.integrations.models import Platform, ShopOrder

# Our order statuses (``customers.labels.ORDER_STATUS_LABELS``) for each platform's own codes.
OUR_STATUS = {
    Platform.SALLA: {
        "payment_pending": "pending",
        "under_review": "new",
        "in_progress": "processing",
        "completed": "processing",
        "shipped": "shipped",
        "delivering": "out_for_delivery",
        "delivered": "delivered",
        "canceled": "cancelled",
        "restoring": "returned",
        "restored": "returned",
        "refunded": "refunded",
    },
    Platform.ZID: {
        "new": "new",
        "preparing": "processing",
        "ready": "processing",
        "indelivery": "out_for_delivery",
        "delivered": "delivered",
        "cancelled": "cancelled",
        "canceled": "cancelled",
        "failed": "cancelled",
        "refunded": "refunded",
        "reversed": "returned",
        "reverse_in_progress": "returned",
        "partially_reversed": "returned",
    },
}

# Payment methods as the platforms name them → ours (shown with our own translated label).
PAYMENT_METHODS = {
    "cod": "cod",
    "zid_cod": "cod",
    "cash_on_delivery": "cod",
    "bank": "bank_transfer",
    "zid_bank_transfer": "bank_transfer",
    "credit_card": "card",
    "zid_credit_card": "card",
    "zidpay": "card",
    "mada": "card",
    "apple_pay": "apple_pay",
    "stc_pay": "stc_pay",
    "tabby": "tabby",
    "tabby_installment": "tabby",
    "tamara": "tamara",
    "tamara_installment": "tamara",
}

_ARABIC = re.compile(r"[\u0600-\u06FF]")


def payment_method_code(raw: str | None) -> str | None:
    if not raw:
        return None
    code = str(raw).strip().lower()
    if code in PAYMENT_METHODS:
        return PAYMENT_METHODS[code]
    for word in ("tabby", "tamara", "cod", "mada", "apple"):
        if word in code:
            return PAYMENT_METHODS.get(word, "apple_pay" if word == "apple" else word)
    return "other"


def is_arabic(text: str | None) -> bool:
    return bool(text and _ARABIC.search(text))


def status_labels(
    table: dict[str, tuple[str, str]], code: str, name: str | None
) -> tuple[str | None, str | None]:
    """(Arabic, English) labels of a platform's status: its standard names, with the name the payload
    carries (in the store's language, possibly the merchant's own wording) in place of its language's."""
    ar, en = table.get(code, (None, None))
    if name:
        ar, en = (name, en) if is_arabic(name) else (ar, name)
    return ar, en


def item(name: object, sku: object, quantity: object, price: object) -> dict:
    """One order line as we keep it in ``orders.items``."""
    return {
        "name": str(name or sku or "?"),
        "sku": str(sku or ""),
        "quantity": int(quantity or 1),
        "price": str(money(price)) if price is not None else None,
    }


def e164(raw: object, country_code: str | None = None) -> str | None:
    """A phone number in E.164; Saudi local forms (05…, 5…, 9665…, 009665…) become +9665…."""
    if raw in (None, ""):
        return None
    text = _ascii_digits(str(raw).strip())
    digits = re.sub(r"\D", "", text)
    code = re.sub(r"\D", "", _ascii_digits(country_code or ""))
    if not digits:
        return None
    if text.startswith("+"):
        return "+" + digits
    if digits.startswith("00"):
        return "+" + digits[2:]
    if code and not digits.startswith(code):
        return "+" + code + digits.lstrip("0")
    if code:
        return "+" + digits
    if len(digits) == 10 and digits.startswith("05"):
        return "+966" + digits[1:]
    if len(digits) == 9 and digits.startswith("5"):
        return "+966" + digits
    if digits.startswith("9665") and len(digits) == 12:
        return "+" + digits
    return "+" + digits if len(digits) > 10 else None


def _ascii_digits(text: str) -> str:
    """Arabic-Indic (٠١٢…) and Persian (۰۱۲…) digits as 0-9, so ``٠٥٥…`` reads as ``055…``."""
    return "".join(str(int(ch)) if ch.isdecimal() and not ch.isascii() else ch for ch in text)


def money(value: object) -> Decimal:
    """An amount as sent (number, string, or ``{"amount": …}``) to two decimals; junk is zero."""
    if isinstance(value, dict):
        value = value.get("amount")
    try:
        amount = Decimal(str(value).replace(",", "").strip())
    except (InvalidOperation, ValueError):
        return Decimal("0.00")
    return amount.quantize(Decimal("0.01")) if amount.is_finite() else Decimal("0.00")


@dataclass
class ShopOrderRecord:
    platform: Platform
    store_id: str
    external_id: str
    number: str
    status_code: str  # the platform's own code
    total: Decimal
    currency: str = "SAR"
    label_ar: str | None = None
    label_en: str | None = None
    vat: Decimal | None = None
    payment_method: str | None = None
    payment_label: str | None = None
    payment_status: str | None = None  # the platform's code: paid, pending, refunded, …
    shipping_company: str | None = None
    tracking_number: str | None = None
    tracking_url: str | None = None
    dashboard_url: str | None = None
    customer_url: str | None = None  # the order's page the customer sees (never the dashboard)
    items: list[dict] = field(default_factory=list)
    ordered_at: datetime | None = None
    updated_at: datetime | None = None  # when the platform says this state is from
    customer_email: str | None = None
    customer_phone: str | None = None
    customer_name: str | None = None
    is_creation: bool = False  # an "order created" event: never overrides what we already have

    @property
    def source(self) -> str:
        return f"{self.platform.value}:{self.store_id}"

    @property
    def our_status(self) -> str:
        return OUR_STATUS[self.platform].get(self.status_code, self.status_code or "new")


def customer_for(email: str | None, phone: str | None, name: str | None) -> Customer:
    """The customer with that email, else with that phone (E.164), else a new one (flushes)."""
    customer = _Customers([(email, phone)]).find_or_create(email, phone, name)
    db.session.flush()
    return customer


def customer_finder(contacts: list[tuple[str | None, str | None]]) -> _Customers:
    """Find-or-create for a batch of (email, E.164 phone) contacts, looked up in two queries; what it
    creates is added to the session, not flushed."""
    return _Customers(contacts)


def apply_customers(contacts: list[tuple[str | None, str | None, str | None]]) -> int:
    """A page of a platform's customers (email, E.164 phone, name): matched or created (flushes)."""
    customers = _Customers([(email, phone) for email, phone, _name in contacts])
    for email, phone, name in contacts:
        if email or phone:
            customers.find_or_create(email, phone, name)
    db.session.flush()
    return len(contacts)


class _Customers:
    """The customers of a batch of orders, looked up in two queries (by email, by phone)."""

    def __init__(self, contacts: list[tuple[str | None, str | None]]) -> None:
        emails = {e.strip().lower() for e, _p in contacts if e and e.strip()}
        phones = {p for _e, p in contacts if p}
        self.by_email: dict[str, Customer] = {}
        self.by_phone: dict[str, Customer] = {}
        if emails:
            rows = db.session.execute(
                select(CustomerEmail.email, Customer).join(Customer).where(CustomerEmail.email.in_(emails))
            )
            self.by_email = {address: customer for address, customer in rows}
        if phones:
            found = db.session.scalars(
                select(Customer).where(Customer.phone.in_(phones)).order_by(Customer.id.desc())
            )
            self.by_phone = {customer.phone: customer for customer in found}

    def find_or_create(self, email: str | None, phone: str | None, name: str | None) -> Customer:
        email = (email or "").strip().lower() or None
        customer = self.by_email.get(email) if email else None
        if customer is None and phone:
            customer = self.by_phone.get(phone)
            if customer is not None and email:
                with db.session.no_autoflush:  # the batch's pending orders are not complete yet
                    customer.emails.append(CustomerEmail(email=email, is_primary=not customer.emails))
        if customer is None:
            customer = Customer(name=(name or (email or "").split("@")[0] or phone or "?")[:200], phone=phone)
            if email:
                customer.emails.append(CustomerEmail(email=email, is_primary=True))
            db.session.add(customer)
        elif phone and not customer.phone:
            customer.phone = phone
        if email:
            self.by_email[email] = customer
        if phone:
            self.by_phone.setdefault(phone, customer)
        return customer


def apply_order(record: ShopOrderRecord) -> tuple[Order, str]:
    """Insert or update one order; see ``apply_orders``."""
    return apply_orders([record])[0]


def apply_orders(records: list[ShopOrderRecord]) -> list[tuple[Order, str]]:
    """Insert or update a batch (a sync page, a webhook) in a fixed number of queries; returns each
    order and what happened: ``created``, ``updated`` or ``stale`` (an older state than the one we
    hold, or a "created" event for an order we already have). Flushes."""
    orders: dict[tuple[str, str], Order] = {}
    for source in {r.source for r in records}:
        ids = [r.external_id for r in records if r.source == source]
        found = db.session.scalars(select(Order).where(Order.source == source, Order.external_id.in_(ids)))
        orders |= {(o.source, o.external_id): o for o in found}
    shops: dict[int, ShopOrder] = {}  # by id() of the Order object, so new orders have theirs too
    if orders:
        by_id = {o.id: o for o in orders.values()}
        for shop in db.session.scalars(select(ShopOrder).where(ShopOrder.order_id.in_(by_id))):
            shops[id(by_id[shop.order_id])] = shop
    customers = _Customers([(r.customer_email, r.customer_phone) for r in records])
    results = []
    for record in records:
        order = orders.get((record.source, record.external_id))
        shop = shops.get(id(order)) if order is not None else None
        seen_at = record.updated_at or utcnow()
        if order is not None and (
            record.is_creation or (shop is not None and seen_at < shop.source_updated_at)
        ):
            results.append((order, "stale"))
            continue
        created = order is None
        customer = None
        if created or record.customer_email or record.customer_phone:
            contact = (record.customer_email, record.customer_phone, record.customer_name)
            customer = customers.find_or_create(*contact)
        if order is None:
            order = Order(source=record.source, external_id=record.external_id, customer=customer)
            db.session.add(order)
            orders[(record.source, record.external_id)] = order
        elif customer is not None:
            order.customer = customer
        if shop is None:
            shop = ShopOrder(order=order, platform=record.platform, store_id=record.store_id)
            db.session.add(shop)
            shops[id(order)] = shop
        _fill(order, shop, record, seen_at)
        results.append((order, "created" if created else "updated"))
    db.session.flush()
    return results


def _fill(order: Order, shop: ShopOrder, record: ShopOrderRecord, seen_at: datetime) -> None:
    order.number = record.number[:40]
    order.status = record.our_status[:40]
    order.total = record.total
    order.currency = (record.currency or "SAR")[:3].upper()
    order.items = record.items or order.items or []
    carrier = record.shipping_company or order.carrier
    order.carrier = carrier[:60] if carrier else None
    tracking = record.tracking_number or order.tracking_number
    order.tracking_number = tracking[:80] if tracking else None
    order.ordered_at = record.ordered_at or order.ordered_at or utcnow()
    order.updated_at = utcnow()
    shop.status_code = record.status_code[:60]
    shop.status_label_ar = record.label_ar or shop.status_label_ar
    shop.status_label_en = record.label_en or shop.status_label_en
    shop.payment_method = record.payment_method or shop.payment_method
    shop.payment_label = record.payment_label or shop.payment_label
    shop.vat = str(record.vat) if record.vat is not None else shop.vat
    shop.shipping_company = record.shipping_company or shop.shipping_company
    shop.tracking_url = record.tracking_url or shop.tracking_url
    shop.dashboard_url = record.dashboard_url or shop.dashboard_url
    kept = {"payment_status": record.payment_status, "customer_url": record.customer_url}
    shop.extra = {**(shop.extra or {}), **{k: v for k, v in kept.items() if v}}
    shop.source_updated_at = seen_at


def parse_time(raw: object, *, default_tz=UTC) -> datetime | None:
    """The dates the platforms send: ISO 8601, ``2021-06-30 12:16:25.000000``, or a JS
    ``Date.toString()`` (``Wed Jun 30 2021 12:16:25 GMT+0300``); naive times are ``default_tz``."""
    if raw in (None, ""):
        return None
    if isinstance(raw, dict):
        from zoneinfo import ZoneInfo

        zone = ZoneInfo(raw.get("timezone") or "UTC")
        return parse_time(raw.get("date"), default_tz=zone)
    if isinstance(raw, int | float):
        return datetime.fromtimestamp(raw, UTC)
    text = str(raw).strip()
    for parse in (
        lambda t: datetime.fromisoformat(t.replace("Z", "+00:00")),
        lambda t: datetime.strptime(t.split(" (")[0], "%a %b %d %Y %H:%M:%S GMT%z"),
    ):
        try:
            value = parse(text)
        except ValueError:
            continue
        return (
            value.replace(tzinfo=default_tz).astimezone(UTC)
            if value.tzinfo is None
            else value.astimezone(UTC)
        )
    return None
