"""Salla: OAuth 2 (code flow and "easy mode", where tokens arrive in the ``app.store.authorize``
webhook), webhook signatures, and Salla's order payloads mapped to ours.

Documented shapes relied on (fixtures in ``tests/integrations/payloads.py``):
- OAuth: https://docs.salla.dev/doc-421118 — ``POST https://accounts.salla.sa/oauth2/token``
  (``access_token``, ``refresh_token``, ``expires_in``), ``GET /oauth2/user/info`` (the merchant).
- Webhooks: https://docs.salla.dev/doc-421119 — body ``{event, merchant, created_at, data}``, the
  ``X-Salla-Security-Strategy: Signature`` and ``X-Salla-Signature`` (hex HMAC-SHA256 of the body
  with the app's webhook secret) headers.
- Orders: https://docs.salla.dev/ (Merchant API › Orders › List Orders; Pagination) —
  ``GET /admin/v2/orders``,
  ``{data: [...], pagination: {currentPage, totalPages}}``.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Mapping
from datetime import datetime
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from flask import current_app

from helpdesk.integrations import client, tokens
from helpdesk.integrations.mapping import (
    ShopOrderRecord,
    e164,
    item,
    money,
    parse_time,
    payment_method_code,
    status_labels,
)
from helpdesk.integrations.models import Platform, ShopConnection

PLATFORM = Platform.SALLA
SALLA_TIME = ZoneInfo("Asia/Riyadh")
SIGNATURE_HEADER = "X-Salla-Signature"
STRATEGY_HEADER = "X-Salla-Security-Strategy"
PAGE_SIZE = 65  # Salla's largest page of orders

# Salla's own names for its standard statuses, in both languages (a webhook carries only the store's).
STATUS_LABELS = {
    "payment_pending": ("بانتظار الدفع", "Payment Pending"),
    "under_review": ("بإنتظار المراجعة", "Under Review"),
    "in_progress": ("قيد التنفيذ", "In Progress"),
    "completed": ("تم التنفيذ", "Completed"),
    "shipped": ("تم الشحن", "Shipped"),
    "delivering": ("جاري التوصيل", "Delivering"),
    "delivered": ("تم التوصيل", "Delivered"),
    "canceled": ("ملغي", "Canceled"),
    "restoring": ("قيد الاسترجاع", "Restoring"),
    "restored": ("مسترجع", "Restored"),
    "refunded": ("مسترد", "Refunded"),
}


def _config(name: str) -> str:
    return current_app.config.get(f"SALLA_{name}") or ""


def verify(headers: Mapping[str, str], body: bytes) -> bool:
    """The delivery is signed with our webhook secret (constant-time comparison)."""
    secret = _config("WEBHOOK_SECRET")
    given = headers.get(SIGNATURE_HEADER) or ""
    if not secret or not given:
        return False
    expected = hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
    return hmac.compare_digest(given.strip().lower().removeprefix("sha256=").encode(), expected.encode())


def envelope(payload: Mapping) -> tuple[str, str, datetime | None]:
    """(event, store id, when) of a webhook body; a ``created_at`` without a zone
    (``2021-10-05 16:41:07``, as documented) is Saudi time, where Salla runs."""
    return (
        str(payload.get("event") or ""),
        str(payload.get("merchant") or ""),
        parse_time(payload.get("created_at"), default_tz=SALLA_TIME),
    )


def tokens_from_authorize(data: Mapping) -> tokens.Tokens:
    """Easy mode: the ``app.store.authorize`` event's ``data`` (``expires`` is a Unix time)."""
    expires = (
        parse_time(data.get("expires")) if data.get("expires") else client.expiry(data.get("expires_in"))
    )
    return tokens.Tokens(str(data["access_token"]), data.get("refresh_token"), expires)


def _status(data: Mapping) -> tuple[str, str | None, str | None]:
    status = data.get("status") or {}
    if isinstance(status, str):
        status = {"slug": status}
    code = str(status.get("slug") or status.get("code") or "").strip().lower()
    custom = status.get("customized") or {}
    return code, *status_labels(STATUS_LABELS, code, custom.get("name") or status.get("name"))


def _items(data: Mapping) -> list[dict]:
    items = []
    for item_ in data.get("items") or []:
        if not isinstance(item_, Mapping):
            continue
        amounts = item_.get("amounts") or {}
        price = amounts.get("price_without_tax") or amounts.get("total") or item_.get("price")
        items.append(item(item_.get("name"), item_.get("sku"), item_.get("quantity"), price))
    return items


def _shipment(data: Mapping) -> tuple[str | None, str | None, str | None]:
    """(company, tracking number, tracking link): the ``shipping`` object or the first shipment."""
    shipping = data.get("shipping") or {}
    company = shipping.get("company") if isinstance(shipping.get("company"), str) else None
    if isinstance(shipping.get("company"), Mapping):
        company = shipping["company"].get("name")
    shipment = shipping.get("shipment") or {}
    number = shipping.get("shipment_reference") or shipment.get("tracking_number")
    link = shipment.get("tracking_link")
    for found in data.get("shipments") or []:
        company = company or found.get("courier_name")
        number = number or found.get("tracking_number")
        link = link or found.get("tracking_link")
    return company or None, (str(number) if number else None), link or None


