"""Where the ticket page gets a customer's orders: the local ``orders`` table or a shop's JSON API.

Both providers return ``OrderView`` objects, so the customer panel does not care which one is set.
A remote failure raises ``OrderServiceUnavailable``; the panel shows "order service unavailable"
and the rest of the page renders as usual.
"""

from __future__ import annotations

import json
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from typing import Protocol

from flask import current_app
from sqlalchemy import func, select

from helpdesk.customers.models import Customer, Order
from helpdesk.extensions import db


class OrderServiceUnavailable(Exception):
    """The remote order service did not answer in time or answered with something unusable."""


@dataclass(frozen=True)
class OrderItem:
    name: str
    quantity: int = 1
    sku: str = ""
    price: Decimal | None = None


@dataclass(frozen=True)
class OrderView:
    number: str
    status: str
    total: Decimal
    currency: str = "SAR"
    ordered_at: datetime | None = None
    carrier: str | None = None
    tracking_number: str | None = None
    items: tuple[OrderItem, ...] = field(default_factory=tuple)
    source: str = "local"  # where the order came from: "csv", "webhook", "salla:<store>", …


@dataclass(frozen=True)
class RecentOrders:
    """The newest few orders and the figures over all of them."""

    orders: list[OrderView]
    count: int
    lifetime_value: Decimal


class OrderProvider(Protocol):
    def orders_for(self, customer: Customer) -> list[OrderView]:
        """The customer's orders, newest first."""
        ...

    def recent_orders(self, customer: Customer, limit: int) -> RecentOrders:
        """The newest ``limit`` orders, with the count and total value of all of them."""
        ...


def _items(raw: object, locale: str) -> tuple[OrderItem, ...]:
    found = []
    for item in raw if isinstance(raw, list) else []:
        if not isinstance(item, dict):
            continue
        name = item.get(f"name_{locale}") or item.get("name") or item.get("name_en") or item.get("sku") or "?"
        try:
            price = Decimal(str(item["price"])) if item.get("price") is not None else None
        except InvalidOperation:
            price = None
        found.append(
            OrderItem(
                name=str(name),
                quantity=int(item.get("quantity") or 1),
                sku=str(item.get("sku", "")),
                price=price,
            )
        )
    return tuple(found)


def view_of(order: Order, locale: str = "en") -> OrderView:
    return OrderView(
        number=order.number,
        status=order.status,
        total=order.total,
        currency=order.currency,
        ordered_at=order.ordered_at,
        carrier=order.carrier,
        tracking_number=order.tracking_number,
        items=_items(order.items, locale),
        source=order.source or "local",
    )


_NEWEST_FIRST = (Order.ordered_at.desc(), Order.id.desc())


class LocalOrderProvider:
    """Orders mirrored into our own table (CSV import, signed webhook)."""

    def __init__(self, locale: str = "en"):
        self.locale = locale

    def _newest_first(self, customer: Customer):
        return select(Order).where(Order.customer_id == customer.id).order_by(*_NEWEST_FIRST)

    def orders_for(self, customer: Customer) -> list[OrderView]:
        return [view_of(o, self.locale) for o in db.session.scalars(self._newest_first(customer))]

    def recent_orders(self, customer: Customer, limit: int) -> RecentOrders:
        # One query: each row also carries the count and sum over all the customer's orders.
        rows = db.session.execute(
            self._newest_first(customer)
            .add_columns(func.count().over(), func.sum(Order.total).over())
            .limit(limit)
        ).all()
        if not rows:
            return RecentOrders([], 0, Decimal("0"))
        _order, count, value = rows[0]
        views = [view_of(order, self.locale) for order, _count, _value in rows]
        return RecentOrders(views, count, Decimal(str(value)).quantize(Decimal("0.01")))


class HttpJsonOrderProvider:
    """A shop's JSON API: ``url_template`` has ``{email}`` and/or ``{customer_id}``; the answer is a list
    of orders or ``{"orders": [...]}`` with the fields of the CSV import. Answers are cached for
    ``ttl`` seconds per URL (across requests of this process), calls time out after ``timeout``."""

    def __init__(self, url_template: str, *, ttl: float = 60.0, timeout: float = 3.0, locale: str = "en"):
        self.url_template = url_template
        self.ttl = ttl
        self.timeout = timeout
        self.locale = locale
        self._cache: dict[str, tuple[float, list[OrderView]]] = {}
        self._lock = threading.Lock()

    def url_for(self, customer: Customer) -> str:
        quote = urllib.parse.quote
        return self.url_template.format(email=quote(customer.email or "", safe=""), customer_id=customer.id)

    def orders_for(self, customer: Customer) -> list[OrderView]:
        url = self.url_for(customer)
        now = time.monotonic()
        with self._lock:
            cached = self._cache.get(url)
            if cached and cached[0] > now:
                return cached[1]
        orders = self._fetch(url)
        with self._lock:
            self._cache[url] = (now + self.ttl, orders)
        return orders

    def recent_orders(self, customer: Customer, limit: int) -> RecentOrders:
        orders = self.orders_for(customer)
        return RecentOrders(orders[:limit], len(orders), sum((o.total for o in orders), Decimal("0")))

    def _fetch(self, url: str) -> list[OrderView]:
        request = urllib.request.Request(url, headers={"Accept": "application/json"})
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:
                payload = json.loads(response.read(2_000_000).decode("utf-8"))
        except (OSError, ValueError, urllib.error.URLError) as exc:  # timeouts are OSErrors
            raise OrderServiceUnavailable(str(exc)) from exc
        rows = payload.get("orders") if isinstance(payload, dict) else payload
        if not isinstance(rows, list):
            raise OrderServiceUnavailable("unexpected answer")
        try:
            orders = [self._view(row) for row in rows]
        except (KeyError, TypeError, ValueError, InvalidOperation) as exc:
            raise OrderServiceUnavailable(f"unexpected order: {exc}") from exc
        return sorted(orders, key=lambda o: o.ordered_at or datetime.min.replace(tzinfo=UTC), reverse=True)

    def _view(self, row: dict) -> OrderView:
        from helpdesk.customers.orders import parse_timestamp

        return OrderView(
            number=str(row["number"]),
            status=str(row.get("status", "")),
            total=Decimal(str(row.get("total", "0"))),
            currency=str(row.get("currency") or "SAR")[:3],
            ordered_at=parse_timestamp(row["ordered_at"]) if row.get("ordered_at") else None,
            carrier=row.get("carrier") or None,
            tracking_number=row.get("tracking_number") or None,
            items=_items(row.get("items"), self.locale),
        )


_http_providers: dict[tuple, HttpJsonOrderProvider] = {}


def order_provider(locale: str = "en") -> OrderProvider:
    """The provider the configuration names (``HELPDESK_ORDERS_PROVIDER``: ``local`` or ``http``)."""
    config = current_app.config
    if config.get("ORDERS_PROVIDER") == "http" and config.get("ORDERS_URL_TEMPLATE"):
        key = (config["ORDERS_URL_TEMPLATE"], config["ORDERS_CACHE_TTL"], config["ORDERS_TIMEOUT"], locale)
        if key not in _http_providers:  # one per setting, so its cache lives across requests
            _http_providers[key] = HttpJsonOrderProvider(
                config["ORDERS_URL_TEMPLATE"],
                ttl=config["ORDERS_CACHE_TTL"],
                timeout=config["ORDERS_TIMEOUT"],
                locale=locale,
            )
        return _http_providers[key]
    return LocalOrderProvider(locale)
