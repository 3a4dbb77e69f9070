"""Agent workspace: the queue views and the ticket page."""

from __future__ import annotations

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_babel import ngettext
from flask_login import current_user
from sqlalchemy import select
from sqlalchemy.orm.exc import StaleDataError

from helpdesk.agents import saved_views
from helpdesk.agents.articles import article_url, find_articles_for_agent
from helpdesk.agents.forms import (
    BulkForm,
    ClaimForm,
    MacroApplyForm,
    MergeForm,
    PresenceForm,
    ReplyForm,
    SavedViewForm,
    StatusForm,
    TicketEditForm,
)
from helpdesk.agents.queue_filters import FILTER_ARGS, BadQueueFilter, queue_filters
from helpdesk.agents.suggestions import suggested_answers, written_language
from helpdesk.auth.models import StaffUser
from helpdesk.auth.permissions import staff_required
from helpdesk.custom_fields import service as field_service
from helpdesk.custom_fields.models import FieldType, RequestType
from helpdesk.custom_fields.panel import fields_panel
from helpdesk.custom_fields.values import InvalidFieldValue, active_fields, values_from_form
from helpdesk.customers.panel import all_earlier_tickets, all_orders, customer_panel, ticket_order_number
from helpdesk.dbtypes import utcnow
from helpdesk.extensions import db, htmx
from helpdesk.i18n import current_language
from helpdesk.refusals import handle_refusals, refusal_message, refused_shows_again
from helpdesk.tickets import assignment, presence, queries, replies, service
from helpdesk.tickets import bulk as bulk_actions
from helpdesk.tickets import macros as macro_service
from helpdesk.tickets.attachments import files_from_upload, send_attachment
from helpdesk.tickets.errors import DomainError
from helpdesk.tickets.models import (
    Attachment,
    Macro,
    MessageKind,
    Priority,
    Queue,
    Status,
    Ticket,
)
from helpdesk.tickets.search_index import similar_solved_tickets
from helpdesk.transaction import unit_of_work

bp = Blueprint("agents", __name__, url_prefix="/agent")

VIEWS = {
    "unassigned": _l("Unassigned"),
    "mine": _l("Mine"),
    "open": _l("All open"),
    "pending": _l("Pending"),
    "on_hold": _l("On hold"),
    "breaching": _l("Breaching soon"),
    "overdue": _l("Overdue"),
    "solved": _l("Recently solved"),
}
SORT_LABELS = {
    "due": _l("SLA due time"),
    "updated": _l("Last updated"),
    "created": _l("Created"),
    "priority": _l("Priority"),
}
# Custom fields the filter bar offers as a list (any filterable field works as a cf_<key> argument).
FILTER_CHOICE_TYPES = (FieldType.DROPDOWN, FieldType.MULTI_SELECT, FieldType.YES_NO)
# --- the queue ---------------------------------------------------------------------------------


def _filters_from_request(fields) -> tuple[queries.QueueFilters, dict[str, str]]:
    """The page's filters and its field filters' arguments; a value that cannot be used is a 400."""
    try:
        return queue_filters(request.args, fields, locale=current_language(), correlated=True)
    except (BadQueueFilter, InvalidFieldValue) as refused:
        abort(400, description=refused.message)


def _all_views(queues: list[Queue]) -> dict[str, str]:
    views = dict(VIEWS)
    for q in queues:
        views[f"{queries.QUEUE_VIEW_PREFIX}{q.id}"] = q.name_for(current_language())
    return views


def _agents() -> list[StaffUser]:
    return list(db.session.scalars(select(StaffUser).where(StaffUser.is_active).order_by(StaffUser.name)))


def _active_queues() -> list[Queue]:
    return list(db.session.scalars(select(Queue).where(Queue.is_active).order_by(Queue.name_en)))


