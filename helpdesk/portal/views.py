"""Customer portal: home, my cases, a case's public conversation, new case, reply."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select
from sqlalchemy.orm import joinedload

from helpdesk.auth.permissions import customer_required
from helpdesk.companies import service as companies
from helpdesk.custom_fields import case_form
from helpdesk.custom_fields import service as field_service
from helpdesk.custom_fields.panel import active_request_types
from helpdesk.custom_fields.values import values_from_form
from helpdesk.extensions import db
from helpdesk.i18n import current_language
from helpdesk.kb import service as kb
from helpdesk.kb.case_form import DRAFT_KEY, VIEWED_KEY
from helpdesk.portal import case_rules
from helpdesk.portal.forms import CaseActionForm, CaseReplyForm, CsatForm, NewCaseForm
from helpdesk.refusals import handle_refusals, show_again_when_refused
from helpdesk.tickets import queries, service
from helpdesk.tickets.attachments import files_from_upload, send_attachment
from helpdesk.tickets.models import Attachment, Channel, MessageKind, Priority, Ticket
from helpdesk.transaction import unit_of_work

bp = Blueprint("portal", __name__)


def _refused(message: str):
    """A refused action: back to the case with the reason, or the new-case form kept as typed."""
    flash(message, "error")
    number = (request.view_args or {}).get("number")
    if number:
        return redirect(url_for("portal.case", number=number), 303)
    return render_template("errors/error.html", code=400, message=message), 400


handle_refusals(bp, _refused)


def own_case_or_404(number: str) -> Ticket:
    """A customer's own case; anyone else's is indistinguishable from a missing one."""
    ticket = queries.ticket_by_number(number)
    if ticket is None or ticket.customer_id != current_user.id:
        abort(404)
    return ticket


@bp.get("/")
def home():
    locale = current_language()
    return render_template(
        "portal/home.html",
        categories=[(c, n) for c, n in kb.categories_with_counts(locale) if n],
        popular=kb.popular_articles(locale),
    )


@bp.get("/portal/cases")
@customer_required
def cases():
    """The customer's cases; with company-wide visibility granted, their colleagues' too."""
    colleagues = companies.colleague_ids(current_user.id)
    query = queries.customer_tickets(current_user.id)
    if len(colleagues) > 1:
        query = (
            select(Ticket)
            .where(Ticket.customer_id.in_(colleagues), Ticket.merged_into_id.is_(None))
            .options(joinedload(Ticket.customer))
            .order_by(Ticket.updated_at.desc(), Ticket.id.desc())
        )
    tickets = db.session.scalars(query.limit(200)).all()
    return render_template("portal/cases.html", tickets=tickets, company_wide=len(colleagues) > 1)


@bp.route("/portal/cases/new", methods=["GET", "POST"])
@customer_required
def new_case():
    """First the request type (when the shop defined some), then the form with that type's fields."""
    key = request.values.get("type", "")[:60]
    request_type = case_form.request_type_by_key(key)
    if request.method == "GET" and request_type is None and key != case_form.OTHER:
        types = active_request_types()
        if types:
            return render_template("portal/choose_type.html", types=types, chosen=key), 400 if key else 200
    draft = session.get(DRAFT_KEY) or {}
    form = NewCaseForm(data=None if request.method == "POST" else draft)
    answers = case_form.case_answers(request_type, request.form) if request_type else None
    if form.validate_on_submit():
        show_again_when_refused(lambda message: _case_form_again(form, request_type, message))
        with unit_of_work():
            queue, order = case_rules.route_case(
                current_user,
                subject=form.subject.data,
                body=form.body.data,
                order=form.order,
                topic_id=form.topic.data,
                request_type=request_type,
            )
            ticket = service.open_ticket(
                customer=current_user,
                subject=form.subject.data,
                body=form.body.data,
                channel=Channel.PORTAL,
                queue=queue,
                order=order,
                priority=(request_type and request_type.default_priority) or Priority.NORMAL,
                tags=request_type.default_tags if request_type else (),
                attachments=files_from_upload(form.files.data or []),
            )
            # Articles opened from this form before sending it: the deflection that did not work.
            ticket.articles_viewed_before = len(session.get(VIEWED_KEY, []))
            if request_type is not None:
                field_service.set_request_type(ticket, request_type, actor=current_user)
                field_service.set_ticket_fields(
                    ticket,
                    answers.values,
                    actor=current_user,
                    locale=current_language(),
                    required=answers.required,
                )
        session.pop(DRAFT_KEY, None)
        session.pop(VIEWED_KEY, None)
        flash(_("Your case %(number)s has been opened.", number=ticket.number), "success")
        return redirect(url_for("portal.case", number=ticket.number), 303)
    return _render_case_form(form, request_type), 400 if form.errors else 200


