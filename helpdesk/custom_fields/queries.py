"""Filtering tickets by a field's value: an index range on (field_id, value, ticket_id)."""

from __future__ import annotations

from collections.abc import Mapping

from flask_babel import gettext as _
from sqlalchemy import ColumnElement, exists, select

from helpdesk.custom_fields.models import CustomField, FieldType, TicketFieldValue
from helpdesk.custom_fields.values import parse, wrong_value
from helpdesk.tickets.models import Ticket

FILTER_PREFIX = "cf_"
FILTERABLE = frozenset(FieldType) - {FieldType.LONG_TEXT}


def ticket_filter(
    field: CustomField, raw: str, *, locale: str, correlated: bool = False
) -> ColumnElement[bool]:
    """Tickets whose ``field`` holds ``raw`` (for a multi-select: among its values); retired options
    still filter. Raises ``InvalidFieldValue`` for a value the field could not hold.

    ``correlated``: an EXISTS probed per ticket, for the queue page's walk in due order (it stops
    after a page of matches, so a common value costs a few probes); otherwise ``id IN (values)``,
    read once from the (field, value, ticket) index, which suits counts and rare values."""
    if field.type.has_options:
        if raw not in {o.value for o in field.options}:
            raise wrong_value(field, locale, _("“%(value)s” is not one of the options.", value=raw[:60]))
        column, value = TicketFieldValue.value_text, raw
    elif field.type == FieldType.ORDER:
        if not raw.isdigit() or len(raw) > 9:
            raise wrong_value(field, locale, _("Choose one of the customer's orders."))
        column, value = TicketFieldValue.value_order_id, int(raw)
    else:
        ((name, value),) = parse(field, raw, locale=locale)[0].items()
        column = getattr(TicketFieldValue, name)
    if correlated:
        return exists().where(
            TicketFieldValue.ticket_id == Ticket.id, TicketFieldValue.field_id == field.id, column == value
        )
    return Ticket.id.in_(
        select(TicketFieldValue.ticket_id).where(TicketFieldValue.field_id == field.id, column == value)
    )


def filters_from_args(
    fields: list[CustomField], args: Mapping[str, str], *, locale: str, correlated: bool = False
) -> tuple[list[ColumnElement[bool]], dict[str, str]]:
    """The conditions of the ``cf_<key>`` query arguments, and those arguments (for links)."""
    conditions, used = [], {}
    for field in fields:
        raw = (args.get(FILTER_PREFIX + field.key) or "").strip()[:255]
        if raw and field.type in FILTERABLE:
            conditions.append(ticket_filter(field, raw, locale=locale, correlated=correlated))
            used[FILTER_PREFIX + field.key] = raw
    return conditions, used
