"""Reading and writing field values: the raw input of a form or of the API checked against the field's type.

Everything is parsed before anything is written, so a wrong value refuses the whole change.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any

from flask_babel import format_date, format_decimal
from flask_babel import gettext as _
from sqlalchemy import delete, select
from sqlalchemy.orm import selectinload

from helpdesk.custom_fields.models import (
    TEXT_VALUE_MAX,
    CustomerFieldValue,
    CustomField,
    FieldScope,
    FieldType,
    TicketFieldValue,
)
from helpdesk.customers.models import Order
from helpdesk.extensions import db
from helpdesk.tickets.errors import DomainError, NotAllowed

LONG_TEXT_MAX = 10_000
NUMBER_LIMIT = Decimal(10) ** 14
YES = {"1", "yes", "true", "on", "نعم"}
NO = {"0", "no", "false", "off", "لا"}


class InvalidFieldValue(DomainError):
    """A value that does not fit its field (wrong type, unknown option, missing when required)."""


def active_fields(scope: FieldScope = FieldScope.TICKET) -> list[CustomField]:
    """The fields forms show, in their order, with their options (two queries)."""
    return list(
        db.session.scalars(
            select(CustomField)
            .where(CustomField.is_active, CustomField.scope == scope)
            .options(selectinload(CustomField.options))
            .order_by(CustomField.position, CustomField.id)
        )
    )


def _value_model(scope: FieldScope):
    return TicketFieldValue if scope == FieldScope.TICKET else CustomerFieldValue


def _owner_column(scope: FieldScope):
    return TicketFieldValue.ticket_id if scope == FieldScope.TICKET else CustomerFieldValue.customer_id


def stored_values(owner_id: int, scope: FieldScope = FieldScope.TICKET) -> dict[int, list]:
    """The owner's value rows by field id (one query)."""
    model = _value_model(scope)
    found: dict[int, list] = {}
    for row in db.session.scalars(select(model).where(_owner_column(scope) == owner_id).order_by(model.id)):
        found.setdefault(row.field_id, []).append(row)
    return found


def plain(field: CustomField, rows: Iterable) -> Any:
    """The JSON value of a field (what the API shows and accepts): str, int, bool, list… or None."""
    rows = list(rows)
    if not rows:
        return [] if field.type == FieldType.MULTI_SELECT else None
    row = rows[0]
    match field.type:
        case FieldType.MULTI_SELECT:
            return [r.value_text for r in rows]
        case FieldType.TEXT | FieldType.DROPDOWN:
            return row.value_text
        case FieldType.LONG_TEXT:
            return row.value_long
        case FieldType.NUMBER:
            return int(row.value_number)
        case FieldType.DECIMAL:
            return str(row.value_number.normalize()) if row.value_number is not None else None
        case FieldType.YES_NO:
            return bool(row.value_number)
        case FieldType.DATE:
            return row.value_date.isoformat()
        case FieldType.ORDER:
            return row.value_order_id
    return None


def shown(field: CustomField, rows: Iterable, locale: str, orders: Mapping[int, Order] | None = None) -> str:
    """The value as a person reads it in ``locale`` (option labels, retired ones included)."""
    rows = list(rows)
    if not rows:
        return ""
    labels = {o.value: o.label_for(locale) for o in field.options}
    row = rows[0]
    match field.type:
        case FieldType.DROPDOWN | FieldType.MULTI_SELECT:
            separator = "، " if locale == "ar" else ", "
            return separator.join(labels.get(r.value_text, r.value_text) for r in rows)
        case FieldType.YES_NO:
            return _("Yes") if row.value_number else _("No")
        case FieldType.DATE:
            return format_date(row.value_date, "medium")
        case FieldType.NUMBER | FieldType.DECIMAL:
            return format_decimal(row.value_number.normalize())
        case FieldType.ORDER:
            order = (orders or {}).get(row.value_order_id) if row.value_order_id else None
            if order is None and row.value_order_id:
                order = db.session.get(Order, row.value_order_id)
            return order.number if order is not None else ""
        case FieldType.LONG_TEXT:
            return row.value_long or ""
    return row.value_text or ""


