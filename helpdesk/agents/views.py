"""Agent workspace: the queue views and the ticket page."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from sqlalchemy import func, select

from helpdesk.agents.forms import ClaimForm, ReplyForm, StatusForm
from helpdesk.auth.permissions import staff_required
from helpdesk.dbtypes import utcnow
from helpdesk.extensions import db
from helpdesk.tickets import queries, service
from helpdesk.tickets.attachments import files_from_upload, send_attachment
from helpdesk.tickets.errors import DomainError
from helpdesk.tickets.models import Attachment, MessageKind, Status, Ticket

bp = Blueprint("agents", __name__, url_prefix="/agent")

VIEWS = {
    "unassigned": _l("Unassigned"),
    "mine": _l("Mine"),
    "open": _l("All open"),
    "breaching": _l("Breaching soon"),
    "solved": _l("Recently solved"),
}


@bp.get("")
@staff_required()
def queue():
    view = request.args.get("view", "open")
    if view not in VIEWS:
        abort(404)
    now = utcnow()
    query = queries.queue_query(view, current_user.id, now)
    after = request.args.get("after", "")
    if after:
        try:
            query = queries.after_cursor(query, after)
        except ValueError:
            abort(400, description=_("Invalid page cursor."))
    page_size = 50
    tickets = db.session.scalars(query.limit(page_size + 1)).unique().all()
    next_cursor = None
    if len(tickets) > page_size:
        tickets = tickets[:page_size]
        next_cursor = queries.cursor_of(tickets[-1])
    counts = {
        name: db.session.scalar(
            select(func.count(Ticket.id)).where(queries.queue_filter(name, current_user.id, now))
        )
        for name in VIEWS
    }
    return render_template(
        "agents/queue.html",
        tickets=tickets,
        view=view,
        views=VIEWS,
        counts=counts,
        next_cursor=next_cursor,
    )


def _ticket_or_404(number: str) -> Ticket:
    ticket = queries.ticket_by_number(number)
    if ticket is None:
        abort(404)
    return ticket


def _render_ticket(ticket: Ticket, reply_form: ReplyForm | None = None, status: int = 200):
    return render_template(
        "agents/ticket.html",
        ticket=ticket,
        messages=queries.thread(ticket, public_only=False),
        reply_form=reply_form or ReplyForm(version=ticket.version),
        status_form=StatusForm(status=ticket.status.value, version=ticket.version),
        claim_form=ClaimForm(version=ticket.version),
        MessageKind=MessageKind,
    ), status


@bp.get("/tickets/<number>")
@staff_required()
def ticket(number: str):
    return _render_ticket(_ticket_or_404(number))


@bp.post("/tickets/<number>/reply")
@staff_required()
def reply(number: str):
    ticket = _ticket_or_404(number)
    form = ReplyForm()
    if not form.validate_on_submit():
        return _render_ticket(ticket, reply_form=form, status=400)
    try:
        service.add_message(
            ticket,
            author=current_user,
            body=form.body.data,
            kind=MessageKind(form.kind.data),
            expected_version=form.version.data,
            attachments=files_from_upload(form.files.data or []),
        )
    except DomainError as error:
        db.session.rollback()
        flash(error.message, "error")
        return _render_ticket(_ticket_or_404(number), reply_form=form, status=409)
    return redirect(url_for("agents.ticket", number=ticket.number), 303)


@bp.post("/tickets/<number>/status")
@staff_required()
def change_status(number: str):
    ticket = _ticket_or_404(number)
    form = StatusForm()
    if not form.validate_on_submit():
        abort(400, description=_("Choose a valid status."))
    try:
        service.change_status(
            ticket, Status(form.status.data), actor=current_user, expected_version=form.version.data
        )
    except DomainError as error:
        db.session.rollback()
        flash(error.message, "error")
    return redirect(url_for("agents.ticket", number=number), 303)


@bp.post("/tickets/<number>/claim")
@staff_required()
def claim(number: str):
    ticket = _ticket_or_404(number)
    form = ClaimForm()
    if not form.validate_on_submit():
        abort(400, description=_("The form was incomplete."))
    try:
        service.assign(ticket, current_user, actor=current_user, expected_version=form.version.data)
    except DomainError as error:
        db.session.rollback()
        flash(error.message, "error")
    return redirect(url_for("agents.ticket", number=number), 303)


@bp.get("/attachments/<int:attachment_id>")
@staff_required()
def attachment(attachment_id: int):
    found = db.session.get(Attachment, attachment_id) or abort(404)
    return send_attachment(found)
