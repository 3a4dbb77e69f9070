"""Custom fields and request types: defining them (admins, audited) and filling them on tickets.

Services flush; the caller commits.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any

from flask_babel import gettext as _
from sqlalchemy import event, exists, func, select
from sqlalchemy.orm import Session, SessionTransaction

from helpdesk import events
from helpdesk.audit import service as audit
from helpdesk.auth.models import StaffUser
from helpdesk.custom_fields.models import (
    CustomerFieldValue,
    CustomField,
    FieldOption,
    FieldScope,
    FieldType,
    RequestType,
    RequestTypeField,
    TicketFieldValue,
)
from helpdesk.custom_fields.values import InvalidFieldValue, active_fields, write_values
from helpdesk.customers.models import Customer
from helpdesk.dbtypes import utcnow
from helpdesk.extensions import db
from helpdesk.tickets.errors import NotAllowed
from helpdesk.tickets.models import Ticket
from helpdesk.tickets.search_index import queue_ticket_index
from helpdesk.tickets.service import check_version

KEY_PATTERN = re.compile(r"^[a-z][a-z0-9_]{0,59}$")


def _check_key(key: str, model, current_id: int | None) -> str:
    key = key.strip().lower()
    if not KEY_PATTERN.match(key):
        raise InvalidFieldValue(
            _("A key is lower-case Latin letters, digits and _ (starting with a letter).")
        )
    clash = db.session.scalar(select(model.id).where(model.key == key))
    if clash is not None and clash != current_id:
        raise NotAllowed(_("Another one already uses this key."))
    return key


def _in_use(field: CustomField) -> bool:
    model = TicketFieldValue if field.scope == FieldScope.TICKET else CustomerFieldValue
    return bool(db.session.scalar(select(exists().where(model.field_id == field.id))))


def save_field(
    field: CustomField | None,
    *,
    actor: StaffUser | None,
    options: Sequence[tuple[str, str, str]] = (),
    **attrs: Any,
) -> CustomField:
    """Create or change a field. ``options`` (value, Arabic label, English label) in order; an option
    left out is retired, not deleted, so tickets that hold it keep their value and its label.
    A field's type and scope are fixed once values exist (they could not be read back otherwise)."""
    attrs["key"] = _check_key(attrs["key"], CustomField, field.id if field else None)
    created = field is None
    if field is None:
        field = CustomField(position=_next_position(CustomField), **attrs)
        db.session.add(field)
    else:
        if (attrs["type"] != field.type or attrs["scope"] != field.scope) and _in_use(field):
            raise NotAllowed(_("This field already holds values: its type cannot change."))
        for name, value in attrs.items():
            setattr(field, name, value)
    if field.type.has_options:
        _replace_options(field, options)
        if not field.active_options:
            raise InvalidFieldValue(_("A list field needs at least one option."))
    db.session.flush()
    audit.record(
        "custom_field.created" if created else "custom_field.changed",
        actor=actor,
        target=f"custom_field:{field.id}",
        key=field.key,
        type=field.type.value,
        scope=field.scope.value,
        options=[o.value for o in field.active_options],
    )
    return field


def _replace_options(field: CustomField, wanted: Sequence[tuple[str, str, str]]) -> None:
    existing = {o.value: o for o in field.options}
    seen: set[str] = set()
    for position, (value, label_ar, label_en) in enumerate(wanted):
        value = value.strip()
        if not value or value in seen:
            raise InvalidFieldValue(_("Each option needs its own value."))
        if len(value) > 60 or len(label_ar) > 120 or len(label_en) > 120:
            raise InvalidFieldValue(_("An option's value or label is too long."))
        seen.add(value)
        option = existing.get(value)
        if option is None:
            option = FieldOption(value=value)
            field.options.append(option)
        option.label_ar, option.label_en = label_ar.strip() or value, label_en.strip() or value
        option.position, option.is_active = position, True
    for value, option in existing.items():
        if value not in seen:
            option.is_active = False
            option.position = len(seen) + option.position


def _next_position(model) -> int:
    return (db.session.scalar(select(func.max(model.position))) or 0) + 1


