"""Saved views of the queue: save the current filters, list them with counts, reorder, delete."""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from helpdesk.agents import saved_views
from helpdesk.agents.forms import SavedViewForm, SavedViewMoveForm
from helpdesk.agents.models import SavedView
from helpdesk.agents.views import bp
from helpdesk.auth.permissions import staff_required
from helpdesk.custom_fields.values import active_fields
from helpdesk.dbtypes import utcnow
from helpdesk.extensions import db
from helpdesk.i18n import current_language
from helpdesk.refusals import refused_goes_back_to
from helpdesk.transaction import unit_of_work

FORM_NAMES = ("name", "share", "csrf_token")


def _view_or_404(view_id: int) -> SavedView:
    return db.session.get(SavedView, view_id) or abort(404)


@bp.post("/saved-views")
@staff_required()
def save_view():
    """Save the queue's filters (the form's hidden fields) under a name; back to the queue."""
    user = current_user._get_current_object()
    form = SavedViewForm()
    queues = saved_views.active_queues()
    shareable = saved_views.shareable_queues(user, queues, saved_views.my_queue_ids(user, queues))
    form.share.choices = [("", ""), *[(q.id, q.name_en) for q in shareable]]
    query = saved_views.clean_query({k: v for k, v in request.form.items() if k not in FORM_NAMES})
    refused_goes_back_to("agents.queue", **query)
    if not form.validate_on_submit():
        flash(_("Give the view a name."), "error")
        return redirect(url_for("agents.queue", **query), 303)
    with unit_of_work():
        view = saved_views.save_view(
            name=form.name.data,
            query=query,
            owner=user,
            queue_id=form.share.data,
            fields=active_fields(),
            locale=current_language(),
        )
    flash(_("View «%(name)s» saved.", name=view.name), "success")
    return redirect(url_for("agents.queue", **view.query), 303)


@bp.get("/saved-views")
@staff_required()
def saved_view_list():
    """The agent's saved views and those shared with their queues, with counts."""
    user = current_user._get_current_object()
    views = saved_views.visible_views(user, saved_views.my_queue_ids(user, saved_views.active_queues()))
    counts = saved_views.view_counts(
        views, active_fields(), user_id=user.id, now=utcnow(), locale=current_language()
    )
    return render_template(
        "agents/saved_views.html", saved_views=views, saved_counts=counts, control=SavedViewMoveForm()
    )


@bp.post("/saved-views/<int:view_id>/move")
@staff_required()
def move_saved_view(view_id: int):
    form = SavedViewMoveForm()
    if not form.validate_on_submit():
        abort(400, description=_("The form was incomplete."))
    refused_goes_back_to("agents.saved_view_list")
    with unit_of_work():
        saved_views.move_view(
            _view_or_404(view_id),
            -1 if form.direction.data == "up" else 1,
            actor=current_user._get_current_object(),
        )
    return redirect(url_for("agents.saved_view_list"), 303)


@bp.post("/saved-views/<int:view_id>/delete")
@staff_required()
def delete_saved_view(view_id: int):
    if not SavedViewMoveForm().validate_on_submit():
        abort(400, description=_("The form was incomplete."))
    refused_goes_back_to("agents.saved_view_list")
    view = _view_or_404(view_id)
    name = view.name
    with unit_of_work():
        saved_views.delete_view(view, actor=current_user._get_current_object())
    flash(_("View «%(name)s» deleted.", name=name), "success")
    return redirect(url_for("agents.saved_view_list"), 303)
