"""Admin pages for SLA policies: ordered rules (first match wins), their targets and escalation.

Every change recomputes the due times of open tickets.
"""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select
from sqlalchemy.orm import joinedload

from helpdesk.admin.forms import TIER_LABELS, ConfirmForm, PolicyForm
from helpdesk.admin.views import bp
from helpdesk.auth.models import Role, StaffUser
from helpdesk.auth.permissions import staff_required
from helpdesk.extensions import db
from helpdesk.i18n import current_language
from helpdesk.refusals import refused_shows_again
from helpdesk.sla import policies
from helpdesk.sla.models import BusinessCalendar, SlaPolicy
from helpdesk.sla.service import recompute_all_open
from helpdesk.tickets.models import Queue
from helpdesk.transaction import unit_of_work


@bp.get("/sla")
@staff_required(Role.ADMIN)
def policy_list():
    rules = db.session.scalars(
        select(SlaPolicy)
        .options(
            joinedload(SlaPolicy.calendar),
            joinedload(SlaPolicy.match_queue),
            joinedload(SlaPolicy.breach_reassign_to),
        )
        .order_by(SlaPolicy.position, SlaPolicy.id)
    ).all()
    has_calendar = db.session.scalar(select(BusinessCalendar.id).limit(1)) is not None
    return render_template(
        "admin/policies.html",
        policies=rules,
        confirm_form=ConfirmForm(),
        tier_labels=TIER_LABELS,
        has_calendar=has_calendar,
        locale=current_language(),
    )


def _policy_form(policy: SlaPolicy | None) -> PolicyForm:
    form = PolicyForm(obj=policy)
    locale = current_language()
    form.calendar_id.choices = [
        (c.id, c.name) for c in db.session.scalars(select(BusinessCalendar).order_by(BusinessCalendar.name))
    ]
    form.match_queue_id.choices = [(None, _("Any queue"))] + [
        (q.id, q.name_for(locale)) for q in db.session.scalars(select(Queue).order_by(Queue.slug))
    ]
    form.breach_reassign_to_id.choices = [(None, _("Nobody (keep the assignee)"))] + [
        (s.id, f"{s.name} <{s.email}>")
        for s in db.session.scalars(select(StaffUser).where(StaffUser.is_active).order_by(StaffUser.name))
    ]
    if policy is None and not form.is_submitted():
        queue_id = request.args.get("queue", type=int)
        if queue_id in {choice[0] for choice in form.match_queue_id.choices}:
            form.match_queue_id.data = queue_id
    return form


def _render_policy(policy: SlaPolicy | None, form: PolicyForm, status: int = 200):
    return render_template("admin/policy.html", policy=policy, form=form, confirm_form=ConfirmForm()), status


@bp.route("/sla/new", methods=["GET", "POST"])
@staff_required(Role.ADMIN)
def new_policy():
    if db.session.scalar(select(BusinessCalendar.id).limit(1)) is None:
        flash(_("Create a business calendar first."), "error")
        return redirect(url_for("admin.new_calendar"), 303)
    return _edit_policy(None)


@bp.route("/sla/<int:policy_id>", methods=["GET", "POST"])
@staff_required(Role.ADMIN)
def edit_policy(policy_id: int):
    return _edit_policy(db.session.get(SlaPolicy, policy_id) or abort(404))


def _edit_policy(policy: SlaPolicy | None):
    form = _policy_form(policy)
    if not form.is_submitted():
        return _render_policy(policy, form)
    if not form.validate():
        return _render_policy(policy, form, 400)
    values = {name: form[name].data for name in policies.POLICY_FIELDS}
    values["name"] = values["name"].strip()
    refused_shows_again(lambda: _render_policy(policy, form, 400))
    with unit_of_work():
        policy = policies.save_policy(policy, actor=current_user, **values)
    recompute_all_open()
    flash(_("Policy saved; due times of open tickets were recomputed."), "success")
    return redirect(url_for("admin.policy_list"), 303)


@bp.post("/sla/<int:policy_id>/move")
@staff_required(Role.ADMIN)
def move_policy(policy_id: int):
    policy = db.session.get(SlaPolicy, policy_id) or abort(404)
    if not ConfirmForm().validate_on_submit() or request.form.get("direction") not in ("up", "down"):
        abort(400, description=_("The form was incomplete."))
    with unit_of_work():
        policies.move_policy(policy, -1 if request.form["direction"] == "up" else 1, actor=current_user)
    recompute_all_open()
    return redirect(url_for("admin.policy_list"), 303)


@bp.post("/sla/<int:policy_id>/delete")
@staff_required(Role.ADMIN)
def delete_policy(policy_id: int):
    policy = db.session.get(SlaPolicy, policy_id) or abort(404)
    if not ConfirmForm().validate_on_submit():
        abort(400, description=_("The form was incomplete."))
    with unit_of_work():
        policies.delete_policy(policy, actor=current_user)
    recompute_all_open()
    flash(_("Policy deleted."), "success")
    return redirect(url_for("admin.policy_list"), 303)
