"""Macro management for supervisors and admins: list, create, edit, delete."""

from __future__ import annotations

from typing import Any

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select

from helpdesk.agents.forms import DeleteForm, MacroForm
from helpdesk.agents.views import bp
from helpdesk.audit import service as audit
from helpdesk.auth.models import Role
from helpdesk.auth.permissions import staff_required
from helpdesk.custom_fields.models import CustomField, FieldType
from helpdesk.custom_fields.values import active_fields, values_from_form
from helpdesk.extensions import db
from helpdesk.refusals import refused_shows_again
from helpdesk.tickets.macros import placeholder_labels, save_macro
from helpdesk.tickets.models import Macro, Priority, Status
from helpdesk.transaction import unit_of_work


@bp.get("/macros")
@staff_required(Role.SUPERVISOR)
def macros():
    rows = db.session.scalars(select(Macro).order_by(Macro.locale, Macro.name)).all()
    return render_template("agents/macros.html", macros=rows, delete_form=DeleteForm())


def _settable_fields() -> list[CustomField]:
    """The ticket fields a macro can fill in (an order depends on the customer: not these)."""
    return [f for f in active_fields() if f.type != FieldType.ORDER]


def _stored_as_inputs(values: dict[str, Any]) -> dict[str, Any]:
    return {k: ("yes" if v else "no") if isinstance(v, bool) else v for k, v in values.items()}


def _form_page(form: MacroForm, macro: Macro | None, status: int = 200, fields: dict | None = None):
    if fields is None:
        fields = _stored_as_inputs(macro.set_fields or {}) if macro else {}
    return render_template(
        "agents/macro.html",
        form=form,
        macro=macro,
        placeholders=placeholder_labels(),
        macro_fields=_settable_fields(),
        field_values=fields,
    ), status


def _fields_from_form() -> dict[str, Any]:
    """The fields the form fills in; an input left empty leaves the ticket's value as it is."""
    found = values_from_form(_settable_fields(), request.form)
    return {k: v for k, v in found.items() if v not in ("", [], None)}


def _save(form: MacroForm, macro: Macro | None) -> Macro:
    """Save the macro; a refusal shows the form again with the reason under the body."""
    set_fields = _fields_from_form()
    refused_shows_again(lambda: _form_page(form, macro, 400, set_fields), form.body)
    with unit_of_work():
        return save_macro(
            macro,
            name=form.name.data,
            locale=form.locale.data,
            body=form.body.data,
            set_status=Status(form.set_status.data) if form.set_status.data else None,
            set_priority=Priority(form.set_priority.data) if form.set_priority.data else None,
            add_tags=(form.add_tags.data or "").split(","),
            is_active=form.is_active.data,
            actor=current_user._get_current_object(),
            set_fields=set_fields,
        )


@bp.route("/macros/new", methods=["GET", "POST"])
@staff_required(Role.SUPERVISOR)
def new_macro():
    form = MacroForm()
    if form.validate_on_submit():
        _save(form, None)
        flash(_("Macro saved."), "success")
        return redirect(url_for("agents.macros"), 303)
    fields = _fields_from_form() if form.is_submitted() else None
    return _form_page(form, None, 400 if form.is_submitted() else 200, fields)


@bp.route("/macros/<int:macro_id>", methods=["GET", "POST"])
@staff_required(Role.SUPERVISOR)
def edit_macro(macro_id: int):
    macro = db.session.get(Macro, macro_id) or abort(404)
    form = MacroForm(
        obj=macro,
        data=None,
    )
    if not form.is_submitted():
        form.set_status.data = macro.set_status.value if macro.set_status else ""
        form.set_priority.data = macro.set_priority.value if macro.set_priority else ""
        form.add_tags.data = ", ".join(macro.add_tags or [])
    if form.validate_on_submit():
        _save(form, macro)
        flash(_("Macro saved."), "success")
        return redirect(url_for("agents.macros"), 303)
    fields = _fields_from_form() if form.is_submitted() else None
    return _form_page(form, macro, 400 if form.is_submitted() else 200, fields)


@bp.post("/macros/<int:macro_id>/delete")
@staff_required(Role.SUPERVISOR)
def delete_macro(macro_id: int):
    macro = db.session.get(Macro, macro_id) or abort(404)
    if not DeleteForm().validate_on_submit():
        abort(400, description=_("The form was incomplete."))
    with unit_of_work():
        audit.record("macro.deleted", actor=current_user, target=f"macro:{macro.id}", name=macro.name)
        db.session.delete(macro)
    flash(_("Macro deleted."), "success")
    return redirect(url_for("agents.macros"), 303)
