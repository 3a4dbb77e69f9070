"""Mail pages: failed inbound messages for admins, and the original .eml of a message for agents."""

from __future__ import annotations

from flask import Blueprint, Response, abort, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user
from flask_wtf import FlaskForm
from sqlalchemy import select
from sqlalchemy.orm import joinedload

from helpdesk.audit import service as audit
from helpdesk.auth.models import Role
from helpdesk.auth.permissions import staff_required
from helpdesk.extensions import db
from helpdesk.mail import inbound, ledger
from helpdesk.mail.forms import MailboxForm
from helpdesk.mail.mailboxes import mailbox_of, save_mailbox, security_of
from helpdesk.mail.models import InboundMessage, InboundStatus, Mailbox
from helpdesk.tickets.models import Queue

bp = Blueprint("mail", __name__)


def _eml_response(row: InboundMessage) -> Response:
    response = Response(row.raw, mimetype="message/rfc822")
    response.headers["Content-Disposition"] = f'attachment; filename="message-{row.id}.eml"'
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Content-Security-Policy"] = "default-src 'none'; sandbox"
    return response


@bp.get("/admin/mail/failed")
@staff_required(Role.ADMIN)
def failed():
    return render_template("mail/failed.html", messages=ledger.failed_messages(), retry_form=FlaskForm())


@bp.get("/admin/mail/inbound/<int:inbound_id>.eml")
@staff_required(Role.ADMIN)
def raw_email(inbound_id: int):
    return _eml_response(db.session.get(InboundMessage, inbound_id) or abort(404))


@bp.post("/admin/mail/inbound/<int:inbound_id>/retry")
@staff_required(Role.ADMIN)
def retry(inbound_id: int):
    row = db.session.get(InboundMessage, inbound_id) or abort(404)
    if not FlaskForm().validate_on_submit():
        abort(400, description=_("The form was incomplete."))
    if row.status != InboundStatus.FAILED:
        abort(409, description=_("This message is not marked as failed."))
    ledger.retry_failed(row)
    audit.record("mail.retried", actor=current_user, target=f"inbound:{row.id}")
    db.session.commit()
    result = inbound.process_inbound(row.id)
    if result.action == "failed":
        flash(_("The message still cannot be processed: %(error)s", error=result.error), "error")
    else:
        flash(_("The message was processed: %(ticket)s", ticket=result.ticket), "success")
    return redirect(url_for("mail.failed"), 303)


@bp.get("/agent/messages/<int:message_id>/original.eml")
@staff_required()
def original_email(message_id: int):
    row = db.session.scalar(
        select(InboundMessage).where(InboundMessage.ticket_message_id == message_id).limit(1)
    )
    return _eml_response(row or abort(404))


@bp.get("/admin/mail/mailboxes")
@staff_required(Role.ADMIN)
def mailboxes():
    queues = db.session.scalars(select(Queue).order_by(Queue.slug)).all()
    boxes = {m.queue_id: m for m in db.session.scalars(select(Mailbox).options(joinedload(Mailbox.queue)))}
    return render_template("mail/mailboxes.html", queues=queues, boxes=boxes)


@bp.route("/admin/mail/mailboxes/<int:queue_id>", methods=["GET", "POST"])
@staff_required(Role.ADMIN)
def edit_mailbox(queue_id: int):
    queue = db.session.get(Queue, queue_id) or abort(404)
    mailbox = mailbox_of(queue)
    form = MailboxForm(obj=mailbox)
    if mailbox is not None and not form.is_submitted():
        form.security.data = security_of(mailbox)
    if form.is_submitted():
        if not form.validate():
            return render_template("mail/mailbox.html", queue=queue, mailbox=mailbox, form=form), 400
        save_mailbox(
            queue,
            actor=current_user,
            host=form.host.data,
            port=form.port.data,
            security=form.security.data,
            username=form.username.data,
            password_env=form.password_env.data,
            password=form.password.data,
            folder=form.folder.data,
            move_to=form.move_to.data,
            is_active=form.is_active.data,
        )
        db.session.commit()
        flash(_("Mailbox saved."), "success")
        return redirect(url_for("mail.mailboxes"), 303)
    return render_template("mail/mailbox.html", queue=queue, mailbox=mailbox, form=form)
