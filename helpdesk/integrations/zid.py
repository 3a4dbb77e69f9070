"""Zid: OAuth 2 code flow (two tokens: ``Authorization`` for the app, ``X-Manager-Token`` for the
store), webhooks, and Zid's order payloads mapped to ours.

Zid does not sign webhook bodies, and its *Create a Webhook* page documents no credentials either
(``event``, ``target_url``, ``original_id``, ``subscriber``, ``conditions``). So a delivery must
carry ``HELPDESK_ZID_WEBHOOK_SECRET`` one of two ways: in the ``target_url`` we register
(``?token=SECRET``, which any sender of that URL repeats), or as the password of HTTP Basic
credentials, for set-ups where Zid sends them back.

Documented shapes relied on (fixtures in ``tests/integrations/payloads.py``):
- OAuth: https://docs.zid.sa/authorization — ``POST https://oauth.zid.sa/oauth/token`` answers
  ``access_token`` (the manager token), ``authorization``, ``refresh_token``, ``expires_in``.
- Webhooks: https://docs.zid.sa/create-a-webhook and https://docs.zid.sa/webhooks (``order.create``,
  ``order.status.update``, ``order.payment_status.update``; the body is the order).
- Order: https://docs.zid.sa/webhook-events-order — ``id``, ``code``, ``store_id``,
  ``order_status {code, name}``, ``customer``, ``payment.method``, ``shipping.method.tracking``.
"""

from __future__ import annotations

import base64
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

PLATFORM = Platform.ZID
# Zid's dates carry no zone ("2026-12-01 10:00:00"); they are read as Saudi time, where its stores run.
ZID_TIME = ZoneInfo("Asia/Riyadh")
EVENTS = ("order.create", "order.status.update", "order.payment_status.update")
PAGE_SIZE = 100

# Zid's own names for its order statuses, in both languages (a payload carries one of them).
STATUS_LABELS = {
    "new": ("جديد", "New"),
    "preparing": ("جاري التجهيز", "Preparing"),
    "ready": ("جاهز", "Ready"),
    "indelivery": ("جاري التوصيل", "In delivery"),
    "delivered": ("تم التوصيل", "Delivered"),
    "cancelled": ("ملغي", "Cancelled"),
    "refunded": ("مسترجع", "Refunded"),
    "failed": ("فشل", "Failed"),
    "reversed": ("مرتجع", "Reversed"),
}


def _config(name: str) -> str:
    return current_app.config.get(f"ZID_{name}") or ""


def verify(headers: Mapping[str, str], body: bytes, args: Mapping[str, str] | None = None) -> bool:
    """The delivery carries the shared secret: the registered URL's ``token``, or Basic credentials."""
    secret = _config("WEBHOOK_SECRET")
    if not secret:
        return False
    token = (args or {}).get("token")
    if token:
        return hmac.compare_digest(token.encode(), secret.encode())
    given = headers.get("Authorization") or ""
    if not given.lower().startswith("basic "):
        return False
    try:
        decoded = base64.b64decode(given[6:].strip(), validate=True).decode()
    except (ValueError, UnicodeDecodeError):
        return False
    _user, _, password = decoded.partition(":")
    return hmac.compare_digest(password.encode(), secret.encode())


def basic_header(secret: str, user: str = "helpdesk") -> str:
    return "Basic " + base64.b64encode(f"{user}:{secret}".encode()).decode()


def envelope(payload: Mapping, event: str | None = None) -> tuple[str, str, datetime | None]:
    """(event, store id, when): Zid posts the order itself, so the event name comes from the URL we
    registered (``?event=order.status.update``) or an ``event`` key when present."""
    order = payload.get("order") if isinstance(payload.get("order"), Mapping) else payload
    name = str(payload.get("event") or event or "order.status.update")
    return name, str(order.get("store_id") or ""), parse_time(order.get("updated_at"), default_tz=ZID_TIME)


def record_from(
    data: Mapping, store_id: str, *, event: str = "", when: datetime | None = None
) -> ShopOrderRecord:
    order = data.get("order") if isinstance(data.get("order"), Mapping) else data
    status = order.get("order_status") or {}
    if isinstance(status, str):
        status = {"code": status}
    code = str(status.get("code") or "").strip().lower()
    label_ar, label_en = status_labels(STATUS_LABELS, code, status.get("name"))
    customer = order.get("customer") or {}
    method = ((order.get("payment") or {}).get("method")) or {}
    shipping = ((order.get("shipping") or {}).get("method")) or {}
    tracking = shipping.get("tracking") or {}
    items = [
        item(p.get("name"), p.get("sku"), p.get("quantity"), p.get("price"))
        for p in order.get("products") or []
        if isinstance(p, Mapping)
    ]
    template = _config("DASHBOARD_ORDER_URL") or "https://web.zid.sa/orders/{id}"
    return ShopOrderRecord(
        platform=PLATFORM,
        store_id=str(order.get("store_id") or store_id),
        external_id=str(order["id"]),
        number=str(order.get("code") or order["id"]),
        status_code=code,
        label_ar=label_ar,
        label_en=label_en,
        total=money(order.get("order_total")),
        currency=str(order.get("currency_code") or "SAR"),
        vat=money(order["vat"]) if order.get("vat") is not None else None,
        payment_method=payment_method_code(method.get("code")),
        payment_label=method.get("name") or None,
        payment_status=str(order.get("payment_status") or "").strip().lower() or None,
        shipping_company=shipping.get("courier") or shipping.get("name") or None,
        tracking_number=tracking.get("number") or shipping.get("waybill_tracking_id") or None,
        tracking_url=tracking.get("url") or None,
        dashboard_url=template.format(id=order["id"]),
        customer_url=order.get("order_url") or None,
        items=items,
        ordered_at=parse_time(order.get("created_at"), default_tz=ZID_TIME),
        updated_at=when or parse_time(order.get("updated_at"), default_tz=ZID_TIME),
        customer_email=customer.get("email") or None,
        customer_phone=e164(customer.get("mobile")),
        customer_name=customer.get("name") or None,
        is_creation=event == "order.create",
    )


