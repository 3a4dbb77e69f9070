"""Customer data in words of the page's language: tiers, order statuses, address kinds, countries,
and the kinds of entry on a customer's timeline."""

from __future__ import annotations

from collections.abc import Mapping

from babel import Locale
from flask_babel import get_locale
from flask_babel import lazy_gettext as _l

from helpdesk.customers.models import Tier

TIER_LABELS = {
    Tier.STANDARD: _l("Standard"),
    Tier.SILVER: _l("Silver"),
    Tier.GOLD: _l("Gold"),
    Tier.VIP: _l("VIP"),
}
TIMELINE_LABELS = {
    "ticket": _l("Ticket"),
    "message": _l("Message"),
    "order": _l("Order"),
    "csat": _l("Rating"),
    "deflection": _l("Self-service"),
}


# The statuses shops send us; an unknown one is shown as sent ("awaiting_pickup" → "awaiting pickup").
ORDER_STATUS_LABELS = {
    "new": _l("Order received"),
    "pending": _l("Awaiting payment"),
    "paid": _l("Paid"),
    "processing": _l("Being prepared"),
    "shipped": _l("Shipped"),
    "out_for_delivery": _l("Out for delivery"),
    "delivered": _l("Delivered"),
    "cancelled": _l("Cancelled"),
    "canceled": _l("Cancelled"),
    "refunded": _l("Refunded"),
    "returned": _l("Returned"),
}
ADDRESS_LABELS = {
    "home": _l("Home"),
    "work": _l("Work"),
    "billing": _l("Billing"),
    "shipping": _l("Delivery"),
}
_ADDRESS_ORDER = ("street", "city", "postcode", "country")


def tier_label(tier: Tier) -> str:
    return str(TIER_LABELS.get(tier, tier.value))


def timeline_labels() -> dict[str, str]:
    """The timeline's labels, translated once per page rather than once per entry."""
    return {kind: str(label) for kind, label in TIMELINE_LABELS.items()}


def order_status_label(code: str) -> str:
    """An order status in words; a status we do not know is shown as the shop wrote it."""
    label = ORDER_STATUS_LABELS.get((code or "").strip().lower())
    return str(label) if label else (code or "").replace("_", " ")


def country_name(code: str) -> str:
    """``SA`` → "السعودية" / "Saudi Arabia"; anything that is not a known code stays as written."""
    locale = get_locale() or Locale.parse("ar")
    return locale.territories.get((code or "").upper(), code) if len(code or "") == 2 else code


def address_text(address: Mapping | str) -> str:
    """One address on a line: its kind, then street, city, postcode and the country in words."""
    if isinstance(address, str):
        return address
    parts = [str(address[key]) for key in _ADDRESS_ORDER if address.get(key) and key != "country"]
    if address.get("country"):
        parts.append(country_name(str(address["country"])))
    parts += [str(v) for k, v in address.items() if k not in (*_ADDRESS_ORDER, "label") and v]
    text = "، ".join(parts) if str(get_locale()) == "ar" else ", ".join(parts)
    kind = address.get("label")
    if not kind:
        return text
    return f"{ADDRESS_LABELS.get(kind, kind)}: {text}"