@bp.get("")
@staff_required()
def queue():
    queues = _active_queues()
    views = _all_views(queues)
    view = request.args.get("view", "open")
    if view not in views:
        abort(404)
    sort = request.args.get("sort", "due")
    if sort not in queries.SORTS:
        abort(400, description=_("Unknown sort order."))
    fields = active_fields()
    filters, field_args = _filters_from_request(fields)
    try:
        page = queries.queue_page(
            view,
            user_id=current_user.id,
            filters=filters,
            sort=sort,
            after=request.args.get("after", ""),
            page_size=current_app.config["PAGE_SIZE"],
        )
    except queries.BadCursor:
        abort(400, description=_("Invalid page cursor."))
    # Links keep the view, the filters and the sort; "after" is added by the next-page link.
    args = {"view": view, **{k: request.args[k] for k in FILTER_ARGS if request.args.get(k)}, **field_args}
    if sort != "due":
        args["sort"] = sort
    mine = saved_views.my_queue_ids(current_user, queues)
    my_views = saved_views.visible_views(current_user, mine)
    save_form = SavedViewForm()
    save_form.share.choices = [
        ("", _("Only me")),
        *[
            (q.id, _("Shared with %(queue)s", queue=q.name_for(current_language())))
            for q in saved_views.shareable_queues(current_user, queues, mine)
        ],
    ]
    context = {
        "saved_views": my_views,
        "saved_counts": saved_views.view_counts(
            my_views, fields, user_id=current_user.id, now=utcnow(), locale=current_language()
        ),
        "save_form": save_form,
        "saved_args": {k: v for k, v in args.items() if k != "after"},
        "tickets": page.tickets,
        "next_cursor": page.next_cursor,
        "view": view,
        "views": views,
        "counts": queries.view_counts(current_user.id, utcnow()),
        "sort": sort,
        "sorts": SORT_LABELS,
        "args": args,
        "queues": queues,
        "agents": _agents(),
        "filter_fields": [f for f in fields if f.type in FILTER_CHOICE_TYPES],
        "bulk_form": BulkForm(),
        "is_next_page": bool(request.args.get("after")),
    }
    if htmx and request.headers.get("HX-Target") == "queue-results":
        # The list, plus the view counts swapped in out of band, so a refresh updates both.
        return render_template("agents/_queue_results.html", oob=True, **context)
    return render_template("agents/queue.html", **context)


def _bulk_targets(ids: list[str]) -> list[Ticket]:
    wanted = sorted({int(i) for i in ids if i.isdigit()})[:200]
    if not wanted:
        return []
    return list(db.session.scalars(select(Ticket).where(Ticket.id.in_(wanted)).order_by(Ticket.id)))


@bp.post("/bulk")
@staff_required()
def bulk():
    """One action on the selected tickets; each ticket is its own transaction, failures are listed."""
    form = BulkForm()
    back = request.form.get("next") or url_for("agents.queue")
    if not back.startswith("/agent"):
        back = url_for("agents.queue")
    if not form.validate_on_submit():
        abort(400, description=_("Choose an action and a value."))
    tickets = _bulk_targets(request.form.getlist("ticket"))
    if not tickets:
        flash(_("Select at least one ticket."), "warning")
        return redirect(back, 303)
    try:
        apply = bulk_actions.bulk_operation(
            form.action.data,
            form.value.data.strip(),
            actor=current_user._get_current_object(),
            cap=current_app.config["MAX_OPEN_TICKETS_PER_AGENT"],
        )
    except bulk_actions.BadBulkAction as error:
        abort(400, description=str(error))
    done, failed = 0, []
    for ticket in tickets:
        try:
            with unit_of_work():
                apply(ticket)
            done += 1
        except (DomainError, StaleDataError) as error:
            failed.append(f"{ticket.number}: {refusal_message(error)}")
    if done:
        flash(ngettext("%(num)d ticket updated.", "%(num)d tickets updated.", done), "success")
    for message in failed:
        flash(message, "error")
    return redirect(back, 303)


# --- the ticket page ---------------------------------------------------------------------------


def _ticket_or_404(number: str) -> Ticket:
    ticket = queries.ticket_by_number(number)
    if ticket is None:
        abort(404)
    return ticket


def _edit_form(ticket: Ticket, agents: list[StaffUser], queues: list[Queue], formdata=None) -> TicketEditForm:
    form = TicketEditForm(
        formdata=formdata,
        status=ticket.status.value,
        priority=ticket.priority.value,
        queue=str(ticket.queue_id or ""),
        assignee=str(ticket.assignee_id or ""),
        tags=", ".join(t.name for t in ticket.tags),
        version=ticket.version,
    )
    # The current queue and assignee stay choosable even if since deactivated.
    queues = queues + [q for q in [ticket.queue] if q is not None and q not in queues]
    agents = agents + [a for a in [ticket.assignee] if a is not None and a not in agents]
    form.queue.choices = [("", "—")] + [(str(q.id), q.name_for(current_language())) for q in queues]
    form.assignee.choices = [("", _("Unassigned"))] + [(str(a.id), a.name) for a in agents]
    return form