def _render_case_form(form: NewCaseForm, request_type):
    """The case form; with a request type, its fields for the customer, as they were answered."""
    type_fields = case_form.customer_form_fields(request_type) if request_type else []
    values = (
        values_from_form([rf.field for rf in type_fields], request.form) if request.method == "POST" else {}
    )
    return render_template(
        "portal/new_case.html",
        form=form,
        request_type=request_type,
        type_fields=type_fields,
        values=values,
        orders=current_user.orders if type_fields else [],
        other=case_form.OTHER,
    )


def _case_form_again(form: NewCaseForm, request_type, message: str):
    """A refused new case: the form as sent, with the reason, so nothing typed is lost."""
    flash(message, "error")
    return _render_case_form(form, request_type), 400


@bp.get("/portal/cases/new/fields")
@customer_required
def case_type_fields():
    """The type's fields that show given the answers so far (htmx, on every change of the form)."""
    request_type = case_form.request_type_by_key(request.args.get("type", "")) or abort(404)
    answers = case_form.case_answers(request_type, request.args)
    return render_template(
        "portal/_type_fields.html",
        type_fields=answers.shown,
        values=answers.values,
        orders=current_user.orders,
        filtered=True,
    )


@bp.get("/portal/cases/<number>")
@customer_required
def case(number: str):
    """A case of the customer's own, or a colleague's when they may see the company's (read only)."""
    ticket = queries.ticket_by_number(number)
    if ticket is None or ticket.customer_id not in companies.colleague_ids(current_user.id):
        abort(404)
    return render_case(ticket)


def render_case(ticket: Ticket, form: CaseReplyForm | None = None, csat_form: CsatForm | None = None):
    rating = case_rules.rating_of(ticket)
    own = ticket.customer_id == current_user.id
    return render_template(
        "portal/case.html",
        ticket=ticket,
        messages=queries.thread(ticket, public_only=True),
        form=form or CaseReplyForm(),
        action_form=CaseActionForm(),
        csat_form=csat_form or CsatForm(obj=rating),
        rating=rating,
        can_rate=own and case_rules.can_rate(ticket),
        can_close=own and case_rules.can_close(ticket),
        can_reopen=own and case_rules.can_reopen(ticket),
        can_reply=own and case_rules.can_reply(ticket),
        expected_reply=case_rules.expected_reply(ticket),
    )


def _case_action(number: str, action, done_message: str):
    """Close or reopen one of the customer's own cases, then back to it."""
    ticket = own_case_or_404(number)
    if not CaseActionForm().validate_on_submit():
        abort(400)
    with unit_of_work():
        action(ticket, current_user)
    flash(done_message, "success")
    return redirect(url_for("portal.case", number=ticket.number), 303)


@bp.post("/portal/cases/<number>/close")
@customer_required
def close(number: str):
    return _case_action(number, case_rules.close_case, _("Your case is closed. Thank you!"))


@bp.post("/portal/cases/<number>/reopen")
@customer_required
def reopen(number: str):
    message = _("Your case is open again; we will get back to you.")
    return _case_action(number, case_rules.reopen_case, message)


@bp.post("/portal/cases/<number>/rating")
@customer_required
def rate(number: str):
    ticket = own_case_or_404(number)
    form = CsatForm()
    if not form.validate_on_submit():
        return render_case(ticket, csat_form=form), 400
    with unit_of_work():
        case_rules.rate_case(ticket, current_user, score=form.score.data, comment=form.comment.data)
    flash(_("Thank you for rating our support."), "success")
    return redirect(url_for("portal.case", number=ticket.number), 303)


@bp.post("/portal/cases/<number>/reply")
@customer_required
def reply(number: str):
    ticket = own_case_or_404(number)
    form = CaseReplyForm()
    if not form.validate_on_submit():
        return render_case(ticket, form=form), 400
    with unit_of_work():
        service.add_message(
            ticket,
            author=current_user,
            body=form.body.data,
            channel=Channel.PORTAL,
            attachments=files_from_upload(form.files.data or []),
        )
    return redirect(url_for("portal.case", number=ticket.number), 303)


@bp.get("/portal/attachments/<int:attachment_id>")
@customer_required
def attachment(attachment_id: int):
    """Only files on public replies of the cases the customer may read: their own, and their
    colleagues' when they may see the company's (the case page links them)."""
    found = db.session.get(Attachment, attachment_id)
    if (
        found is None
        or found.message.kind != MessageKind.REPLY
        or found.message.ticket.customer_id not in companies.colleague_ids(current_user.id)
    ):
        abort(404)
    return send_attachment(found)
