"""Admin pages for custom fields and request types (each change audited by the service)."""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from helpdesk.admin.forms import ConfirmForm
from helpdesk.admin.views import bp
from helpdesk.auth.models import Role
from helpdesk.auth.permissions import staff_required
from helpdesk.custom_fields import service
from helpdesk.custom_fields.forms import SCOPE_LABELS, TYPE_LABELS, FieldForm, RequestTypeForm
from helpdesk.custom_fields.models import CustomField, FieldScope, FieldType, RequestType, RequestTypeField
from helpdesk.extensions import db
from helpdesk.i18n import current_language
from helpdesk.refusals import refused_goes_back_to, refused_shows_again
from helpdesk.tickets.models import Priority, Queue
from helpdesk.transaction import unit_of_work


@bp.get("/fields")
@staff_required(Role.SUPERVISOR)
def fields():
    found = db.session.scalars(
        select(CustomField)
        .options(selectinload(CustomField.options))
        .order_by(CustomField.is_active.desc(), CustomField.scope, CustomField.position, CustomField.id)
    ).all()
    types = db.session.scalars(
        select(RequestType)
        .options(selectinload(RequestType.form_fields).joinedload(RequestTypeField.field))
        .order_by(RequestType.position, RequestType.id)
    ).all()
    return render_template(
        "admin/fields.html",
        fields=found,
        request_types=types,
        type_labels=TYPE_LABELS,
        scope_labels=SCOPE_LABELS,
    )


def _render_field(field: CustomField | None, form: FieldForm, status: int = 200):
    return render_template(
        "admin/field.html", field=field, form=form, confirm_form=ConfirmForm(), type_labels=TYPE_LABELS
    ), status


@bp.route("/fields/new", methods=["GET", "POST"])
@staff_required(Role.SUPERVISOR)
def new_field():
    return _edit_field(None)


@bp.route("/fields/<int:field_id>", methods=["GET", "POST"])
@staff_required(Role.SUPERVISOR)
def edit_field(field_id: int):
    return _edit_field(db.session.get(CustomField, field_id) or abort(404))


def _edit_field(field: CustomField | None):
    form = FieldForm(obj=field)
    if not form.is_submitted():
        if field is not None:
            form.type.data, form.scope.data = field.type.value, field.scope.value
            form.options.data = service.options_as_text(field)
        return _render_field(field, form)
    if not form.validate():
        return _render_field(field, form, 400)
    refused_shows_again(lambda: _render_field(field, form, 400))
    with unit_of_work():
        field = service.save_field(
            field,
            actor=current_user,
            options=service.options_from_text(form.options.data or ""),
            key=form.key.data,
            type=FieldType(form.type.data),
            scope=FieldScope(form.scope.data),
            label_ar=form.label_ar.data.strip(),
            label_en=form.label_en.data.strip(),
            help_ar=(form.help_ar.data or "").strip(),
            help_en=(form.help_en.data or "").strip(),
            required_for_agents=form.required_for_agents.data,
            required_for_customers=form.required_for_customers.data,
            visible_to_customers=form.visible_to_customers.data,
            editable_by_customers=form.editable_by_customers.data and form.visible_to_customers.data,
            is_active=True,
        )
    flash(_("Field saved."), "success")
    return redirect(url_for("admin.edit_field", field_id=field.id), 303)


@bp.post("/fields/<int:field_id>/remove")
@staff_required(Role.SUPERVISOR)
def remove_field(field_id: int):
    field = db.session.get(CustomField, field_id) or abort(404)
    if not ConfirmForm().validate_on_submit():
        abort(400, description=_("The form has expired; reload the page and try again."))
    refused_goes_back_to("admin.edit_field", field_id=field_id)
    with unit_of_work():
        deleted = service.archive_or_delete_field(field, actor=current_user)
    flash(_("Field deleted.") if deleted else _("The field holds values, so it was archived."), "success")
    return redirect(url_for("admin.fields"), 303)


# --- request types ------------------------------------------------------------------------------