def _render_ticket(ticket: Ticket, reply_form: ReplyForm | None = None, status: int = 200):
    locale = current_language()
    agents, queues = _agents(), _active_queues()
    messages = queries.thread(ticket, public_only=False)
    written = written_language(ticket, messages)  # the customer's: macros and articles in it first
    macros = macro_service.active_macros(written)
    macro_form = MacroApplyForm(version=ticket.version)
    macro_form.macro.choices = [(m.id, m.name) for m in macros]
    return render_template(
        "agents/ticket.html",
        ticket=ticket,
        messages=messages,
        written_language=written,
        reply_form=reply_form or ReplyForm(version=ticket.version),
        status_form=StatusForm(status=ticket.status.value, version=ticket.version),
        claim_form=ClaimForm(version=ticket.version),
        edit_form=_edit_form(ticket, agents, queues),
        merge_form=MergeForm(version=ticket.version),
        macro_form=macro_form,
        presence_form=PresenceForm(),
        others=presence.others_present(ticket.id, current_user.id),
        panel=customer_panel(ticket, locale),
        fields_zone=fields_panel(ticket, locale),
        staff_names={a.email.lower(): a.name for a in agents},
        MessageKind=MessageKind,
    ), status


# Forms whose refusal shows the ticket page again at once (409), with the agent's draft reply kept;
# a refused one-click action (status, claim, round-robin) goes back to the page with the reason.
_SHOWN_AGAIN_WHEN_REFUSED = {"agents.reply", "agents.edit", "agents.merge", "agents.apply_macro"}


def _refused(message: str):
    """A refused write (a broken rule, or a stale or lost write), with the reason, on current data."""
    flash(message, "error")
    number = (request.view_args or {}).get("number")
    ticket = queries.ticket_by_number(number) if number else None
    if ticket is None:
        return render_template("errors/error.html", code=400, message=message), 400
    if request.endpoint not in _SHOWN_AGAIN_WHEN_REFUSED:
        return redirect(url_for("agents.ticket", number=ticket.number), 303)
    reply_form = None
    if request.endpoint == "agents.reply":
        # The draft is kept, on the version now shown: the page has the colleague's change in front
        # of the agent, so sending the draft again is a decision made on current data.
        reply_form = ReplyForm()
        reply_form.version.raw_data, reply_form.version.data = None, ticket.version
    return _render_ticket(ticket, reply_form=reply_form, status=409)


handle_refusals(bp, _refused)


@bp.get("/tickets/<number>")
@staff_required()
def ticket(number: str):
    found = _ticket_or_404(number)
    page = _render_ticket(found)
    with unit_of_work():
        presence.mark_present(found.id, current_user.id)
    return page


@bp.get("/tickets/<number>/similar")
@staff_required()
def similar(number: str):
    """Similar solved tickets: loaded after the ticket page (htmx), or a small page without JS."""
    found = _ticket_or_404(number)
    template = "agents/_similar.html" if htmx else "agents/similar.html"
    return render_template(template, ticket=found, similar=similar_solved_tickets(found))


@bp.get("/tickets/<number>/suggested")
@staff_required()
def suggested(number: str):
    """Articles and macros for the customer's latest message: loaded after the ticket page
    (htmx), or a small page without JS."""
    found = _ticket_or_404(number)
    template = "agents/_suggested_answers.html" if htmx else "agents/suggested_answers.html"
    return render_template(template, ticket=found, answers=suggested_answers(found))


@bp.get("/tickets/<number>/customer/orders")
@staff_required()
def customer_orders(number: str):
    """All the customer's orders: swapped into the panel (htmx), or a page without JS."""
    found = _ticket_or_404(number)
    orders = all_orders(found, current_language())
    return _customer_history(found, "orders", orders=orders, highlighted=ticket_order_number(found))


@bp.get("/tickets/<number>/customer/tickets")
@staff_required()
def customer_tickets(number: str):
    """All the customer's other tickets: swapped into the panel (htmx), or a page without JS."""
    found = _ticket_or_404(number)
    return _customer_history(found, "tickets", tickets=all_earlier_tickets(found))


def _customer_history(ticket: Ticket, part: str, **lists):
    template = "agents/_customer_history_part.html" if htmx else "agents/customer_history.html"
    return render_template(template, ticket=ticket, part=part, **lists)


