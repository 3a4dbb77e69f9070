"""Pages around the API: each staff user's tokens, the interactive docs, and (admins) webhooks."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select
from sqlalchemy.orm import joinedload, selectinload

from helpdesk.api import endpoints, tokens
from helpdesk.api.forms import EVENT_LABELS, SCOPE_LABELS, RevokeForm, TokenForm, WebhookForm
from helpdesk.api.models import ApiToken, DeliveryStatus, TokenScope, WebhookDelivery, WebhookEndpoint
from helpdesk.auth.models import Role
from helpdesk.auth.permissions import staff_required
from helpdesk.extensions import db
from helpdesk.transaction import unit_of_work

bp = Blueprint("api_pages", __name__)


def _render_tokens(form: TokenForm, new_secret: str | None = None, status: int = 200):
    everyone = current_user.has_role(Role.ADMIN)
    return render_template(
        "api/tokens.html",
        form=form,
        revoke_form=RevokeForm(),
        tokens=tokens.tokens_of(None if everyone else current_user),
        everyone=everyone,
        new_secret=new_secret,
        scope_labels=SCOPE_LABELS,
    ), status


@bp.get("/account/api-tokens")
@staff_required()
def token_list():
    return _render_tokens(TokenForm())


@bp.post("/account/api-tokens")
@staff_required()
def create_token():
    form = TokenForm()
    if not form.validate_on_submit():
        return _render_tokens(form, status=400)
    with unit_of_work():
        _token, secret = tokens.issue_token(
            current_user,
            name=form.name.data,
            scope=TokenScope(form.scope.data),
            actor=current_user,
            ip=request.remote_addr,
        )
    # Shown in this response only (never flashed: the session cookie would carry it).
    return _render_tokens(TokenForm(formdata=None), new_secret=secret, status=201)


@bp.post("/account/api-tokens/<int:token_id>/revoke")
@staff_required()
def revoke_token(token_id: int):
    if not RevokeForm().validate_on_submit():
        abort(400, description=_("The form was incomplete."))
    token = db.session.get(ApiToken, token_id) or abort(404)
    if not tokens.may_revoke(token, current_user):
        abort(404)  # someone else's token: don't tell it exists
    with unit_of_work():
        tokens.revoke_token(token, actor=current_user, ip=request.remote_addr)
    flash(_("The token %(name)s no longer works.", name=token.name), "success")
    return redirect(url_for("api_pages.token_list"), 303)


@bp.get("/api/v1/docs")
@staff_required()
def docs():
    return render_template("api/docs.html")


# --- webhooks (admins) ------------------------------------------------------------------------


@bp.get("/admin/webhooks")
@staff_required(Role.ADMIN)
def webhooks():
    found = db.session.scalars(select(WebhookEndpoint).order_by(WebhookEndpoint.id)).all()
    return render_template("api/webhooks.html", endpoints=found, event_labels=EVENT_LABELS)


@bp.route("/admin/webhooks/new", methods=["GET", "POST"])
@staff_required(Role.ADMIN)
def new_webhook():
    return _edit_webhook(None)


@bp.route("/admin/webhooks/<int:endpoint_id>", methods=["GET", "POST"])
@staff_required(Role.ADMIN)
def edit_webhook(endpoint_id: int):
    return _edit_webhook(db.session.get(WebhookEndpoint, endpoint_id) or abort(404))


def _edit_webhook(endpoint: WebhookEndpoint | None):
    form = WebhookForm(obj=endpoint)
    if not form.is_submitted() or not form.validate():
        status = 400 if form.is_submitted() else 200
        return render_template(
            "api/webhook.html", endpoint=endpoint, form=form, rotate_form=RevokeForm()
        ), status
    with unit_of_work():
        endpoint = endpoints.save_endpoint(
            endpoint,
            actor=current_user,
            url=form.url.data,
            description=form.description.data,
            events=form.events.data,
            is_active=form.is_active.data,
            ip=request.remote_addr,
        )
    flash(_("Webhook saved."), "success")
    return redirect(url_for("api_pages.edit_webhook", endpoint_id=endpoint.id), 303)


@bp.post("/admin/webhooks/<int:endpoint_id>/secret")
@staff_required(Role.ADMIN)
def rotate_secret(endpoint_id: int):
    endpoint = db.session.get(WebhookEndpoint, endpoint_id) or abort(404)
    if not RevokeForm().validate_on_submit():
        abort(400, description=_("The form was incomplete."))
    with unit_of_work():
        endpoints.rotate_secret(endpoint, actor=current_user, ip=request.remote_addr)
    flash(_("New signing secret created; update the receiver."), "success")
    return redirect(url_for("api_pages.edit_webhook", endpoint_id=endpoint.id), 303)


@bp.get("/admin/webhooks/deliveries")
@staff_required(Role.ADMIN)
def deliveries():
    query = (
        select(WebhookDelivery)
        .options(joinedload(WebhookDelivery.endpoint), selectinload(WebhookDelivery.attempt_log))
        .order_by(WebhookDelivery.id.desc())
        .limit(200)
    )
    endpoint_id = request.args.get("webhook", type=int)
    if endpoint_id:
        query = query.where(WebhookDelivery.endpoint_id == endpoint_id)
    status = request.args.get("status", "")
    if status in {s.value for s in DeliveryStatus}:
        query = query.where(WebhookDelivery.status == DeliveryStatus(status))
    return render_template(
        "api/deliveries.html",
        deliveries=db.session.scalars(query).all(),
        status=status,
        endpoint_id=endpoint_id,
        statuses=list(DeliveryStatus),
        retry_form=RevokeForm(),
    )


@bp.post("/admin/webhooks/deliveries/<int:delivery_id>/retry")
@staff_required(Role.ADMIN)
def retry_delivery(delivery_id: int):
    delivery = db.session.get(WebhookDelivery, delivery_id) or abort(404)
    if not RevokeForm().validate_on_submit():
        abort(400, description=_("The form was incomplete."))
    with unit_of_work():
        endpoints.retry_delivery(delivery, actor=current_user, ip=request.remote_addr)
    flash(_("The delivery will be sent again."), "success")
    return redirect(url_for("api_pages.deliveries"), 303)
