"""Conditions on a ticket's request type and custom fields, and the ``set_field`` action's value.

A field condition names the field by key: ``{"field": "cf.reason", "op": "is", "value": ["damaged"]}``.
Values are kept in one canonical text per type (option value, "yes"/"no", a normalised number, an
ISO date, lower-cased text), so the Python check and the SQL filter compare the same things.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date
from decimal import Decimal
from typing import Any

from sqlalchemy import ColumnElement, exists, false, func, select

from helpdesk.custom_fields.models import CustomField, FieldScope, FieldType, TicketFieldValue
from helpdesk.custom_fields.values import InvalidFieldValue, parse, plain
from helpdesk.extensions import db
from helpdesk.search.analysis import normalise_text
from helpdesk.tickets.models import Ticket

PREFIX = "cf."
REQUEST_TYPE = "request_type"


def is_field_condition(name: Any) -> bool:
    return isinstance(name, str) and name.startswith(PREFIX) and len(name) > len(PREFIX)


def operators(field: CustomField) -> tuple[str, ...]:
    """What a condition on this field can ask: equality where a value is comparable, "contains" for
    long text, and whether it is filled in at all."""
    if field.type == FieldType.LONG_TEXT:
        return ("contains", "not_contains", "set", "empty")
    if field.type == FieldType.ORDER:
        return ("set", "empty")
    return ("is", "is_not", "set", "empty")


def ticket_fields() -> dict[str, CustomField]:
    """Ticket fields by key (archived ones too: a rule keeps working on the values they hold)."""
    return {
        f.key: f
        for f in db.session.scalars(select(CustomField).where(CustomField.scope == FieldScope.TICKET))
    }


def canonical(field: CustomField, raw: Any, *, locale: str) -> list[str]:
    """A condition's values in their canonical text; ``InvalidFieldValue`` for one the field cannot hold."""
    items = raw if isinstance(raw, list) else [raw]
    items = [i for i in items if str(i if i is not None else "").strip()]
    if field.type == FieldType.LONG_TEXT:
        return [str(i).strip() for i in items]
    found: list[str] = []
    for item in items:
        if field.type.has_options:
            if str(item) not in {o.value for o in field.options}:
                parse(field, str(item), locale=locale)  # raises the "not one of the options" message
            found.append(str(item))
            continue
        (row,) = parse(field, item, locale=locale)
        found.append(_text(field, row))
    return sorted(set(found), key=found.index)


def _text(field: CustomField, row: Any) -> str:
    get = row.get if isinstance(row, dict) else lambda name: getattr(row, name)
    if field.type == FieldType.YES_NO:
        return "yes" if get("value_number") else "no"
    if field.type in (FieldType.NUMBER, FieldType.DECIMAL):
        number = get("value_number")
        return format(Decimal(number).normalize(), "f") if number is not None else ""
    if field.type == FieldType.DATE:
        return get("value_date").isoformat()
    if field.type == FieldType.ORDER:
        return str(get("value_order_id") or "")
    if field.type == FieldType.LONG_TEXT:
        return get("value_long") or ""
    if field.type == FieldType.TEXT:
        return (get("value_text") or "").casefold()
    return get("value_text") or ""


def holds(field: CustomField | None, op: str, wanted: list[str], rows: Iterable) -> bool:
    """Whether the ticket's value rows of ``field`` meet the condition (an unknown field: never)."""
    if field is None:
        return False
    rows = list(rows)
    if op == "set":
        return plain(field, rows) not in (None, [], "")
    if op == "empty":
        return plain(field, rows) in (None, [], "")
    texts = [_text(field, r) for r in rows]
    if op in ("contains", "not_contains"):
        normal = normalise_text(" ".join(texts))
        found = any(p and p in normal for p in (normalise_text(w).strip() for w in wanted))
        return found if op == "contains" else not found
    found = any(t in wanted for t in texts)
    return found if op == "is" else not found


def to_sql(field: CustomField | None, op: str, wanted: list[str]) -> ColumnElement[bool]:
    """The condition as a filter on ``tickets`` (``contains`` is a superset: Python decides)."""
    if field is None:
        return false()
    mine = [TicketFieldValue.ticket_id == Ticket.id, TicketFieldValue.field_id == field.id]
    if op in ("set", "empty"):
        found = exists().where(*mine)
        return found if op == "set" else ~found
    if op in ("contains", "not_contains"):
        return Ticket.id.is_not(None)
    if field.type in (FieldType.NUMBER, FieldType.DECIMAL, FieldType.YES_NO):
        numbers = [Decimal(1 if w == "yes" else 0) if w in ("yes", "no") else Decimal(w) for w in wanted]
        match = TicketFieldValue.value_number.in_(numbers)
    elif field.type == FieldType.DATE:
        match = TicketFieldValue.value_date.in_([date.fromisoformat(w) for w in wanted])
    elif field.type == FieldType.TEXT:
        match = func.lower(TicketFieldValue.value_text).in_(wanted)
    else:
        match = TicketFieldValue.value_text.in_(wanted)
    found = exists().where(*mine, match)
    return found if op == "is" else ~found


def clean(condition: dict, *, locale: str) -> dict:
    """A field condition in its stored form; ``InvalidFieldValue`` (with the field's name) or
    ``LookupError`` (unknown field or operator)."""
    key = condition["field"][len(PREFIX) :]
    field = ticket_fields().get(key)
    if field is None:
        raise LookupError(key)
    op = condition.get("op")
    if op not in operators(field):
        raise LookupError(f"{key}:{op}")
    if op in ("set", "empty"):
        return {"field": condition["field"], "op": op, "value": None}
    wanted = canonical(field, condition.get("value"), locale=locale)
    if not wanted:
        raise InvalidFieldValue(f"{field.label_for(locale)}: —")
    return {"field": condition["field"], "op": op, "value": wanted}


def clean_set_field(value: Any, *, locale: str) -> dict:
    """The ``set_field`` action's value ``{"field": key, "value": raw}``, checked against the field
    (the empty value clears it); ``LookupError`` for an unknown field."""
    if not isinstance(value, dict):
        raise LookupError("")
    key = str(value.get("field") or "")
    field = ticket_fields().get(key)
    if field is None or not field.is_active or field.type == FieldType.ORDER:
        raise LookupError(key)
    raw = value.get("value")
    if field.type == FieldType.MULTI_SELECT and not isinstance(raw, list):
        raw = [p.strip() for p in str(raw or "").split(",") if p.strip()]
    rows = parse(field, raw, locale=locale)
    return {"field": key, "value": plain(field, [TicketFieldValue(**r) for r in rows]) if rows else None}
