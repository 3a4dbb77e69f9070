"""Each ticket field as a macro placeholder, ``{{ field_<key> }}``: the value as the customer reads it
in the macro's language (an option's label, "نعم", a date). A field the ticket has no value for is None,
so the marker stays and a public reply holding it is refused, as for the core's placeholders.

Registered with the macros when imported (``helpdesk.wiring``).
"""

from __future__ import annotations

from flask_babel import force_locale, get_locale
from flask_babel import gettext as _
from sqlalchemy import select

from helpdesk.custom_fields.models import CustomField, FieldScope
from helpdesk.custom_fields.values import active_fields, shown, stored_values
from helpdesk.extensions import db
from helpdesk.tickets.macros import register_placeholders
from helpdesk.tickets.models import Ticket

PREFIX = "field_"


def field_labels() -> dict[str, object]:
    """The placeholders of the active ticket fields, labelled in the reader's language (one query)."""
    locale = str(get_locale() or "ar")
    found = db.session.execute(
        select(CustomField.key, CustomField.label_ar, CustomField.label_en)
        .where(CustomField.is_active, CustomField.scope == FieldScope.TICKET)
        .order_by(CustomField.position, CustomField.id)
    )
    return {
        PREFIX + key: _("the field «%(label)s»", label=label_ar if locale == "ar" else label_en)
        for key, label_ar, label_en in found
    }


def field_values(ticket: Ticket, locale: str | None) -> dict[str, str | None]:
    """Each active field's value on the ticket, shown in ``locale`` (None where it is empty)."""
    fields = active_fields(FieldScope.TICKET)
    if not fields:
        return {}
    stored = stored_values(ticket.id) if ticket.id else {}
    with force_locale(locale or "ar"):
        return {PREFIX + f.key: shown(f, stored.get(f.id, []), locale or "ar") or None for f in fields}


register_placeholders(field_labels, field_values)
