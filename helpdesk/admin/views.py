"""Administration pages: staff accounts and roles, the audit log.

Queues, business calendars and SLA policies have their own modules on the same blueprint.
"""

from __future__ import annotations

from zoneinfo import ZoneInfo

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select

from helpdesk.admin import service
from helpdesk.admin.forms import ROLE_LABELS, ActiveForm, AuditFilterForm, NewStaffForm, RoleForm
from helpdesk.audit import queries as audit_queries
from helpdesk.auth.models import Role, StaffUser
from helpdesk.auth.permissions import staff_required
from helpdesk.extensions import db
from helpdesk.refusals import handle_refusals, refused_goes_back_to, refused_shows_again
from helpdesk.transaction import unit_of_work

bp = Blueprint("admin", __name__, url_prefix="/admin")
AUDIT_PAGE_SIZE = 100


def _refused(message: str):
    """A refused admin change that has no form to show again: the reason on an error page."""
    return render_template("errors/error.html", code=400, message=message), 400


handle_refusals(bp, _refused)


@bp.get("")
@staff_required(Role.ADMIN)
def staff():
    return _render_staff(NewStaffForm(prefix="new"))


def _render_staff(new_form: NewStaffForm, status: int = 200):
    users = db.session.scalars(
        select(StaffUser).order_by(StaffUser.is_active.desc(), StaffUser.role.desc(), StaffUser.email)
    ).all()
    forms = {u.id: RoleForm(prefix=f"u{u.id}", role=u.role.value) for u in users}
    return render_template(
        "admin/staff.html",
        users=users,
        forms=forms,
        role_labels=ROLE_LABELS,
        new_form=new_form,
        active_form=ActiveForm(),
    ), status


@bp.post("/staff")
@staff_required(Role.ADMIN)
def create_staff():
    form = NewStaffForm(prefix="new")
    if not form.validate_on_submit():
        return _render_staff(form, 400)
    refused_shows_again(lambda: _render_staff(form, 400), form.email)
    with unit_of_work():
        user = service.create_staff(
            name=form.name.data,
            email=form.email.data,
            role=Role(form.role.data),
            password=form.password.data,
            language=form.language.data,
            actor=current_user,
            ip=request.remote_addr,
        )
    flash(_("%(name)s can now sign in.", name=user.name), "success")
    return redirect(url_for("admin.staff"), 303)


@bp.post("/staff/<int:staff_id>/active")
@staff_required(Role.ADMIN)
def set_active(staff_id: int):
    user = db.session.get(StaffUser, staff_id) or abort(404)
    if not ActiveForm().validate_on_submit():
        abort(400, description=_("The form was incomplete."))
    active = request.form.get("active") == "1"
    refused_goes_back_to("admin.staff")
    with unit_of_work():
        service.set_active(user, active, actor=current_user, ip=request.remote_addr)
    message = (
        _("%(name)s is active again.", name=user.name)
        if active
        else _("%(name)s can no longer sign in.", name=user.name)
    )
    flash(message, "success")
    return redirect(url_for("admin.staff"), 303)


@bp.post("/staff/<int:staff_id>/kb-editor")
@staff_required(Role.ADMIN)
def set_kb_editor(staff_id: int):
    user = db.session.get(StaffUser, staff_id) or abort(404)
    if not ActiveForm().validate_on_submit():
        abort(400, description=_("The form was incomplete."))
    allowed = request.form.get("allowed") == "1"
    with unit_of_work():
        service.set_kb_editor(user, allowed, actor=current_user, ip=request.remote_addr)
    message = (
        _("%(name)s may now write help articles.", name=user.name)
        if allowed
        else _("%(name)s may no longer write help articles.", name=user.name)
    )
    flash(message, "success")
    return redirect(url_for("admin.staff"), 303)


@bp.post("/staff/<int:staff_id>/role")
@staff_required(Role.ADMIN)
def change_role(staff_id: int):
    user = db.session.get(StaffUser, staff_id) or abort(404)
    form = RoleForm(prefix=f"u{user.id}")
    if not form.validate_on_submit():
        abort(400, description=_("Choose a valid role."))
    refused_goes_back_to("admin.staff")
    with unit_of_work():
        service.change_role(user, Role(form.role.data), actor=current_user, ip=request.remote_addr)
    flash(_("%(name)s is now %(role)s.", name=user.name, role=ROLE_LABELS[user.role]), "success")
    return redirect(url_for("admin.staff"), 303)


@bp.get("/audit")
@staff_required(Role.ADMIN)
def audit_log():
    form = AuditFilterForm(formdata=request.args)
    if not form.validate():
        abort(400, description=_("The filters are not valid: use dates like 2026-01-31."))
    events = audit_queries.events_page(
        action=(form.action.data or "").strip(),
        actor=(form.actor.data or "").strip(),
        first_day=form.start.data,
        last_day=form.end.data,
        zone=ZoneInfo(current_app.config["BABEL_DEFAULT_TIMEZONE"]),
        before_id=form.before.data,
        limit=AUDIT_PAGE_SIZE + 1,
    )
    older_url = None
    if len(events) > AUDIT_PAGE_SIZE:
        events = events[:AUDIT_PAGE_SIZE]
        args = {k: v for k, v in request.args.items() if k != "before" and v}
        older_url = url_for("admin.audit_log", **args, before=events[-1].id)
    return render_template("admin/audit.html", events=events, form=form, older_url=older_url)


# The other admin pages register their routes on ``bp`` when imported.
from helpdesk.admin import (  # noqa: E402, F401
    calendar_views,
    company_views,
    customer_views,
    field_views,
    policy_views,
    queue_views,
)
