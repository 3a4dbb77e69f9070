"""``/api/v1/fields``, ``/api/v1/request-types`` and a ticket's field values (read and change)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import joinedload, selectinload

from helpdesk.api.auth import api_auth, api_user
from helpdesk.api.blueprints import api_blueprint, as_response, invalid
from helpdesk.api.models import TokenScope
from helpdesk.api.schemas import (
    CustomFieldSchema,
    RequestTypeSchema,
    TicketFieldsSchema,
    TicketFieldsUpdateSchema,
)
from helpdesk.api.tickets import _ticket
from helpdesk.custom_fields import service
from helpdesk.custom_fields.models import CustomField, RequestType, RequestTypeField
from helpdesk.custom_fields.values import InvalidFieldValue, active_fields, plain, stored_values
from helpdesk.extensions import db
from helpdesk.i18n import current_language
from helpdesk.tickets.models import Ticket
from helpdesk.transaction import unit_of_work

bp = api_blueprint(
    "Custom fields", "/api/v1", "The shop's own fields and request types, and their values on tickets."
)


@bp.errorhandler(InvalidFieldValue)
def invalid_value(error: InvalidFieldValue):
    db.session.rollback()
    return as_response(422, error.message)


@bp.route("/fields", methods=["GET"])
@api_auth(TokenScope.READ)
@bp.response(200, CustomFieldSchema(many=True))
def list_fields():
    """Every field (archived ones too, `is_active` false), in their order, with their options."""
    return db.session.scalars(
        select(CustomField)
        .options(selectinload(CustomField.options))
        .order_by(CustomField.position, CustomField.id)
    ).all()


@bp.route("/request-types", methods=["GET"])
@api_auth(TokenScope.READ)
@bp.response(200, RequestTypeSchema(many=True))
def list_request_types():
    """The request types and the fields of their forms, in order."""
    types = db.session.scalars(
        select(RequestType)
        .options(
            selectinload(RequestType.form_fields).options(
                joinedload(RequestTypeField.field), joinedload(RequestTypeField.shown_when_field)
            )
        )
        .order_by(RequestType.position, RequestType.id)
    ).all()
    return [
        {
            "id": t.id,
            "key": t.key,
            "name_ar": t.name_ar,
            "name_en": t.name_en,
            "is_active": t.is_active,
            "fields": [
                {
                    "key": rf.field.key,
                    "is_required": rf.is_required,
                    "shown_when_key": rf.shown_when_field.key if rf.shown_when_field else None,
                    "shown_when_value": rf.shown_when_value,
                }
                for rf in t.form_fields
            ],
        }
        for t in types
    ]


def _ticket_fields(ticket: Ticket) -> dict[str, Any]:
    stored = stored_values(ticket.id)
    request_type = db.session.get(RequestType, ticket.request_type_id) if ticket.request_type_id else None
    return {
        "request_type": request_type.key if request_type else None,
        "values": {f.key: plain(f, stored.get(f.id, [])) for f in active_fields()},
    }


@bp.route("/tickets/<ticket_number:number>/fields", methods=["GET"])
@api_auth(TokenScope.READ)
@bp.response(200, TicketFieldsSchema)
def get_ticket_fields(number: str):
    """A ticket's request type and the values of every active field (null when empty)."""
    return _ticket_fields(_ticket(number))


@bp.route("/tickets/<ticket_number:number>/fields", methods=["PATCH"])
@api_auth(TokenScope.WRITE)
@bp.arguments(TicketFieldsUpdateSchema)
@bp.response(200, TicketFieldsSchema)
def update_ticket_fields(data: dict, number: str):
    """Set the request type and field values given (all checked first: one wrong value changes nothing,
    422 saying which). An archived or unknown field key is 422 too."""
    ticket = _ticket(number)
    chosen = ...
    if "request_type" in data:
        chosen = None
        if data["request_type"] is not None:
            chosen = db.session.scalar(select(RequestType).where(RequestType.key == data["request_type"]))
            if chosen is None:
                invalid("request_type", "No request type has this key.")
    with unit_of_work():
        if chosen is not ...:
            service.set_request_type(ticket, chosen, actor=api_user())
        service.set_ticket_fields(ticket, data["values"], actor=api_user(), locale=current_language())
    return _ticket_fields(ticket)
