"""The shop platforms' order fields as macro placeholders: payment method and status, shipping company,
tracking link and the order's page, filled from the ticket's order when it came from Salla or Zid.

Registered with the macros when imported (``helpdesk.wiring``). Like the core's placeholders, a value
the order does not have is None: the macro keeps the ``{{ name }}`` marker and a public reply holding
it is refused. The dashboard link is not offered: it is the merchant's admin page, not the customer's.
"""

from __future__ import annotations

from flask_babel import force_locale
from flask_babel import lazy_gettext as _l

from helpdesk.extensions import db
from helpdesk.integrations.models import ShopOrder
from helpdesk.integrations.panel import PAYMENT_LABELS
from helpdesk.tickets.macros import register_placeholders
from helpdesk.tickets.models import Ticket

LABELS = {
    "payment_method": _l("the order's payment method (Salla / Zid)"),
    "payment_status": _l("the order's payment status (Salla / Zid)"),
    "shipping_company": _l("the order's shipping company"),
    "tracking_link": _l("the order's tracking link (Salla / Zid)"),
    "order_link": _l("the link to the order's page in the shop (Salla / Zid)"),
}

# The payment states the platforms send (Zid's ``payment_status``), as a customer reads them.
PAYMENT_STATUS_WORDS = {
    "paid": _l("paid"),
    "pending": _l("awaiting payment"),
    "unpaid": _l("awaiting payment"),
    "refunded": _l("refunded"),
    "partially_refunded": _l("partially refunded"),
    "failed": _l("payment failed"),
}


def shop_values(ticket: Ticket, locale: str | None) -> dict[str, str | None]:
    """Each shop placeholder's value for the ticket's order, in ``locale`` (the macro's language)."""
    order = ticket.order
    shop = db.session.get(ShopOrder, order.id) if order is not None else None
    extra = (shop.extra or {}) if shop else {}
    with force_locale(locale or "ar"):
        method = shop and (
            str(PAYMENT_LABELS[shop.payment_method])
            if shop.payment_method in PAYMENT_LABELS and shop.payment_method != "other"
            else shop.payment_label
        )
        state = PAYMENT_STATUS_WORDS.get(extra.get("payment_status") or "")
        state = str(state) if state else None
    return {
        "payment_method": method or None,
        "payment_status": state,
        "shipping_company": (shop.shipping_company if shop else None) or (order.carrier if order else None),
        "tracking_link": (shop.tracking_url if shop else None) or None,
        "order_link": extra.get("customer_url") or None,
    }


register_placeholders(LABELS, shop_values)
