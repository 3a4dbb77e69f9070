"""Customer portal: home, my cases, a case's public conversation, new case, reply."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user

from helpdesk.auth.permissions import customer_required
from helpdesk.extensions import db
from helpdesk.portal.forms import CaseReplyForm, NewCaseForm
from helpdesk.tickets import queries, service
from helpdesk.tickets.attachments import files_from_upload, send_attachment
from helpdesk.tickets.errors import DomainError
from helpdesk.tickets.models import Attachment, Channel, MessageKind, Ticket

bp = Blueprint("portal", __name__)


def own_case_or_404(number: str) -> Ticket:
    """A customer's own case; anyone else's is indistinguishable from a missing one."""
    ticket = queries.ticket_by_number(number)
    if ticket is None or ticket.customer_id != current_user.id:
        abort(404)
    return ticket


@bp.get("/")
def home():
    return render_template("portal/home.html")


@bp.get("/portal/cases")
@customer_required
def cases():
    tickets = db.session.scalars(queries.customer_tickets(current_user.id).limit(200)).all()
    return render_template("portal/cases.html", tickets=tickets)


@bp.route("/portal/cases/new", methods=["GET", "POST"])
@customer_required
def new_case():
    form = NewCaseForm()
    if form.validate_on_submit():
        try:
            ticket = service.open_ticket(
                customer=current_user,
                subject=form.subject.data,
                body=form.body.data,
                channel=Channel.PORTAL,
                attachments=files_from_upload(form.files.data or []),
            )
        except DomainError as error:
            db.session.rollback()
            flash(error.message, "error")
            return render_template("portal/new_case.html", form=form), 400
        flash(_("Your case %(number)s has been opened.", number=ticket.number), "success")
        return redirect(url_for("portal.case", number=ticket.number), 303)
    return render_template("portal/new_case.html", form=form), 400 if form.errors else 200


@bp.get("/portal/cases/<number>")
@customer_required
def case(number: str):
    ticket = own_case_or_404(number)
    return render_template(
        "portal/case.html",
        ticket=ticket,
        messages=queries.thread(ticket, public_only=True),
        form=CaseReplyForm(),
    )


@bp.post("/portal/cases/<number>/reply")
@customer_required
def reply(number: str):
    ticket = own_case_or_404(number)
    form = CaseReplyForm()
    if not form.validate_on_submit():
        messages = queries.thread(ticket, public_only=True)
        return render_template("portal/case.html", ticket=ticket, messages=messages, form=form), 400
    try:
        service.add_message(
            ticket,
            author=current_user,
            body=form.body.data,
            channel=Channel.PORTAL,
            attachments=files_from_upload(form.files.data or []),
        )
    except DomainError as error:
        db.session.rollback()
        flash(error.message, "error")
    return redirect(url_for("portal.case", number=ticket.number), 303)


@bp.get("/portal/attachments/<int:attachment_id>")
@customer_required
def attachment(attachment_id: int):
    """Only files on the customer's own tickets, and only on public replies."""
    found = db.session.get(Attachment, attachment_id)
    if (
        found is None
        or found.message.kind != MessageKind.REPLY
        or found.message.ticket.customer_id != current_user.id
    ):
        abort(404)
    return send_attachment(found)
