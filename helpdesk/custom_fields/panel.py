"""What the ticket page's fields zone shows: the fields, their values, the request types."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select

from helpdesk.custom_fields.forms import TicketFieldsForm
from helpdesk.custom_fields.models import CustomField, FieldScope, FieldType, RequestType
from helpdesk.custom_fields.values import active_fields, form_values, shown, stored_values
from helpdesk.customers.models import Order
from helpdesk.extensions import db
from helpdesk.tickets.models import Ticket


@dataclass
class FieldsPanel:
    form: TicketFieldsForm
    fields: list[CustomField]
    values: dict[str, Any]
    shown: dict[str, str]
    orders: list[Order] = field(default_factory=list)
    errors: dict[str, str] = field(default_factory=dict)


def active_request_types() -> list[RequestType]:
    return list(
        db.session.scalars(
            select(RequestType).where(RequestType.is_active).order_by(RequestType.position, RequestType.id)
        )
    )


def request_type_choices(locale: str, current: RequestType | None = None) -> list[tuple[str, str]]:
    types = active_request_types()
    if current is not None and current not in types:
        types.append(current)
    return [("", "—")] + [(str(t.id), t.name_for(locale)) for t in types]


def fields_panel(ticket: Ticket, locale: str, formdata=None) -> FieldsPanel:
    """The zone's form and values (four queries; a fifth for the orders when an order field exists)."""
    fields = active_fields(FieldScope.TICKET)
    stored = stored_values(ticket.id) if fields else {}
    current = db.session.get(RequestType, ticket.request_type_id) if ticket.request_type_id else None
    form = TicketFieldsForm(formdata=formdata, request_type=str(ticket.request_type_id or ""))
    form.request_type.choices = request_type_choices(locale, current)
    orders: list[Order] = []
    if any(f.type == FieldType.ORDER for f in fields):
        orders = list(
            db.session.scalars(
                select(Order).where(Order.customer_id == ticket.customer_id).order_by(Order.ordered_at.desc())
            )
        )
    by_id = {o.id: o for o in orders}
    return FieldsPanel(
        form=form,
        fields=fields,
        values=form_values(fields, stored),
        shown={f.key: shown(f, stored.get(f.id, []), locale, by_id) for f in fields},
        orders=orders,
    )