def _is_empty(raw: Any) -> bool:
    return raw is None or (isinstance(raw, str) and not raw.strip()) or (isinstance(raw, list) and not raw)


def wrong_value(field: CustomField, locale: str, message: str) -> InvalidFieldValue:
    return InvalidFieldValue(f"{field.label_for(locale)}: {message}")


def parse(
    field: CustomField, raw: Any, *, locale: str, customer_id: int | None = None, current: Iterable[str] = ()
) -> list[dict[str, Any]]:
    """The value rows for ``raw`` (none: the field is cleared), or ``InvalidFieldValue``.

    A retired option stays acceptable where it is the current value, so saving a form unchanged
    never loses it; new values take active options only."""
    if _is_empty(raw):
        return []
    kind = field.type
    if kind == FieldType.MULTI_SELECT:
        items = raw if isinstance(raw, list) else [raw]
        allowed = {o.value for o in field.active_options} | set(current)
        chosen: list[str] = []
        for item in items:
            if not isinstance(item, str) or item not in allowed:
                raise wrong_value(
                    field, locale, _("“%(value)s” is not one of the options.", value=str(item)[:60])
                )
            if item not in chosen:
                chosen.append(item)
        return [{"value_text": item} for item in chosen]
    if isinstance(raw, list | dict):
        raise wrong_value(field, locale, _("Give one value."))
    if kind in (FieldType.TEXT, FieldType.LONG_TEXT, FieldType.DROPDOWN, FieldType.DATE) and not isinstance(
        raw, str
    ):
        raise wrong_value(field, locale, _("Give the value as text."))
    if kind == FieldType.TEXT:
        text = " ".join(raw.split())
        if len(text) > TEXT_VALUE_MAX:
            raise wrong_value(field, locale, _("At most %(limit)s characters.", limit=TEXT_VALUE_MAX))
        return [{"value_text": text}]
    if kind == FieldType.LONG_TEXT:
        if len(raw) > LONG_TEXT_MAX:
            raise wrong_value(field, locale, _("At most %(limit)s characters.", limit=LONG_TEXT_MAX))
        return [{"value_long": raw.strip()}]
    if kind == FieldType.DROPDOWN:
        allowed = {o.value for o in field.active_options} | set(current)
        if raw not in allowed:
            raise wrong_value(field, locale, _("“%(value)s” is not one of the options.", value=raw[:60]))
        return [{"value_text": raw}]
    if kind == FieldType.DATE:
        try:
            return [{"value_date": date.fromisoformat(raw.strip())}]
        except ValueError:
            raise wrong_value(field, locale, _("Write the date as YYYY-MM-DD.")) from None
    if kind == FieldType.YES_NO:
        if isinstance(raw, bool):
            return [{"value_number": Decimal(int(raw))}]
        word = str(raw).strip().lower()
        if word in YES | NO:
            return [{"value_number": Decimal(1 if word in YES else 0)}]
        raise wrong_value(field, locale, _("Answer yes or no."))
    if kind in (FieldType.NUMBER, FieldType.DECIMAL):
        return [{"value_number": _number(field, raw, locale)}]
    return [{"value_order_id": _order_id(field, raw, locale, customer_id)}]


def _number(field: CustomField, raw: Any, locale: str) -> Decimal:
    if isinstance(raw, bool) or not isinstance(raw, int | float | str):
        raise wrong_value(field, locale, _("Give a number."))
    try:
        number = Decimal(str(raw).strip())
    except InvalidOperation:
        number = None
    if number is None or not number.is_finite() or abs(number) >= NUMBER_LIMIT:
        raise wrong_value(field, locale, _("Give a number."))
    if field.type == FieldType.NUMBER:
        if number != number.to_integral_value():
            raise wrong_value(field, locale, _("Give a whole number."))
        return number.to_integral_value()
    if number.as_tuple().exponent < -6:
        raise wrong_value(field, locale, _("At most six decimal places."))
    return number