@bp.post("/tickets/<number>/reply")
@staff_required()
def reply(number: str):
    ticket = _ticket_or_404(number)
    form = ReplyForm()
    if not form.validate_on_submit():
        return _render_ticket(ticket, reply_form=form, status=400)
    then_status = Status(form.then_status.data) if form.then_status.data else None
    with unit_of_work():
        replies.send_reply(
            ticket,
            author=current_user._get_current_object(),
            body=form.body.data,
            kind=MessageKind(form.kind.data),
            expected_version=form.version.data,
            attachments=files_from_upload(form.files.data or []),
            then_status=then_status,
        )
    flash(replies.sent_message(MessageKind(form.kind.data), then_status), "success")
    return redirect(url_for("agents.ticket", number=ticket.number), 303)


@bp.post("/tickets/<number>/status")
@staff_required()
def change_status(number: str):
    ticket = _ticket_or_404(number)
    form = StatusForm()
    if not form.validate_on_submit():
        abort(400, description=_("Choose a valid status."))
    with unit_of_work():
        service.change_status(
            ticket, Status(form.status.data), actor=current_user, expected_version=form.version.data
        )
    return redirect(url_for("agents.ticket", number=number), 303)


@bp.post("/tickets/<number>/claim")
@staff_required()
def claim(number: str):
    ticket = _ticket_or_404(number)
    form = ClaimForm()
    if not form.validate_on_submit():
        abort(400, description=_("The form was incomplete."))
    with unit_of_work():
        assignment.claim(ticket, current_user._get_current_object(), expected_version=form.version.data)
    flash(_("%(number)s is assigned to you.", number=number), "success")
    return redirect(url_for("agents.ticket", number=number), 303)


@bp.post("/tickets/<number>/round-robin")
@staff_required()
def round_robin(number: str):
    """Hand the ticket to the next available member of its queue."""
    ticket = _ticket_or_404(number)
    form = ClaimForm()
    if not form.validate_on_submit():
        abort(400, description=_("The form was incomplete."))
    with unit_of_work():
        service.check_version(ticket, form.version.data)
        agent = assignment.assign_round_robin(
            ticket,
            actor=current_user._get_current_object(),
            cap=current_app.config["MAX_OPEN_TICKETS_PER_AGENT"],
        )
    flash(_("Assigned to %(name)s.", name=agent.name), "success")
    return redirect(url_for("agents.ticket", number=number), 303)


@bp.post("/tickets/<number>/edit")
@staff_required()
def edit(number: str):
    """Status, priority, queue, assignee and tags in one transaction, checked against the version."""
    ticket = _ticket_or_404(number)
    agents, queues = _agents(), _active_queues()
    form = _edit_form(ticket, agents, queues, formdata=request.form)
    if not form.validate_on_submit():
        problems = [str(e) for errors in form.errors.values() for e in errors]
        abort(400, description=" ".join(problems) or _("The form was incomplete."))
    by_id = {str(a.id): a for a in [*agents, ticket.assignee] if a is not None}
    queue_by_id = {str(q.id): q for q in [*queues, ticket.queue] if q is not None}
    with unit_of_work():
        service.update_ticket(
            ticket,
            actor=current_user._get_current_object(),
            expected_version=form.version.data,
            priority=Priority(form.priority.data),
            queue=queue_by_id.get(form.queue.data),
            assignee=by_id.get(form.assignee.data),
            tags=(form.tags.data or "").split(","),
            status=Status(form.status.data),
        )
    flash(_("Ticket updated."), "success")
    return redirect(url_for("agents.ticket", number=number), 303)


def _render_fields_zone(ticket: Ticket, zone, status: int = 200):
    if htmx:
        return render_template("agents/_ticket_fields.html", ticket=ticket, fields_zone=zone), status
    return _render_ticket(ticket, status=status)


