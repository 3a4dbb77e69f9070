"""The shop orders in the customer panel: the platform, its own status label in the reader's
language, payment, items, shipment and the link to the order in the shop's dashboard."""

from __future__ import annotations

from dataclasses import dataclass

from flask_babel import get_locale
from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from helpdesk.customers.labels import order_status_label
from helpdesk.customers.models import Customer, Order
from helpdesk.customers.panel import show_apart
from helpdesk.extensions import db
from helpdesk.i18n import format_money
from helpdesk.integrations.models import Platform, ShopOrder

SHOWN = 5

PLATFORM_LABELS = {"salla": _l("Salla"), "zid": _l("Zid")}
PAYMENT_LABELS = {
    "cod": _l("Cash on delivery"),
    "card": _l("Card"),
    "bank_transfer": _l("Bank transfer"),
    "apple_pay": _l("Apple Pay"),
    "stc_pay": _l("STC Pay"),
    "tabby": _l("Tabby (instalments)"),
    "tamara": _l("Tamara (instalments)"),
    "other": _l("Other"),
}


@dataclass(frozen=True)
class ShopOrderView:
    order: Order
    shop: ShopOrder

    @property
    def platform(self) -> str:
        return platform_label(self.shop.platform.value)

    @property
    def status(self) -> str:
        """The platform's own label in the reader's language, else the other one, else ours."""
        arabic = str(get_locale() or "ar").startswith("ar")
        first, second = (
            (self.shop.status_label_ar, self.shop.status_label_en)
            if arabic
            else (self.shop.status_label_en, self.shop.status_label_ar)
        )
        return first or second or order_status_label(self.order.status)

    @property
    def payment(self) -> str | None:
        if self.shop.payment_method in PAYMENT_LABELS:
            return str(PAYMENT_LABELS[self.shop.payment_method])
        return self.shop.payment_label


def platform_label(code: str) -> str:
    return str(PLATFORM_LABELS.get(code, code))


def shop_orders_for(
    customer: Customer, ticket_order_id: int | None = None, limit: int = SHOWN
) -> list[ShopOrderView]:
    """The customer's newest platform orders (one query), and the ticket's own platform order however
    old (one more query, only when it is not among them)."""
    query = (
        select(Order, ShopOrder)
        .join(ShopOrder, ShopOrder.order_id == Order.id)
        .order_by(Order.ordered_at.desc(), Order.id.desc())
    )
    rows = db.session.execute(query.where(Order.customer_id == customer.id).limit(limit)).all()
    if ticket_order_id and all(order.id != ticket_order_id for order, _shop in rows):
        rows += db.session.execute(
            query.where(Order.customer_id == customer.id, Order.id == ticket_order_id)
        ).all()
    return [ShopOrderView(order, shop) for order, shop in rows]


# The platforms' orders are shown here, in detail: the panel's plain order list leaves them out.
show_apart(*(f"{platform.value}:" for platform in Platform))


@dataclass(frozen=True)
class OrderChoice:
    number: str
    label: str  # the date, the status and the total, as the customer knows the order


PICKED_FROM = 20


def orders_to_pick(customer: Customer) -> list[OrderChoice]:
    """The customer's newest orders (any source) for the portal's order-number field (one query)."""
    if not getattr(customer, "is_customer", False):
        return []
    orders = db.session.scalars(
        select(Order)
        .where(Order.customer_id == customer.id)
        .order_by(Order.ordered_at.desc())
        .limit(PICKED_FROM)
    )
    return [
        OrderChoice(o.number, f"{order_status_label(o.status)} · {format_money(o.total, o.currency)}")
        for o in orders
    ]