# --- OAuth ---------------------------------------------------------------------------------------


def authorize_url(state: str, redirect_uri: str) -> str:
    query = {
        "client_id": _config("CLIENT_ID"),
        "redirect_uri": redirect_uri,
        "response_type": "code",
        "state": state,
    }
    return f"{_config('OAUTH_URL')}/oauth/authorize?{urlencode(query)}"


def _token_request(form: dict) -> tokens.Tokens:
    form |= {"client_id": _config("CLIENT_ID"), "client_secret": _config("CLIENT_SECRET")}
    answer = client.post_form(f"{_config('OAUTH_URL')}/oauth/token", form)
    return tokens.Tokens(
        str(answer["access_token"]),
        answer.get("refresh_token"),
        client.expiry(answer.get("expires_in")),
        authorization=answer.get("authorization") or answer.get("Authorization"),
    )


def _headers(found: tokens.Tokens) -> dict[str, str]:
    return {
        "Authorization": f"Bearer {found.authorization}",
        "X-Manager-Token": found.access_token,
        "Accept": "application/json",
        "Accept-Language": "ar",
    }


def exchange_code(code: str, redirect_uri: str) -> tuple[str, str | None, tokens.Tokens]:
    found = _token_request({"grant_type": "authorization_code", "code": code, "redirect_uri": redirect_uri})
    profile = client.get_once(f"{_config('API_URL')}/managers/account/profile", _headers(found))
    store = (profile.get("user") or {}).get("store") or {}
    if not store.get("id"):
        raise client.TokenRejected("Zid did not say which store was connected.")
    return str(store["id"]), store.get("title"), found


def refresh(connection: ShopConnection, current: tokens.Tokens) -> tokens.Tokens:
    if not current.refresh_token:
        raise client.TokenRejected("No refresh token stored; reconnect the Zid store.")
    fresh = _token_request({"grant_type": "refresh_token", "refresh_token": current.refresh_token})
    if not fresh.authorization:
        fresh = tokens.Tokens(
            fresh.access_token, fresh.refresh_token, fresh.expires_at, current.authorization
        )
    tokens.save_tokens(PLATFORM, connection.store_id, fresh)
    return fresh


def open_session(connection: ShopConnection, **options) -> client.ApiSession:
    current = tokens.tokens_of(connection)
    if tokens.is_due_for_refresh(current):
        current = refresh(connection, current)
    return client.ApiSession(
        _config("API_URL"), current, _headers, lambda t: refresh(connection, t), **options
    )


def orders_page(session: client.ApiSession, page: int, since: str | None) -> tuple[list[dict], bool]:
    """One page of the manager API's orders (https://docs.zid.sa/list-of-orders: ``per_page`` at most
    100, ``payload_type=default`` to include the products, ``date_from`` like
    ``2020-01-01T00:00:00.000+0000``), and whether more pages follow."""
    params: dict = {"page": page, "per_page": PAGE_SIZE, "payload_type": "default"}
    if since:
        params["date_from"] = f"{since}T00:00:00.000+0300" if len(since) == 10 else since
    answer = session.get_json("/managers/store/orders", params)
    orders = list(answer.get("orders") or [])
    total = answer.get("total_order_count")
    if total is not None:
        return orders, page * PAGE_SIZE < int(total)
    return orders, len(orders) == PAGE_SIZE  # a full page: there may be more


def customers_page(session: client.ApiSession, page: int) -> tuple[list[tuple], bool]:
    """One page of the store's customers as (email, E.164 phone, name), and whether to ask for the next:
    ``GET /v1/managers/store/customers`` answers ``{"customers": [...]}`` (the customer object of
    https://docs.zid.sa/get-customer-by-id). Its page size limit is not documented, so the sync asks
    until a page comes back empty."""
    answer = session.get_json("/managers/store/customers", {"page": page, "per_page": PAGE_SIZE})
    rows = [
        (c.get("email") or None, e164(c.get("mobile")), c.get("name") or None)
        for c in answer.get("customers") or []
        if isinstance(c, Mapping)
    ]
    return rows, bool(rows)
