"""``POST /api/v1/orders``: the webhook a shop platform calls when an order is created or changes.

Authenticated by an HMAC-SHA256 of the raw body with the shared secret
(``HELPDESK_ORDERS_WEBHOOK_SECRET``), sent as ``X-Helpdesk-Signature: sha256=<hex>``; there is no
session, so CSRF does not apply and the blueprint is exempted. The body is one order object, a list,
or ``{"orders": [...]}``; every order is upserted by source + external id, all or none.
"""

from __future__ import annotations

import hashlib
import hmac
import json

from flask import Blueprint, current_app, jsonify, request
from sqlalchemy.exc import IntegrityError

from helpdesk.audit import service as audit
from helpdesk.customers.orders import BadOrder, parse_order, upsert_order
from helpdesk.extensions import csrf, db

bp = Blueprint("orders_webhook", __name__, url_prefix="/api/v1")
csrf.exempt(bp)

SIGNATURE_HEADER = "X-Helpdesk-Signature"


def signature_for(body: bytes, secret: str) -> str:
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def _error(status: int, message: str, **extra):
    return jsonify(error=message, **extra), status


@bp.post("/orders")
def receive_orders():
    secret = current_app.config.get("ORDERS_WEBHOOK_SECRET") or ""
    if not secret:
        return _error(503, "The orders webhook is not configured (HELPDESK_ORDERS_WEBHOOK_SECRET).")
    body = request.get_data(cache=False)
    given = request.headers.get(SIGNATURE_HEADER, "")
    if not hmac.compare_digest(given.encode(), signature_for(body, secret).encode()):
        return _error(401, f"Missing or wrong {SIGNATURE_HEADER} (sha256=<hex HMAC of the body>).")
    try:
        payload = json.loads(body.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        return _error(400, "The body is not JSON.")
    if isinstance(payload, dict) and "orders" in payload:
        payload = payload["orders"]
    rows = payload if isinstance(payload, list) else [payload]
    if not rows:
        return _error(400, "No orders in the body.")
    errors = []
    records = []
    for index, row in enumerate(rows):
        try:
            records.append(parse_order(row, default_source="webhook"))
        except BadOrder as error:
            errors.append({"index": index, "error": str(error)})
    if errors:
        return _error(400, "Invalid orders; nothing was saved.", errors=errors)
    created = updated = 0
    try:
        for record in records:
            _order, is_new = upsert_order(record)
            created += is_new
            updated += not is_new
    except IntegrityError:
        # Another delivery of the same new order (or customer) committed first; a retry updates it.
        db.session.rollback()
        return _error(409, "A concurrent request created the same order; retry the delivery.")
    audit.record("orders.webhook", target="orders", created=created, updated=updated, ip=request.remote_addr)
    db.session.commit()
    return jsonify(created=created, updated=updated), 200


receive_orders.signed_webhook = True  # read by the route-enumerating access tests