def _type_form(request_type: RequestType | None) -> RequestTypeForm:
    form = RequestTypeForm(obj=request_type)
    queues = db.session.scalars(select(Queue).where(Queue.is_active).order_by(Queue.name_en)).all()
    form.default_queue_id.choices = [("", "—")] + [
        (str(q.id), q.name_for(current_language())) for q in queues
    ]
    if request_type is not None and not form.is_submitted():
        form.default_queue_id.data = str(request_type.default_queue_id or "")
        form.default_priority.data = (
            request_type.default_priority.value if request_type.default_priority else ""
        )
        form.default_tags.data = ", ".join(request_type.default_tags or [])
    return form


def _render_type(request_type: RequestType | None, form: RequestTypeForm, rows: dict, status: int = 200):
    ticket_fields = db.session.scalars(
        select(CustomField)
        .where(CustomField.scope == FieldScope.TICKET, CustomField.is_active)
        .order_by(CustomField.position, CustomField.id)
    ).all()
    return render_template(
        "admin/request_type.html",
        request_type=request_type,
        form=form,
        ticket_fields=ticket_fields,
        rows=rows,
    ), status


def _rows_of(request_type: RequestType | None) -> dict[int, dict]:
    if request_type is None:
        return {}
    return {
        rf.field_id: {
            "field_id": rf.field_id,
            "position": rf.position + 1,
            "is_required": rf.is_required,
            "shown_when_field_id": rf.shown_when_field_id,
            "shown_when_value": rf.shown_when_value or "",
        }
        for rf in request_type.form_fields
    }


def _rows_from_form() -> dict[int, dict]:
    """The form's field table: rf-<id>-on, -pos, -req, -when, -value."""
    rows = {}
    for name in request.form:
        if not (name.startswith("rf-") and name.endswith("-on")):
            continue
        field_id = name[3:-3]
        if not field_id.isdigit():
            continue
        position = request.form.get(f"rf-{field_id}-pos", "")
        when = request.form.get(f"rf-{field_id}-when", "")
        rows[int(field_id)] = {
            "field_id": int(field_id),
            "position": int(position) if position.isdigit() else 999,
            "is_required": bool(request.form.get(f"rf-{field_id}-req")),
            "shown_when_field_id": int(when) if when.isdigit() else None,
            "shown_when_value": request.form.get(f"rf-{field_id}-value", "")[:60],
        }
    return rows


@bp.route("/request-types/new", methods=["GET", "POST"])
@staff_required(Role.SUPERVISOR)
def new_request_type():
    return _edit_request_type(None)


@bp.route("/request-types/<int:type_id>", methods=["GET", "POST"])
@staff_required(Role.SUPERVISOR)
def edit_request_type(type_id: int):
    return _edit_request_type(db.session.get(RequestType, type_id) or abort(404))


def _edit_request_type(request_type: RequestType | None):
    form = _type_form(request_type)
    if not form.is_submitted():
        return _render_type(request_type, form, _rows_of(request_type))
    rows = _rows_from_form()
    if not form.validate():
        return _render_type(request_type, form, rows, 400)
    refused_shows_again(lambda: _render_type(request_type, form, rows, 400))
    ordered = sorted(rows.values(), key=lambda r: (r["position"], r["field_id"]))
    with unit_of_work():
        request_type = service.save_request_type(
            request_type,
            actor=current_user,
            form_fields=ordered,
            key=form.key.data,
            name_ar=form.name_ar.data.strip(),
            name_en=form.name_en.data.strip(),
            default_queue_id=int(form.default_queue_id.data) if form.default_queue_id.data else None,
            default_priority=Priority(form.default_priority.data) if form.default_priority.data else None,
            default_tags=(form.default_tags.data or "").split(","),
            email_keywords=(form.email_keywords.data or "").strip(),
            is_active=form.is_active.data,
        )
    flash(_("Request type saved."), "success")
    return redirect(url_for("admin.edit_request_type", type_id=request_type.id), 303)
