"""The WhatsApp channel's endpoints: Meta's webhook (the subscription handshake and signed deliveries,
stored and answered at once), the admin page that connects queues, and the template an agent sends
when the 24-hour window has closed.

The webhook has no session: it is CSRF-exempt and authenticated by ``X-Hub-Signature-256`` over the
raw body, checked before the body is read as JSON or stored.
"""

from __future__ import annotations

from flask import Blueprint, abort, flash, jsonify, redirect, render_template, request, url_for
from flask_babel import force_locale
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select
from sqlalchemy.orm import joinedload

from helpdesk.auth.models import Role
from helpdesk.auth.permissions import staff_required
from helpdesk.extensions import csrf, db, limiter
from helpdesk.refusals import handle_refusals, refused_goes_back_to, refused_shows_again
from helpdesk.tickets import queries
from helpdesk.tickets import service as tickets
from helpdesk.tickets.models import Channel, Queue
from helpdesk.transaction import unit_of_work
from helpdesk.whatsapp import ledger, outbound
from helpdesk.whatsapp.accounts import Settings, connect
from helpdesk.whatsapp.forms import AccountForm, TemplateForm
from helpdesk.whatsapp.graph import secret
from helpdesk.whatsapp.models import DEFAULT_GRAPH_URL, LedgerStatus, WhatsAppAccount, WhatsAppInbound

bp = Blueprint("whatsapp", __name__)


def _refused(message: str):
    return render_template("errors/error.html", code=400, message=message), 400


handle_refusals(bp, _refused)


@bp.get("/channels/whatsapp/webhook")
def webhook_handshake():
    """Meta's subscription check: echo ``hub.challenge`` when the verify token is ours."""
    args = request.args
    if args.get("hub.mode") != "subscribe" or not ledger.is_verify_token(args.get("hub.verify_token")):
        return jsonify(error="Wrong hub.mode or hub.verify_token."), 403
    challenge = args.get("hub.challenge", "")
    return challenge, 200, {"Content-Type": "text/plain; charset=utf-8"}


@bp.post("/channels/whatsapp/webhook")
@csrf.exempt
@limiter.exempt  # Meta's own servers, authenticated by signature: never throttled by address
def webhook():
    body = request.get_data(cache=False)
    if not ledger.is_signed(body, request.headers.get(ledger.SIGNATURE_HEADER)):
        return jsonify(error="Missing or wrong X-Hub-Signature-256."), 401
    payload = ledger.parse(body)
    if payload is None:
        return jsonify(error="The body is not a JSON object."), 400
    with unit_of_work():
        stored = ledger.store_delivery(body, payload)
    return jsonify(stored=stored), 200


webhook.signed_webhook = True  # read by the route-enumerating access and CSRF tests


def _account_form(account: WhatsAppAccount | None) -> AccountForm:
    form = AccountForm(obj=account)
    queues = db.session.scalars(select(Queue).where(Queue.is_active).order_by(Queue.slug)).all()
    form.queue_id.choices = [(q.id, q.name_for(current_user.language or "ar")) for q in queues]
    if account is None and not form.is_submitted():
        form.graph_url.data = DEFAULT_GRAPH_URL
    return form


def _render_accounts(form: AccountForm, status: int = 200):
    accounts = db.session.scalars(
        select(WhatsAppAccount).options(joinedload(WhatsAppAccount.queue)).order_by(WhatsAppAccount.id)
    ).all()
    waiting = db.session.scalar(
        select(db.func.count())
        .select_from(WhatsAppInbound)
        .where(WhatsAppInbound.status == LedgerStatus.QUEUED)
    )
    failed = db.session.scalar(
        select(db.func.count())
        .select_from(WhatsAppInbound)
        .where(WhatsAppInbound.status == LedgerStatus.FAILED)
    )
    missing = {
        a.id: [n for n in (a.token_env, a.app_secret_env, a.verify_token_env) if not secret(n)]
        for a in accounts
    }
    return render_template(
        "whatsapp/accounts.html",
        accounts=accounts,
        form=form,
        missing=missing,
        waiting=waiting,
        failed=failed,
        webhook_url=url_for("whatsapp.webhook", _external=True),
    ), status


@bp.route("/admin/whatsapp", methods=["GET", "POST"])
@staff_required(Role.ADMIN)
def accounts():
    form = _account_form(None)
    if not form.validate_on_submit():
        return _render_accounts(form, 400 if form.is_submitted() else 200)
    queue = db.get_or_404(Queue, form.queue_id.data)
    refused_shows_again(lambda: _render_accounts(form, 400), form.phone_number_id)
    settings = Settings(**{name: getattr(form, name).data for name in Settings.__dataclass_fields__})
    with unit_of_work():
        connect(queue, settings)
    flash(_("WhatsApp is connected to the queue."), "success")
    return redirect(url_for("whatsapp.accounts"), 303)


@bp.post("/agent/tickets/<number>/whatsapp-template")
@staff_required()
def send_template(number: str):
    """Outside the 24-hour window: the queue's approved template, in the chosen language, with the
    ticket number; it is kept on the ticket as the agent's reply."""
    ticket = queries.ticket_by_number(number)
    if ticket is None or ticket.channel != Channel.WHATSAPP:
        abort(404)
    form = TemplateForm()
    if not form.validate_on_submit():
        abort(400, description=_("Choose the template's language."))
    refused_goes_back_to("agents.ticket", number=number)
    account = outbound.account_for(ticket)
    name = account.template_name if account is not None else ""
    with unit_of_work():
        with force_locale(form.language.data):
            text = _(
                "WhatsApp template %(name)s sent (%(language)s).",
                name=name or "—",
                language=form.language.data,
            )
        message = tickets.add_message(
            ticket, author=current_user._get_current_object(), body=text, notify=False
        )
        outbound.queue_template(ticket, message, form.language.data)
    flash(_("The template is on its way to the customer's WhatsApp."), "success")
    return redirect(url_for("agents.ticket", number=number), 303)


@bp.app_template_global()
def whatsapp_of(ticket) -> dict:
    """For the ticket page: the 24-hour window and each message's WhatsApp sends."""
    return {
        "window": outbound.window_of(ticket),
        "sends": outbound.statuses_of(ticket),
        "template_form": TemplateForm(),
    }