def record_from(
    data: Mapping, store_id: str, *, event: str = "", when: datetime | None = None
) -> ShopOrderRecord:
    """A Salla order (a webhook's ``data`` or an Admin API order) as our record."""
    code, label_ar, label_en = _status(data)
    amounts = data.get("amounts") or {}
    total = amounts.get("total") or data.get("total") or {}
    tax = amounts.get("tax") or {}
    customer = data.get("customer") or {}
    company, tracking, link = _shipment(data)
    name = full_name(customer)
    urls = data.get("urls") or {}
    return ShopOrderRecord(
        platform=PLATFORM,
        store_id=str(store_id),
        external_id=str(data["id"]),
        number=str(data.get("reference_id") or data["id"]),
        status_code=code,
        label_ar=label_ar,
        label_en=label_en,
        total=money(total),
        currency=str(
            (total.get("currency") if isinstance(total, Mapping) else None) or data.get("currency") or "SAR"
        ),
        vat=money(tax.get("amount")) if tax.get("amount") is not None else None,
        payment_method=payment_method_code(data.get("payment_method")),
        payment_label=str(data.get("payment_method") or "") or None,
        # Salla's order carries no separate payment state; "awaiting payment" is one of its statuses.
        payment_status="pending" if code == "payment_pending" else None,
        shipping_company=company,
        tracking_number=tracking,
        tracking_url=link,
        dashboard_url=urls.get("admin") or f"https://s.salla.sa/orders/order/{data['id']}",
        customer_url=urls.get("customer") or None,
        items=_items(data),
        ordered_at=parse_time(data.get("date")),
        updated_at=when or parse_time(data.get("updated_at")),
        customer_email=customer.get("email") or None,
        customer_phone=e164(customer.get("mobile"), customer.get("mobile_code")),
        customer_name=name or None,
        is_creation=event == "order.created",
    )


# --- OAuth ---------------------------------------------------------------------------------------


def authorize_url(state: str, redirect_uri: str) -> str:
    query = {
        "client_id": _config("CLIENT_ID"),
        "response_type": "code",
        "redirect_uri": redirect_uri,
        "scope": "offline_access",
        "state": state,
    }
    return f"{_config('OAUTH_URL')}/oauth2/auth?{urlencode(query)}"


def _token_request(form: dict) -> tokens.Tokens:
    form |= {"client_id": _config("CLIENT_ID"), "client_secret": _config("CLIENT_SECRET")}
    answer = client.post_form(f"{_config('OAUTH_URL')}/oauth2/token", form)
    return tokens.Tokens(
        str(answer["access_token"]), answer.get("refresh_token"), client.expiry(answer.get("expires_in"))
    )


def exchange_code(code: str, redirect_uri: str) -> tuple[str, str | None, tokens.Tokens]:
    """The code flow's last step: (store id, store name, tokens)."""
    found = _token_request({"grant_type": "authorization_code", "code": code, "redirect_uri": redirect_uri})
    headers = {"Authorization": f"Bearer {found.access_token}", "Accept": "application/json"}
    info = client.get_once(f"{_config('OAUTH_URL')}/oauth2/user/info", headers)
    merchant = (info.get("data") or {}).get("merchant") or {}
    if not merchant.get("id"):
        raise client.TokenRejected("Salla did not say which store was connected.")
    return str(merchant["id"]), merchant.get("name"), found


def refresh(connection: ShopConnection, current: tokens.Tokens) -> tokens.Tokens:
    """New tokens for the store (Salla's refresh tokens are single-use: the new one is saved)."""
    if not current.refresh_token:
        raise client.TokenRejected("No refresh token stored; reconnect the Salla store.")
    fresh = _token_request({"grant_type": "refresh_token", "refresh_token": current.refresh_token})
    tokens.save_tokens(PLATFORM, connection.store_id, fresh)
    return fresh


def open_session(connection: ShopConnection, **options) -> client.ApiSession:
    current = tokens.tokens_of(connection)
    if tokens.is_due_for_refresh(current):
        current = refresh(connection, current)
    return client.ApiSession(
        _config("API_URL"),
        current,
        lambda t: {"Authorization": f"Bearer {t.access_token}", "Accept": "application/json"},
        lambda t: refresh(connection, t),
        **options,
    )


def orders_page(session: client.ApiSession, page: int, since: str | None) -> tuple[list[dict], bool]:
    """One page of the Admin API's orders (newest state), and whether more pages follow."""
    params: dict = {"page": page, "per_page": PAGE_SIZE}
    if since:
        params["from_date"] = since
    answer = session.get_json("/orders", params)
    pagination = answer.get("pagination") or {}
    current, last = int(pagination.get("currentPage") or page), int(pagination.get("totalPages") or page)
    return list(answer.get("data") or []), current < last


def customers_page(session: client.ApiSession, page: int) -> tuple[list[tuple], bool]:
    """One page of the Admin API's customers as (email, E.164 phone, name), and whether more follow."""
    answer = session.get_json("/customers", {"page": page, "per_page": PAGE_SIZE})
    pagination = answer.get("pagination") or {}
    rows = [
        (c.get("email") or None, e164(c.get("mobile"), c.get("mobile_code")), full_name(c))
        for c in answer.get("data") or []
        if isinstance(c, Mapping)
    ]
    return rows, int(pagination.get("currentPage") or page) < int(pagination.get("totalPages") or page)


def full_name(person: Mapping) -> str | None:
    name = " ".join(str(person.get(k) or "") for k in ("first_name", "last_name")).strip()
    return name or person.get("name") or None
