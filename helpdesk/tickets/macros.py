"""Macros: canned replies with placeholders, applied to a ticket as one agent action.

Placeholders are ``{{ name }}`` from a fixed list, substituted as plain text (no template engine,
so a macro can never reach attributes or code); the reply is shown escaped like any message.
A placeholder the ticket has no value for (no order, no tracking number yet) stays in the text as
it is, a marker the agent sees, and a public reply still holding one is refused until it is
filled in or removed: the customer must never read "your order is — with —".
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from babel.lists import format_list
from flask_babel import force_locale, get_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from helpdesk.auth.models import StaffUser
from helpdesk.customers.labels import order_status_label
from helpdesk.extensions import db
from helpdesk.sanitize import one_line_label
from helpdesk.tickets import service
from helpdesk.tickets.errors import DomainError
from helpdesk.tickets.models import Macro, Message, MessageKind, Priority, Status, Ticket

PLACEHOLDER = re.compile(r"\{\{\s*([a-z][a-z0-9_]*)\s*\}\}")
PLACEHOLDERS = {
    "customer_name": _l("the customer's full name"),
    "customer_first_name": _l("the customer's first name"),
    "ticket_number": _l("the ticket number"),
    "ticket_subject": _l("the ticket subject"),
    "order_number": _l("the ticket's order number"),
    "order_status": _l("the ticket's order status"),
    "carrier": _l("the order's carrier"),
    "tracking_number": _l("the order's tracking number"),
    "agent_name": _l("your name"),
}

# A feature's own placeholders (the shop platforms' payment and shipment, for one): a function giving
# their values for a ticket in a language, None where the ticket has none. See ``register_placeholders``.
PlaceholderSource = Callable[[Ticket, "str | None"], dict[str, "str | None"]]
_SOURCES: list[PlaceholderSource] = []
# Placeholders that depend on the data (one per custom field): a function giving their labels now.
_LABEL_SOURCES: list[Callable[[], dict[str, object]]] = []


def register_placeholders(
    labels: dict[str, object] | Callable[[], dict[str, object]], source: PlaceholderSource
) -> None:
    """Add a feature's placeholders: their labels (shown in the macro editor), or a function giving
    them when they depend on the data, and their values. Registering the same source again changes
    nothing."""
    if callable(labels):
        if labels not in _LABEL_SOURCES:
            _LABEL_SOURCES.append(labels)
    else:
        PLACEHOLDERS.update(labels)
    if source not in _SOURCES:
        _SOURCES.append(source)


def placeholder_labels() -> dict[str, object]:
    """Every placeholder with its label: the fixed ones, then those of the data (custom fields)."""
    found: dict[str, object] = dict(PLACEHOLDERS)
    for labels in _LABEL_SOURCES:
        found |= labels()
    return found


def _known(names: set[str]) -> dict[str, object]:
    """The placeholder labels to check ``names`` against (the data's only when a name needs them)."""
    return PLACEHOLDERS if names <= PLACEHOLDERS.keys() else placeholder_labels()


class InvalidMacro(DomainError):
    pass


def unknown_placeholders(body: str) -> list[str]:
    names = set(PLACEHOLDER.findall(body))
    known = _known(names)
    return sorted(name for name in names if name not in known)


def order_status_words(code: str, locale: str | None) -> str:
    """The order's status as the customer reads it in the reply's language ("out for delivery",
    "في الطريق إليك"), never the shop's code ("out_for_delivery"); lower case inside an English
    sentence."""
    with force_locale(locale or "ar"):
        words = order_status_label(code)
    return words[:1].lower() + words[1:] if (locale or "").startswith("en") else words


def placeholder_values(ticket: Ticket, agent: StaffUser, locale: str | None = None) -> dict[str, str | None]:
    """Each placeholder's value for this ticket, in ``locale`` (the macro's language); None where
    the ticket has none."""
    order = ticket.order
    name = ticket.customer.name or ""
    values: dict[str, str | None] = {
        "customer_name": name or None,
        "customer_first_name": (name.split()[0] if name.split() else name) or None,
        "ticket_number": ticket.number,
        "ticket_subject": ticket.subject,
        "order_number": order.number if order else None,
        "order_status": order_status_words(order.status, locale) if order and order.status else None,
        "carrier": (order.carrier or None) if order else None,
        "tracking_number": (order.tracking_number or None) if order else None,
        "agent_name": agent.name or None,
    }
    for source in _SOURCES:
        values |= source(ticket, locale)
    return values


def render_macro(macro: Macro, ticket: Ticket, agent: StaffUser) -> str:
    """The macro's text for this ticket; a placeholder without a value stays as ``{{ name }}``."""
    values = placeholder_values(ticket, agent, macro.locale)

    def fill(match: re.Match) -> str:
        name = match.group(1)
        if name not in values:
            return match.group(0)
        return values[name] if values[name] is not None else "{{ " + name + " }}"

    return PLACEHOLDER.sub(fill, macro.body)


def unfilled_placeholders(text: str) -> list[str]:
    """Our placeholders still in ``text`` (unknown ``{{ … }}`` are the customer's or agent's own)."""
    found = set(PLACEHOLDER.findall(text))
    if not found:
        return []
    return [name for name in _known(found) if name in found]


def unfilled_message(names: list[str]) -> str:
    """Why a reply was not sent, naming the markers as the agent sees them in the text."""
    markers = format_list(["{{ " + n + " }}" for n in names], locale=get_locale() or "en")
    return str(
        _l(
            "Not sent: this ticket has no value for %(markers)s. Write the right text in their place "
            "or remove them.",
            markers=markers,
        )
    )


def active_macros(locale: str | None = None) -> list[Macro]:
    """Active macros, the given language first."""
    macros = list(db.session.scalars(select(Macro).where(Macro.is_active).order_by(Macro.name)))
    return sorted(macros, key=lambda m: m.locale != locale)


def save_macro(
    macro: Macro | None,
    *,
    name: str,
    locale: str,
    body: str,
    set_status: Status | None,
    set_priority: Priority | None,
    add_tags: Iterable[str],
    is_active: bool,
    actor: StaffUser,
    set_fields: Mapping[str, Any] | None = None,
) -> Macro:
    """Create or change a macro; ``set_fields`` ({key: value}) are checked against their fields now,
    so applying the macro later does not fail on a value it was saved with."""
    unknown = unknown_placeholders(body)
    if unknown:
        raise InvalidMacro(
            _("Unknown placeholders: %(names)s.", names=", ".join("{{ " + n + " }}" for n in unknown))
        )
    from helpdesk.audit import service as audit

    if macro is None:
        macro = Macro(created_by_id=actor.id)
        db.session.add(macro)
    macro.name = name.strip()
    macro.locale = locale
    macro.body = body
    macro.set_status = set_status
    macro.set_priority = set_priority
    macro.add_tags = sorted({one_line_label(t).strip().lower() for t in add_tags if t.strip()})
    macro.set_fields = _checked_fields(set_fields or {}, locale=str(get_locale() or locale))
    macro.is_active = is_active
    db.session.flush()
    audit.record("macro.saved", actor=actor, target=f"macro:{macro.id}", name=macro.name)
    return macro


def _checked_fields(values: Mapping[str, Any], *, locale: str) -> dict[str, Any]:
    """The fields a macro sets, as their plain values; a wrong value or a field a macro cannot set
    (unknown, archived, an order: it depends on the customer) refuses the macro."""
    from helpdesk.custom_fields.models import FieldScope, FieldType, TicketFieldValue
    from helpdesk.custom_fields.values import active_fields, parse, plain

    fields = {f.key: f for f in active_fields(FieldScope.TICKET) if f.type != FieldType.ORDER}
    checked: dict[str, Any] = {}
    for key, raw in values.items():
        field = fields.get(key)
        if field is None:
            raise InvalidMacro(_("Unknown field: %(key)s", key=str(key)[:60]))
        rows = parse(field, raw, locale=locale)
        if rows:
            checked[key] = plain(field, [TicketFieldValue(**row) for row in rows])
    return checked


def apply_macro(macro: Macro, ticket: Ticket, *, agent: StaffUser, expected_version: int | None) -> Message:
    """Post the macro's reply and apply its status, priority, tags and fields, all or nothing."""
    service.check_version(ticket, expected_version)
    body = render_macro(macro, ticket, agent)
    unfilled = unfilled_placeholders(body)
    if unfilled:
        raise InvalidMacro(
            unfilled_message(unfilled) + " " + _("Use “Edit in the reply box” to complete this macro.")
        )
    message = service.add_message(ticket, author=agent, body=body, kind=MessageKind.REPLY)
    service.update_ticket(
        ticket,
        actor=agent,
        priority=macro.set_priority,
        add_tags=macro.add_tags or (),
        status=macro.set_status,
    )
    if macro.set_fields:
        from helpdesk.custom_fields.service import set_ticket_fields
        from helpdesk.custom_fields.values import active_fields

        active = {f.key for f in active_fields()}  # a field archived since is left alone
        wanted = {k: v for k, v in macro.set_fields.items() if k in active}
        if wanted:
            set_ticket_fields(ticket, wanted, actor=agent, locale=str(get_locale() or macro.locale))
    return message
