"""Customer privacy for admins: find a customer, download all their data, erase them."""

from __future__ import annotations

import json

from flask import Response, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import func, or_, select

from helpdesk.admin.forms import EraseCustomerForm
from helpdesk.admin.views import bp
from helpdesk.auth.models import Role
from helpdesk.auth.permissions import staff_required
from helpdesk.customers import privacy
from helpdesk.customers.models import Customer, CustomerEmail
from helpdesk.extensions import db
from helpdesk.tickets.models import Ticket
from helpdesk.transaction import unit_of_work

PAGE_SIZE = 50


@bp.get("/customers")
@staff_required(Role.ADMIN)
def customers():
    q = request.args.get("q", "").strip()[:200]
    query = select(Customer).order_by(Customer.id.desc()).limit(PAGE_SIZE)
    if q:
        matching = select(CustomerEmail.customer_id).where(
            CustomerEmail.email.contains(q.lower(), autoescape=True)
        )
        query = query.where(
            or_(Customer.id.in_(matching), func.lower(Customer.name).contains(q.lower(), autoescape=True))
        )
    return render_template("admin/customers.html", customers=db.session.scalars(query).all(), q=q)


@bp.get("/customers/<int:customer_id>")
@staff_required(Role.ADMIN)
def customer(customer_id: int):
    return _render_customer(db.session.get(Customer, customer_id) or abort(404), EraseCustomerForm())


def _render_customer(customer: Customer, form: EraseCustomerForm, status: int = 200):
    tickets = db.session.scalar(select(func.count(Ticket.id)).where(Ticket.customer_id == customer.id))
    return render_template(
        "admin/customer.html",
        customer=customer,
        ticket_count=tickets,
        erased=privacy.is_erased(customer),
        phrase=_confirmation_phrase(customer),
        form=form,
    ), status


def _confirmation_phrase(customer: Customer) -> str:
    return customer.email or str(customer.id)


@bp.get("/customers/<int:customer_id>/export.json")
@staff_required(Role.ADMIN)
def export_customer(customer_id: int):
    customer = db.session.get(Customer, customer_id) or abort(404)
    with unit_of_work():
        data = privacy.export_customer(customer, actor=current_user, ip=request.remote_addr)
    return Response(
        json.dumps(data, ensure_ascii=False, indent=2),
        mimetype="application/json",
        headers={"Content-Disposition": f'attachment; filename="customer-{customer_id}.json"'},
    )


@bp.post("/customers/<int:customer_id>/erase")
@staff_required(Role.ADMIN)
def erase_customer(customer_id: int):
    customer = db.session.get(Customer, customer_id) or abort(404)
    form = EraseCustomerForm()
    if not form.validate_on_submit():
        return _render_customer(customer, form, 400)
    if form.confirm.data.strip().lower() != _confirmation_phrase(customer).lower():
        form.confirm.errors.append(_("That does not match; nothing was erased."))
        return _render_customer(customer, form, 400)
    with unit_of_work():
        privacy.erase_customer(customer, actor=current_user, ip=request.remote_addr)
    flash(_("The customer's personal data was erased; their tickets remain."), "success")
    return redirect(url_for("admin.customer", customer_id=customer_id), 303)