def archive_or_delete_field(field: CustomField, *, actor: StaffUser) -> bool:
    """Delete a field nobody has filled in; one that holds values is archived (hidden, values kept).
    Returns whether it was deleted."""
    in_use = _in_use(field)
    audit.record(
        "custom_field.archived" if in_use else "custom_field.deleted",
        actor=actor,
        target=f"custom_field:{field.id}",
        key=field.key,
    )
    if in_use:
        field.is_active = False
    else:
        db.session.delete(field)
    db.session.flush()
    return not in_use


def set_ticket_fields(
    ticket: Ticket,
    values: Mapping[str, Any],
    *,
    actor: StaffUser | Customer | None,
    locale: str,
    expected_version: int | None = None,
    required: Sequence[int] = (),
) -> dict[str, tuple[Any, Any]]:
    """Fill in a ticket's fields (only the keys given), published as ``ticket_changed`` with
    ``field:<key>`` changes. The values live in their own rows, so the ticket's version stays: an
    agent's other open forms on the ticket remain valid."""
    check_version(ticket, expected_version)
    by_customer = isinstance(actor, Customer)
    fields = active_fields(FieldScope.TICKET)
    if by_customer:
        fields = [f for f in fields if f.visible_to_customers]
    changes = write_values(
        ticket.id,
        fields,
        values,
        locale=locale,
        customer_id=ticket.customer_id,
        by_customer=by_customer,
        required=required,
    )
    if changes:
        events.publish(
            events.ticket_changed,
            ticket,
            changes={f"field:{key}": change for key, change in changes.items()},
            actor=actor,
        )
        if any(f.key in changes and f.type in (FieldType.TEXT, FieldType.LONG_TEXT) for f in fields):
            queue_ticket_index(ticket)  # text fields are searched with the conversation
    return changes


def set_customer_fields(
    customer: Customer, values: Mapping[str, Any], *, actor: StaffUser | Customer, locale: str
) -> dict[str, tuple[Any, Any]]:
    """Fill in customer-level fields (preferred language, national address…), audited."""
    changes = write_values(
        customer.id,
        active_fields(FieldScope.CUSTOMER),
        values,
        locale=locale,
        by_customer=isinstance(actor, Customer),
        scope=FieldScope.CUSTOMER,
    )
    if changes:
        audit.record(
            "customer.fields_changed",
            actor=actor,
            target=f"customer:{customer.id}",
            changes={k: [str(o), str(n)] for k, (o, n) in changes.items()},
        )
    return changes


def required_for_agents() -> list[int]:
    return [f.id for f in active_fields(FieldScope.TICKET) if f.required_for_agents]


# --- request types ------------------------------------------------------------------------------


def save_request_type(
    request_type: RequestType | None,
    *,
    actor: StaffUser,
    form_fields: Sequence[dict[str, Any]] = (),
    **attrs: Any,
) -> RequestType:
    """Create or change a request type and its form: ``form_fields`` in order, each
    {field_id, is_required, shown_when_field_id, shown_when_value}."""
    attrs["key"] = _check_key(attrs["key"], RequestType, request_type.id if request_type else None)
    attrs["default_tags"] = sorted(
        {t.strip().lower()[:60] for t in attrs.get("default_tags", []) if t.strip()}
    )
    created = request_type is None
    if request_type is None:
        request_type = RequestType(position=_next_position(RequestType), **attrs)
        db.session.add(request_type)
    else:
        for name, value in attrs.items():
            setattr(request_type, name, value)
    fields = {
        f.id: f for f in db.session.scalars(select(CustomField).where(CustomField.scope == FieldScope.TICKET))
    }
    chosen = [f["field_id"] for f in form_fields]
    if len(set(chosen)) != len(chosen) or any(i not in fields for i in chosen):
        raise InvalidFieldValue(_("Each field appears once on a form, and only ticket fields."))
    for spec in form_fields:
        condition = spec.get("shown_when_field_id")
        if condition is not None and (condition not in chosen or condition == spec["field_id"]):
            raise InvalidFieldValue(_("A field can only depend on another field of the same form."))
    existing = {rf.field_id: rf for rf in request_type.form_fields}
    request_type.form_fields = []
    db.session.flush()
    for position, spec in enumerate(form_fields):
        row = existing.get(spec["field_id"]) or RequestTypeField(field_id=spec["field_id"])
        row.position = position
        row.is_required = bool(spec.get("is_required"))
        row.shown_when_field_id = spec.get("shown_when_field_id")
        row.shown_when_value = (spec.get("shown_when_value") or "").strip()[:60] or None
        request_type.form_fields.append(row)
    db.session.flush()
    audit.record(
        "request_type.created" if created else "request_type.changed",
        actor=actor,
        target=f"request_type:{request_type.id}",
        key=request_type.key,
        fields=[fields[i].key for i in chosen],
    )
    return request_type


