"""The shop platforms' endpoints: their webhooks (verified, stored, answered at once), and the OAuth
connect/callback pages an admin uses to connect a store.

The webhooks have no session, so CSRF does not apply (the blueprint is exempt); the connect pages are
GET-only and guarded by the admin role, and the OAuth ``state`` ties a callback to its session.
"""

from __future__ import annotations

import json
import secrets
from functools import partial

from flask import Blueprint, abort, flash, jsonify, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from sqlalchemy import func, select

from helpdesk.auth.models import Role
from helpdesk.auth.permissions import staff_required
from helpdesk.customers.models import Customer
from helpdesk.extensions import csrf, db
from helpdesk.integrations import inbox, salla, tokens, zid
from helpdesk.integrations.connectors import connector
from helpdesk.integrations.models import InboxStatus, Platform, ShopConnection, ShopWebhook
from helpdesk.refusals import handle_refusals
from helpdesk.transaction import unit_of_work

bp = Blueprint("integrations", __name__, url_prefix="/integrations")
csrf.exempt(bp)


def _refused(message: str):
    return render_template("errors/error.html", code=400, message=message), 400


handle_refusals(bp, _refused)


def _verified(verify, refusal: str):
    """(raw body, JSON object, None), or a refusal as the third item: 401 before anything is read
    or stored when the delivery is not authenticated, 400 when it is not a JSON object."""
    body = request.get_data(cache=False)
    if not verify(request.headers, body):
        return body, None, (jsonify(error=refusal), 401)
    try:
        payload = json.loads(body.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        payload = None
    if not isinstance(payload, dict):
        return body, None, (jsonify(error="The body is not a JSON object."), 400)
    return body, payload, None


@bp.post("/salla/webhook")
def salla_webhook():
    body, payload, refused = _verified(salla.verify, "Missing or wrong X-Salla-Signature.")
    if refused:
        return refused
    event, store_id, _when = salla.envelope(payload)
    data = payload.get("data")
    if event == "app.store.authorize" and not (
        store_id and isinstance(data, dict) and data.get("access_token")
    ):
        return jsonify(error="app.store.authorize needs the merchant and data.access_token."), 400
    with unit_of_work():
        if event == "app.store.authorize":
            # Easy mode: the tokens themselves arrive here; they are stored encrypted, never as received.
            tokens.save_tokens(Platform.SALLA, store_id, salla.tokens_from_authorize(data))
            return jsonify(stored=True), 200
        if event == "app.uninstalled":
            tokens.forget_tokens(Platform.SALLA, store_id)
        stored = inbox.store_delivery(Platform.SALLA, event, body)
    return jsonify(stored=stored), 200


salla_webhook.signed_webhook = True  # read by the route-enumerating access tests


@bp.post("/zid/webhook")
def zid_webhook():
    body, payload, refused = _verified(
        partial(zid.verify, args=request.args), "Missing or wrong token (or Basic credentials)."
    )
    if refused:
        return refused
    event, _store_id, _when = zid.envelope(payload, request.args.get("event"))
    with unit_of_work():
        stored = inbox.store_delivery(Platform.ZID, event, body)
    return jsonify(stored=stored), 200


zid_webhook.signed_webhook = True


@bp.get("")
@staff_required(Role.ADMIN)
def connections():
    rows = db.session.scalars(
        select(ShopConnection).order_by(ShopConnection.platform, ShopConnection.store_id)
    )
    queued = dict(
        db.session.execute(select(ShopWebhook.status, func.count()).group_by(ShopWebhook.status)).all()
    )
    return render_template(
        "integrations/connections.html",
        connections=list(rows),
        queued=queued.get(InboxStatus.QUEUED, 0),
        failed=queued.get(InboxStatus.FAILED, 0),
    )


def _platform(name: str) -> Platform:
    try:
        return Platform(name)
    except ValueError:
        abort(404)


@bp.get("/<name>/connect")
@staff_required(Role.ADMIN)
def connect(name: str):
    platform = _platform(name)
    state = secrets.token_urlsafe(24)
    session[f"oauth_state_{platform.value}"] = state
    callback = url_for("integrations.callback", name=platform.value, _external=True)
    return redirect(connector(platform).authorize_url(state, callback))


@bp.get("/<name>/callback")
@staff_required(Role.ADMIN)
def callback(name: str):
    platform = _platform(name)
    expected = session.pop(f"oauth_state_{platform.value}", None)
    if not expected or not secrets.compare_digest(expected, request.args.get("state", "")):
        abort(400)
    code = request.args.get("code") or abort(400)
    callback_url = url_for("integrations.callback", name=platform.value, _external=True)
    store_id, store_name, found = connector(platform).exchange_code(code, callback_url)
    with unit_of_work():
        tokens.save_tokens(platform, store_id, found, store_name=store_name)
    flash(_("The store is connected. Run the sync to bring in its earlier orders."), "success")
    return redirect(url_for("integrations.connections"))


@bp.get("/customers/<int:customer_id>/orders")
@staff_required()
def customer_orders(customer_id: int):
    """The panel's shop orders again (htmx polls it while the ticket is open; ``order``: the ticket's)."""
    customer = db.get_or_404(Customer, customer_id)
    ticket_order_id = request.args.get("order", type=int)
    return render_template(
        "integrations/_shop_orders.html", customer=customer, ticket_order_id=ticket_order_id
    )
