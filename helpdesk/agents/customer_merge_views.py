"""Merging two customer records from a ticket: ``/agent/tickets/<number>/customer/merge`` finds the
other record (by name, email or phone) and merges it with the ticket's customer, keeping either."""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from helpdesk.agents.forms import CustomerMergeForm
from helpdesk.agents.views import _ticket_or_404, bp
from helpdesk.auth.permissions import staff_required
from helpdesk.customers.merging import find_customers, merge_customers
from helpdesk.customers.models import Customer
from helpdesk.extensions import db
from helpdesk.transaction import unit_of_work

MAX_QUERY_CHARS = 120


@bp.get("/tickets/<number>/customer/merge")
@staff_required()
def customer_merge(number: str):
    ticket = _ticket_or_404(number)
    text = request.args.get("q", "").strip()[:MAX_QUERY_CHARS]
    found = find_customers(text, besides=ticket.customer) if text else None
    return render_template(
        "agents/customer_merge.html", ticket=ticket, q=text, found=found, form=CustomerMergeForm()
    )


@bp.post("/tickets/<number>/customer/merge")
@staff_required()
def merge_customer(number: str):
    ticket = _ticket_or_404(number)
    form = CustomerMergeForm()
    if not form.validate_on_submit():
        abort(400, description=_("Choose the customer to merge with."))
    other = db.session.get(Customer, form.other_id.data) or abort(404)
    this = ticket.customer
    source, target = (other, this) if form.keep.data == "this" else (this, other)
    kept_name = target.name
    with unit_of_work():
        merge_customers(
            source,
            target,
            actor=current_user._get_current_object(),
            ip=request.remote_addr,
            phone=(form.phone.data or "").strip() or None,
        )
    flash(_("The two customer records are now one: %(name)s.", name=kept_name), "success")
    return redirect(url_for("agents.ticket", number=number), 303)
