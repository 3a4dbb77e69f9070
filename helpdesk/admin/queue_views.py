"""Admin pages for queues: names, inbound address, supervisor, members, and the SLA rules that apply."""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import or_, select
from sqlalchemy.orm import joinedload, selectinload

from helpdesk.admin.forms import QueueForm
from helpdesk.admin.service import save_queue
from helpdesk.admin.views import bp
from helpdesk.auth.models import Role, StaffUser
from helpdesk.auth.permissions import staff_required
from helpdesk.extensions import db
from helpdesk.refusals import refused_shows_again
from helpdesk.sla.models import SlaPolicy
from helpdesk.tickets.models import Queue
from helpdesk.transaction import unit_of_work


@bp.get("/queues")
@staff_required(Role.ADMIN)
def queues():
    found = db.session.scalars(
        select(Queue).options(joinedload(Queue.supervisor), selectinload(Queue.members)).order_by(Queue.slug)
    ).all()
    policies = db.session.scalars(
        select(SlaPolicy).where(SlaPolicy.is_active).order_by(SlaPolicy.position, SlaPolicy.id)
    ).all()
    return render_template("admin/queues.html", queues=found, policies=policies)


def _queue_form(queue: Queue | None) -> QueueForm:
    form = QueueForm(obj=queue)
    staff = db.session.scalars(select(StaffUser).where(StaffUser.is_active).order_by(StaffUser.name)).all()
    form.supervisor_id.choices = [(None, _("Nobody"))] + [
        (s.id, f"{s.name} <{s.email}>") for s in staff if s.has_role(Role.SUPERVISOR)
    ]
    form.members.choices = [(s.id, f"{s.name} <{s.email}>") for s in staff]
    if queue is not None and not form.is_submitted():
        form.members.data = [m.id for m in queue.members]
    return form


def _render_queue(queue: Queue | None, form: QueueForm, status: int = 200):
    policies = []
    if queue is not None:
        policies = db.session.scalars(
            select(SlaPolicy)
            .where(or_(SlaPolicy.match_queue_id.is_(None), SlaPolicy.match_queue_id == queue.id))
            .order_by(SlaPolicy.position, SlaPolicy.id)
        ).all()
    return render_template("admin/queue.html", queue=queue, form=form, policies=policies), status


@bp.route("/queues/new", methods=["GET", "POST"])
@staff_required(Role.ADMIN)
def new_queue():
    return _edit_queue(None)


@bp.route("/queues/<int:queue_id>", methods=["GET", "POST"])
@staff_required(Role.ADMIN)
def edit_queue(queue_id: int):
    return _edit_queue(db.session.get(Queue, queue_id) or abort(404))


def _edit_queue(queue: Queue | None):
    form = _queue_form(queue)
    if not form.is_submitted():
        return _render_queue(queue, form)
    if not form.validate():
        return _render_queue(queue, form, 400)
    members = list(db.session.scalars(select(StaffUser).where(StaffUser.id.in_(form.members.data or []))))
    refused_shows_again(lambda: _render_queue(queue, form, 400))
    with unit_of_work():
        queue = save_queue(
            queue,
            actor=current_user,
            members=members,
            slug=form.slug.data,
            name_en=form.name_en.data.strip(),
            name_ar=form.name_ar.data.strip(),
            email_address=form.email_address.data,
            supervisor_id=form.supervisor_id.data,
            is_active=form.is_active.data,
        )
    flash(_("Queue saved."), "success")
    return redirect(url_for("admin.edit_queue", queue_id=queue.id), 303)