@bp.post("/tickets/<number>/fields")
@staff_required()
def save_fields(number: str):
    """The custom fields and the request type; refused values are shown beside their inputs."""
    ticket = _ticket_or_404(number)
    locale = current_language()
    zone = fields_panel(ticket, locale, formdata=request.form)
    if not zone.form.validate_on_submit():
        abort(400, description=" ".join(str(e) for errs in zone.form.errors.values() for e in errs))
    chosen = (
        db.session.get(RequestType, int(zone.form.request_type.data)) if zone.form.request_type.data else None
    )
    submitted = values_from_form(zone.fields, request.form)

    zone.values.update(submitted)  # a refused save shows what the agent wrote
    refused_shows_again(lambda: _render_fields_zone(ticket, zone, 400))
    version_before = ticket.version
    with unit_of_work():
        field_service.set_request_type(ticket, chosen, actor=current_user._get_current_object())
        field_service.set_ticket_fields(
            ticket,
            submitted,
            actor=current_user._get_current_object(),
            locale=locale,
            required=field_service.required_for_agents(),
        )
    flash(_("Fields saved."), "success")
    if htmx and ticket.version == version_before:
        return _render_fields_zone(ticket, fields_panel(ticket, locale))
    # A new request type changed the ticket itself: the whole page reloads (its forms' versions).
    response = redirect(url_for("agents.ticket", number=number), 303)
    if htmx:
        response.headers["HX-Redirect"] = response.location
    return response


@bp.post("/tickets/<number>/merge")
@staff_required()
def merge(number: str):
    source = _ticket_or_404(number)
    form = MergeForm()
    if not form.validate_on_submit():
        abort(400, description=_("Give the number of the ticket to merge into."))
    target = queries.ticket_by_number(form.target.data.strip())
    if target is None:
        flash(_("There is no ticket %(number)s.", number=form.target.data.strip()), "error")
        return redirect(url_for("agents.ticket", number=number), 303)
    with unit_of_work():
        service.check_version(source, form.version.data)
        service.merge(source, target, actor=current_user._get_current_object())
    flash(_("%(source)s was merged into %(target)s.", source=source.number, target=target.number), "success")
    return redirect(url_for("agents.ticket", number=target.number), 303)


@bp.post("/tickets/<number>/macro")
@staff_required()
def apply_macro(number: str):
    ticket = _ticket_or_404(number)
    form = MacroApplyForm()
    form.macro.choices = [(m.id, m.name) for m in macro_service.active_macros()]
    if not form.validate_on_submit():
        abort(400, description=_("Choose a macro."))
    macro = db.session.get(Macro, form.macro.data) or abort(404)
    with unit_of_work():
        macro_service.apply_macro(
            macro, ticket, agent=current_user._get_current_object(), expected_version=form.version.data
        )
    return redirect(url_for("agents.ticket", number=number), 303)


@bp.get("/tickets/<number>/macros/<int:macro_id>/text")
@staff_required()
def macro_text(number: str, macro_id: int):
    """The macro's reply for this ticket as plain text, to edit in the reply box before sending."""
    ticket = _ticket_or_404(number)
    macro = db.session.get(Macro, macro_id) or abort(404)
    text = macro_service.render_macro(macro, ticket, current_user._get_current_object())
    return text, 200, {"Content-Type": "text/plain; charset=utf-8"}


@bp.post("/tickets/<number>/presence")
@staff_required()
def ticket_presence(number: str):
    """The page's poll: note that this agent is here (and typing), answer with who else is."""
    ticket = _ticket_or_404(number)
    form = PresenceForm()
    if not form.validate_on_submit():
        abort(400, description=_("The form was incomplete."))
    with unit_of_work():
        presence.mark_present(ticket.id, current_user.id, typing=bool(form.typing.data))
    return render_template(
        "agents/_presence.html", others=presence.others_present(ticket.id, current_user.id)
    )


@bp.get("/articles")
@staff_required()
def article_search():
    """Inline KB search for the reply box (htmx fragment, or a small page without JS)."""
    text = request.args.get("q", "")[:200]
    language = request.args.get("lang") or current_language()
    if language not in current_app.config["LANGUAGES"]:
        abort(400, description=_("There are no articles in that language."))
    articles = find_articles_for_agent(text, language)
    found = [(a, article_url(a)) for a in articles]
    template = "agents/_articles.html" if htmx else "agents/articles.html"
    return render_template(template, articles=found, q=text, searched_language=language)


@bp.get("/attachments/<int:attachment_id>")
@staff_required()
def attachment(attachment_id: int):
    found = db.session.get(Attachment, attachment_id) or abort(404)
    return send_attachment(found)


# Modules that register more routes on bp (imported last: they import bp from here).
from helpdesk.agents import customer_merge_views, macro_views, saved_view_views, search_views  # noqa: E402,F401