def visible_form_fields(request_type: RequestType, answers: Mapping[str, Any]) -> list[RequestTypeField]:
    """The type's form fields that show given the answers so far (a condition on another field's value)."""
    by_id = {rf.field_id: rf for rf in request_type.form_fields}
    shown: list[RequestTypeField] = []
    for rf in request_type.form_fields:
        if not rf.field.is_active:
            continue
        if rf.shown_when_field_id is not None:
            other = by_id.get(rf.shown_when_field_id)
            answer = answers.get(other.field.key) if other is not None else None
            picked = answer if isinstance(answer, list) else [answer]
            if rf.shown_when_value not in [str(a) for a in picked if a is not None]:
                continue
        shown.append(rf)
    return shown


def set_request_type(ticket: Ticket, request_type: RequestType | None, *, actor: StaffUser | None) -> None:
    """Give a ticket its request type (an agent's choice, or an email rule)."""
    if ticket.request_type_id == (request_type.id if request_type else None):
        return
    old = ticket.request_type_id
    ticket.request_type_id = request_type.id if request_type else None
    ticket.updated_at = utcnow()
    db.session.flush()
    events.publish(
        events.ticket_changed,
        ticket,
        changes={"request_type": (old, ticket.request_type_id)},
        actor=actor,
    )


def type_for_email(subject: str) -> RequestType | None:
    """The first active request type (in order) one of whose keywords the subject contains."""
    text = subject.casefold()
    for request_type, words in _email_keywords():
        if any(w in text for w in words):
            return request_type
    return None


_EMAIL_KEYWORDS = "helpdesk.request_type_email_keywords"


def _email_keywords() -> list[tuple[RequestType, list[str]]]:
    """The request types with email keywords, read once per transaction (a batch of mail asks for
    each message) and without flushing: it is called while a ticket is being opened."""
    cached = db.session.info.get(_EMAIL_KEYWORDS)
    if cached is None:
        with db.session.no_autoflush:
            request_types = db.session.scalars(
                select(RequestType)
                .where(RequestType.is_active, RequestType.email_keywords != "")
                .order_by(RequestType.position, RequestType.id)
            ).all()
        cached = [
            (t, [w for w in (w.strip().casefold() for w in re.split(r"[,\n،]", t.email_keywords)) if w])
            for t in request_types
        ]
        db.session.info[_EMAIL_KEYWORDS] = cached
    return cached


@event.listens_for(Session, "after_transaction_end")
def _forget_email_keywords(session: Session, transaction: SessionTransaction) -> None:
    if transaction.parent is None:  # the outermost transaction: a commit or a rollback
        session.info.pop(_EMAIL_KEYWORDS, None)


def options_from_text(text: str) -> list[tuple[str, str, str]]:
    """Options written one per line as ``value | Arabic label | English label``."""
    found = []
    for line in text.splitlines():
        if not line.strip():
            continue
        parts = [p.strip() for p in line.split("|")]
        parts += [""] * (3 - len(parts))
        found.append((parts[0], parts[1], parts[2]))
    return found


def options_as_text(field: CustomField | None) -> str:
    if field is None:
        return ""
    return "\n".join(f"{o.value} | {o.label_ar} | {o.label_en}" for o in field.active_options)