def _order_id(field: CustomField, raw: Any, locale: str, customer_id: int | None) -> int:
    """One of the customer's own orders, by id or by order number."""
    query = select(Order.id).where(Order.customer_id == (customer_id or 0))
    if isinstance(raw, int) and not isinstance(raw, bool):
        query = query.where(Order.id == raw)
    elif isinstance(raw, str):
        text = raw.strip()[:40]
        query = (
            query.where(Order.id == int(text))
            if text.isdigit() and len(text) < 10
            else query.where(Order.number == text)
        )
    else:
        raise wrong_value(field, locale, _("Choose one of the customer's orders."))
    found = db.session.scalars(query.limit(1)).first()
    if found is None:
        raise wrong_value(field, locale, _("Choose one of the customer's orders."))
    return found


def write_values(
    owner_id: int,
    fields: list[CustomField],
    raw: Mapping[str, Any],
    *,
    locale: str,
    customer_id: int | None = None,
    by_customer: bool = False,
    required: Iterable[int] = (),
    scope: FieldScope = FieldScope.TICKET,
) -> dict[str, tuple[Any, Any]]:
    """Check every given value, then replace the stored ones; returns {key: (old, new)} of what changed.

    ``raw`` holds only the keys the caller edits; ``required`` are field ids that must end up set.
    Unknown keys and fields a customer may not edit are refused, nothing is written."""
    by_key = {f.key: f for f in fields}
    unknown = [key for key in raw if key not in by_key]
    if unknown:
        raise InvalidFieldValue(_("Unknown field: %(key)s", key=str(unknown[0])[:60]))
    stored = stored_values(owner_id, scope)
    planned: dict[int, list[dict[str, Any]]] = {}
    for key, value in raw.items():
        field = by_key[key]
        if by_customer and not (field.visible_to_customers and field.editable_by_customers):
            raise NotAllowed(_("%(field)s cannot be changed here.", field=field.label_for(locale)))
        current = [r.value_text for r in stored.get(field.id, []) if r.value_text]
        planned[field.id] = parse(field, value, locale=locale, customer_id=customer_id, current=current)
    for field in fields:
        if field.id in required and not planned.get(field.id, stored.get(field.id)):
            raise InvalidFieldValue(_("%(field)s is required.", field=field.label_for(locale)))
    model, owner = _value_model(scope), _owner_column(scope)
    changes: dict[str, tuple[Any, Any]] = {}
    by_id = {f.id: f for f in fields}
    for field_id, rows in planned.items():
        field = by_id[field_id]
        old = plain(field, stored.get(field_id, []))
        new = plain(field, [model(**row) for row in rows])
        if old == new:
            continue
        changes[field.key] = (old, new)
        db.session.execute(delete(model).where(owner == owner_id, model.field_id == field_id))
        for row in rows:
            db.session.add(model(field_id=field_id, **{owner.key: owner_id}, **row))
    db.session.flush()
    return changes


INPUT_PREFIX = "cf-"


def values_from_form(fields: Iterable[CustomField], form: Mapping) -> dict[str, Any]:
    """The raw values of the ``cf-<key>`` inputs a form showed for ``fields`` (an unticked
    multi-select sends nothing: that clears it)."""
    found: dict[str, Any] = {}
    for field in fields:
        name = INPUT_PREFIX + field.key
        if field.type == FieldType.MULTI_SELECT:
            found[field.key] = form.getlist(name)
        else:
            found[field.key] = form.get(name, "")
    return found


def form_values(fields: Iterable[CustomField], stored: Mapping[int, list]) -> dict[str, Any]:
    """What the inputs show: the stored values as the form writes them."""
    found: dict[str, Any] = {}
    for field in fields:
        value = plain(field, stored.get(field.id, []))
        if field.type == FieldType.YES_NO and value is not None:
            value = "yes" if value else "no"
        found[field.key] = value
    return found
