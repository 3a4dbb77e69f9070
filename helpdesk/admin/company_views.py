"""Admin pages for companies: the list, and a company's people, tickets and orders."""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import func, select
from sqlalchemy.orm import joinedload, selectinload

from helpdesk.admin.forms import ConfirmForm
from helpdesk.admin.views import bp
from helpdesk.auth.models import Role
from helpdesk.auth.permissions import staff_required
from helpdesk.companies import service
from helpdesk.companies.forms import CompanyForm, MemberForm
from helpdesk.companies.models import Company, CompanyMember
from helpdesk.customers.models import Customer, CustomerEmail, Order, Tier
from helpdesk.extensions import db
from helpdesk.refusals import refused_goes_back_to, refused_shows_again
from helpdesk.tickets.models import Ticket
from helpdesk.transaction import unit_of_work

LIST_SIZE = 50


@bp.get("/companies")
@staff_required(Role.ADMIN)
def companies():
    counts = (
        select(CompanyMember.company_id, func.count().label("people"))
        .group_by(CompanyMember.company_id)
        .subquery()
    )
    rows = db.session.execute(
        select(Company, func.coalesce(counts.c.people, 0))
        .outerjoin(counts, counts.c.company_id == Company.id)
        .order_by(Company.name)
    ).all()
    return render_template("admin/companies.html", rows=rows)


@bp.route("/companies/new", methods=["GET", "POST"])
@staff_required(Role.ADMIN)
def new_company():
    return _edit_company(None)


@bp.route("/companies/<int:company_id>", methods=["GET", "POST"])
@staff_required(Role.ADMIN)
def edit_company(company_id: int):
    return _edit_company(db.session.get(Company, company_id) or abort(404))


def _render_company(
    company: Company | None, form: CompanyForm, member_form: MemberForm | None = None, status=200
):
    people, tickets, orders = [], [], []
    if company is not None:
        people = db.session.scalars(
            select(CompanyMember)
            .where(CompanyMember.company_id == company.id)
            .options(joinedload(CompanyMember.customer).selectinload(Customer.emails))
        ).all()
        member_ids = select(CompanyMember.customer_id).where(CompanyMember.company_id == company.id)
        tickets = db.session.scalars(
            select(Ticket)
            .where(Ticket.customer_id.in_(member_ids), Ticket.merged_into_id.is_(None))
            .options(joinedload(Ticket.customer))
            .order_by(Ticket.updated_at.desc())
            .limit(LIST_SIZE)
        ).all()
        orders = db.session.scalars(
            select(Order)
            .where(Order.customer_id.in_(member_ids))
            .options(joinedload(Order.customer))
            .order_by(Order.ordered_at.desc())
            .limit(LIST_SIZE)
        ).all()
    return render_template(
        "admin/company.html",
        company=company,
        form=form,
        member_form=member_form or MemberForm(prefix="m"),
        confirm_form=ConfirmForm(),
        people=people,
        tickets=tickets,
        orders=orders,
    ), status


def _edit_company(company: Company | None):
    form = CompanyForm(obj=company)
    if company is not None and not form.is_submitted():
        form.tier.data = company.tier.value
    if not form.is_submitted():
        return _render_company(company, form)
    if not form.validate():
        return _render_company(company, form, status=400)
    refused_shows_again(lambda: _render_company(company, form, status=400), form.domain)
    with unit_of_work():
        company = service.save_company(
            company,
            actor=current_user,
            name=form.name.data,
            domain=form.domain.data,
            tier=Tier(form.tier.data),
        )
    flash(_("Company saved."), "success")
    return redirect(url_for("admin.edit_company", company_id=company.id), 303)


@bp.post("/companies/<int:company_id>/members")
@staff_required(Role.ADMIN)
def add_company_member(company_id: int):
    company = db.session.get(Company, company_id) or abort(404)
    form = MemberForm(prefix="m")
    if not form.validate_on_submit():
        return _render_company(company, CompanyForm(obj=company), form, status=400)
    customer = db.session.scalar(
        select(Customer)
        .join(CustomerEmail)
        .where(CustomerEmail.email == form.email.data.strip().lower())
        .options(selectinload(Customer.emails))
    )
    if customer is None:
        form.email.errors = [_("No customer has this email address.")]
        return _render_company(company, CompanyForm(obj=company), form, status=400)
    with unit_of_work():
        service.set_member(
            company, customer, actor=current_user, sees_company_cases=form.sees_company_cases.data
        )
    flash(_("Saved."), "success")
    return redirect(url_for("admin.edit_company", company_id=company.id), 303)


@bp.post("/companies/<int:company_id>/members/<int:customer_id>/remove")
@staff_required(Role.ADMIN)
def remove_company_member(company_id: int, customer_id: int):
    company = db.session.get(Company, company_id) or abort(404)
    if not ConfirmForm().validate_on_submit():
        abort(400, description=_("The form has expired; reload the page and try again."))
    refused_goes_back_to("admin.edit_company", company_id=company_id)
    with unit_of_work():
        service.remove_member(company, customer_id, actor=current_user)
    flash(_("Removed from the company."), "success")
    return redirect(url_for("admin.edit_company", company_id=company.id), 303)
