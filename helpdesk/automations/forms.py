"""The rule editor's form: fixed rows of (condition, value) and (action, value) that work without
JavaScript, read into and out of the stored JSON. Each condition or action shows the value picker a
supervisor knows (ticked statuses, a queue or an agent by name, a tag with suggestions, a number of
hours in calendar or business hours); the stored ids and codes stay inside."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from sqlalchemy import select
from werkzeug.datastructures import MultiDict
from wtforms import BooleanField, SelectField, SelectMultipleField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length
from wtforms.widgets import CheckboxInput, ListWidget

from helpdesk.auth.models import StaffUser
from helpdesk.automations import field_conditions
from helpdesk.automations.conditions import FIELDS, TIME_FIELDS
from helpdesk.automations.models import TriggerEvent
from helpdesk.custom_fields.models import CustomField, FieldScope, FieldType, RequestType
from helpdesk.customers.labels import ORDER_STATUS_LABELS, TIER_LABELS
from helpdesk.extensions import db
from helpdesk.i18n import LANGUAGE_CHOICES
from helpdesk.tickets.labels import CHANNEL_LABELS, PRIORITY_LABELS, STATUS_LABELS
from helpdesk.tickets.models import Queue, Tag

ALL_ROWS, ANY_ROWS, ACTION_ROWS = 6, 4, 5
ROW_NAME = re.compile(r"(all|any)-[0-9]{1,2}|action-[0-9]{1,2}")

FIELD_LABELS = {
    "channel": _l("Channel"),
    "queue": _l("Queue"),
    "status": _l("Status"),
    "priority": _l("Priority"),
    "customer_tier": _l("Customer tier"),
    "email_domain": _l("Customer email domain"),
    "language": _l("Language"),
    "order_status": _l("Order status"),
    "request_type": _l("Request type"),
    "tags": _l("Tags"),
    "assignee": _l("Assignee"),
    "subject": _l("Subject"),
    "body": _l("Message"),
    "text": _l("Subject or message"),
    "sla": _l("SLA"),
    "hours_since_created": _l("Hours since created"),
    "hours_since_updated": _l("Hours since updated"),
    "hours_since_customer_message": _l("Hours since the customer's last message"),
    "hours_since_agent_reply": _l("Hours since the last agent reply"),
    "hours_since_status_set": _l("Hours since the status was set"),
}
OP_LABELS = {
    "is": _l("is"),
    "is_not": _l("is not"),
    "has": _l("has"),
    "lacks": _l("lacks"),
    "contains": _l("contains"),
    "not_contains": _l("does not contain"),
    "at_least": _l("at least"),
    "set": _l("is filled in"),
    "empty": _l("is empty"),
}
ACTION_LABELS = {
    "set_status": _l("Set status"),
    "set_priority": _l("Set priority"),
    "set_queue": _l("Move to queue"),
    "assign": _l("Assign to"),
    "add_tags": _l("Add tags"),
    "remove_tags": _l("Remove tags"),
    "add_note": _l("Add an internal note"),
    "email_customer": _l("Email the customer (the template below)"),
    "email_staff": _l("Email the assignee or supervisor"),
    "webhook": _l("Send the webhook automation.applied"),
    "set_request_type": _l("Set the request type"),
}
YES_NO_LABELS = {"yes": _l("Yes"), "no": _l("No")}
EVENT_LABELS = {
    TriggerEvent.CREATED: _l("A ticket is created"),
    TriggerEvent.UPDATED: _l("A ticket is updated"),
    TriggerEvent.CUSTOMER_MESSAGE: _l("The customer writes"),
    TriggerEvent.AGENT_MESSAGE: _l("An agent replies or adds a note"),
}
SLA_LABELS = {"due_soon": _l("due soon"), "breached": _l("breached")}
UNIT_LABELS = {"calendar": _l("calendar hours"), "business": _l("business hours (the queue's calendar)")}
STAFF_LABELS = {"assignee": _l("the assignee"), "supervisor": _l("the queue's supervisor")}

# The operators the editor offers, per field: the assignee's "nobody" / "someone" and the SLA's
# "due soon" / "breached" are values of one "is", the time unit a value of "at least".
EDITOR_OPS = {
    **{name: ops for name, ops in FIELDS.items() if name not in ("assignee", "sla", *TIME_FIELDS)},
    "assignee": ("is", "is_not"),
    "sla": ("is",),
    **{name: ("at_least",) for name in TIME_FIELDS},
}
# The value picker of each condition field and action: "ticks" (several codes), "select" (one),
# "tag", "text", "note", "hours", or None (no value).
CONDITION_PICKERS = {
    **dict.fromkeys(("channel", "queue", "status", "priority", "customer_tier", "language"), "ticks"),
    "request_type": "ticks",
    "order_status": "ticks",
    "email_domain": "text",
    "tags": "tag",
    "assignee": "select",
    "subject": "text",
    "body": "text",
    "text": "text",
    "sla": "select",
    **dict.fromkeys(TIME_FIELDS, "hours"),
}
ACTION_PICKERS = {
    "set_status": "select",
    "set_priority": "select",
    "set_queue": "select",
    "assign": "select",
    "add_tags": "tag",
    "remove_tags": "tag",
    "add_note": "note",
    "email_customer": None,
    "email_staff": "select",
    "webhook": None,
    "set_request_type": "select",
}
SET_FIELD = "set_field."  # the editor's action "set_field.<key>"; stored as set_field with the key


def condition_choices(choices: EditorChoices | None = None) -> list[tuple[str, str]]:
    """The conditions a row offers: the fixed ones, then each active ticket field's."""
    fields = choices.fields if choices is not None else []
    return (
        [("", "—")]
        + [
            (f"{name}:{op}", f"{FIELD_LABELS[name]} {OP_LABELS[op]}")
            for name, ops in EDITOR_OPS.items()
            for op in ops
        ]
        + [
            (f"{field_conditions.PREFIX}{f.key}:{op}", f"{f.label_for(choices.language)} {OP_LABELS[op]}")
            for f in fields
            for op in field_conditions.operators(f)
        ]
    )


def action_choices(choices: EditorChoices | None = None) -> list[tuple[str, str]]:
    fields = choices.fields if choices is not None else []
    settable = [f for f in fields if f.type != FieldType.ORDER]
    return [
        ("", "—"),
        *ACTION_LABELS.items(),
        *[
            (SET_FIELD + f.key, str(_l("Set the field %(field)s", field=f.label_for(choices.language))))
            for f in settable
        ],
    ]


class RuleForm(FlaskForm):
    name = StringField(_l("Name"), validators=[DataRequired(), Length(max=120)])
    is_active = BooleanField(_l("Active"), default=True)
    once_per_ticket = BooleanField(_l("Once per ticket (never again on the same ticket)"))
    events = SelectMultipleField(
        _l("Runs when"),
        choices=[(e.value, label) for e, label in EVENT_LABELS.items()],
        option_widget=CheckboxInput(),
        widget=ListWidget(prefix_label=False),
    )
    subject_ar = StringField(_l("Email subject (Arabic)"))
    body_ar = TextAreaField(_l("Email text (Arabic)"))
    subject_en = StringField(_l("Email subject (English)"))
    body_en = TextAreaField(_l("Email text (English)"))


class ControlForm(FlaskForm):
    """The CSRF token of the list page's buttons (move, activate, delete)."""

    direction = SelectField(choices=[("up", "up"), ("down", "down")], validate_choice=False)


@dataclass
class Picker:
    """The value field of one row: its kind (see ``CONDITION_PICKERS``) and, for ticks and selects,
    the (value, label) options."""

    kind: str | None
    options: list[tuple[str, str]]


class EditorChoices:
    """What the pickers offer, read once per page: queues, active agents by name, existing tags."""

    def __init__(self, language: str) -> None:
        from sqlalchemy.orm import selectinload

        self.language = language
        self.fields: list[CustomField] = list(
            db.session.scalars(
                select(CustomField)
                .where(CustomField.is_active, CustomField.scope == FieldScope.TICKET)
                .options(selectinload(CustomField.options))
                .order_by(CustomField.position, CustomField.id)
            )
        )
        types = db.session.scalars(
            select(RequestType).where(RequestType.is_active).order_by(RequestType.position, RequestType.id)
        ).all()
        self.request_types = [(str(t.id), t.name_for(language)) for t in types]
        queues = db.session.scalars(select(Queue).order_by(Queue.id)).all()
        self.queues = [(str(q.id), q.name_for(language)) for q in queues]
        agents = db.session.execute(
            select(StaffUser.id, StaffUser.name).where(StaffUser.is_active).order_by(StaffUser.name)
        ).all()
        self.agents = [(str(i), name) for i, name in agents]
        self.tags = list(db.session.scalars(select(Tag.name).order_by(Tag.name)))

    def picker(self, choice: str, *, action: bool = False, values: list[str] = ()) -> Picker:
        """The picker for a chosen condition (``field:op``) or action; stored values not among the
        options (an order status a shop invented) are kept as options, so a save never drops them."""
        name, _sep, op = choice.partition(":")
        field = self._field(name, action)
        if field is not None:
            kind, options = self._field_picker(field, op, action)
            if kind == "ticks":
                known = {v for v, _label in options}
                options += [(v, v) for v in values if v and v not in known]
            return Picker(kind, options)
        kind = (ACTION_PICKERS if action else CONDITION_PICKERS).get(name)
        options = [(str(v), str(label)) for v, label in self._options(name, op, action)]
        if kind == "ticks":
            known = {v for v, _label in options}
            options += [(v, v) for v in values if v and v not in known]
        return Picker(kind, options)

    def _field(self, name: str, action: bool) -> CustomField | None:
        prefix = SET_FIELD if action else field_conditions.PREFIX
        if not name.startswith(prefix):
            return None
        return next((f for f in self.fields if f.key == name[len(prefix) :]), None)

    def _field_picker(self, field: CustomField, op: str, action: bool) -> tuple[str | None, list]:
        """A field's value picker: its options ticked (a condition, or a multiple choice to set),
        chosen (a dropdown to set), yes / no, or typed."""
        if not action and op in ("set", "empty"):
            return None, []
        options = [(o.value, o.label_for(self.language)) for o in field.active_options]
        if field.type == FieldType.YES_NO:
            return "select", [(k, str(v)) for k, v in YES_NO_LABELS.items()]
        if field.type == FieldType.MULTI_SELECT or (field.type.has_options and not action):
            return "ticks", options
        if field.type == FieldType.DROPDOWN:
            return "select", [("", "—"), *options]
        return "text", []

    def _options(self, name: str, op: str, action: bool) -> list[tuple[Any, Any]]:
        codes = {
            "status": STATUS_LABELS,
            "set_status": STATUS_LABELS,
            "priority": PRIORITY_LABELS,
            "set_priority": PRIORITY_LABELS,
            "channel": CHANNEL_LABELS,
            "customer_tier": TIER_LABELS,
            "sla": SLA_LABELS,
            "email_staff": STAFF_LABELS,
        }
        if name in codes:
            return [(getattr(code, "value", code), label) for code, label in codes[name].items()]
        if name == "order_status":
            return [(code, label) for code, label in ORDER_STATUS_LABELS.items() if code != "canceled"]
        if name == "language":
            return LANGUAGE_CHOICES
        if name in ("queue", "set_queue"):
            return self.queues
        if name == "request_type":
            return self.request_types
        if name == "set_request_type":
            return [("none", _l("none")), *self.request_types]
        if name == "assign":
            return [
                ("round_robin", _l("round robin (the queue's next agent)")),
                ("none", _l("nobody")),
                *self.agents,
            ]
        if name == "assignee" and op == "is":
            return [("none", _l("nobody (unassigned)")), ("someone", _l("someone (any agent)")), *self.agents]
        if name == "assignee":
            return self.agents
        if name in TIME_FIELDS and not action:
            return list(UNIT_LABELS.items())
        return []


def _split(text: str) -> list[str]:
    return [p.strip() for p in str(text or "").replace("،", ",").split(",") if p.strip()]


def _values(form: Mapping, row: str) -> list[str]:
    """A row's values: ticked boxes, or one field (a text with commas is several values)."""
    found = form.getlist(f"{row}-value") if hasattr(form, "getlist") else [form.get(f"{row}-value") or ""]
    return [v for text in found for v in _split(text)]


def _queue_id(value: str) -> Any:
    """A queue's id (its short name is accepted too); anything unknown stays as given, for the service
    to refuse with a message."""
    if value.isdigit():
        return int(value)
    found = db.session.scalar(select(Queue.id).where(Queue.slug == value))
    return found if found is not None else value


def _staff_id(value: str) -> Any:
    if value.isdigit():
        return int(value)
    found = db.session.scalar(select(StaffUser.id).where(StaffUser.email == value.strip().lower()))
    return found if found is not None else value


CHOOSE = _l("Choose a value.")
TICK = _l("Tick at least one.")
WRITE = _l("Write at least one word or phrase; separate several with commas.")
TAG = _l("Give a tag.")
HOURS = _l("Give a number of hours greater than 0.")


def read_conditions(form: Mapping, errors: dict[str, str] | None = None) -> dict:
    """The condition rows of the submitted form as stored conditions; a row whose value is missing is
    left out and named in ``errors`` (row → message)."""
    errors = {} if errors is None else errors
    conditions: dict[str, list] = {"all": [], "any": []}
    for group, count in (("all", ALL_ROWS), ("any", ANY_ROWS)):
        for n in range(count):
            row = f"{group}-{n}"
            name, _sep, op = (form.get(f"{row}-condition") or "").partition(":")
            if field_conditions.is_field_condition(name):
                values = _values(form, row) if op not in ("set", "empty") else []
                if op not in ("set", "empty") and not values:
                    errors[row] = str(CHOOSE)
                    continue
                conditions[group].append({"field": name, "op": op, "value": values or None})
                continue
            if name not in FIELDS:
                continue
            condition = _read_condition(form, row, name, op, errors)
            if condition is not None:
                conditions[group].append(condition)
    return conditions


def _read_condition(form: Mapping, row: str, name: str, op: str, errors: dict[str, str]) -> dict | None:
    values = _values(form, row)
    first = values[0] if values else ""
    if name in TIME_FIELDS:
        try:
            hours = float(first)
        except ValueError:
            hours = 0
        if not hours > 0:
            errors[row] = str(HOURS)
            return None
        business = form.get(f"{row}-unit") == "business" or op == "at_least_business"
        return {"field": name, "op": "at_least", "value": {"hours": hours, "business": business}}
    if name == "sla":  # the state is the operator
        op = first if op == "is" else op
        return {"field": name, "op": op, "value": None}
    if name == "assignee":
        if op == "is" and first in ("none", "someone"):
            return {"field": name, "op": first, "value": None}
        if op in ("none", "someone"):
            return {"field": name, "op": op, "value": None}
        if not first:
            errors[row] = str(CHOOSE)
            return None
        return {"field": name, "op": op, "value": _staff_id(first)}
    if not values:
        picker = CONDITION_PICKERS.get(name)
        errors[row] = str({"ticks": TICK, "tag": TAG}.get(picker, WRITE))
        return None
    if name == "tags":
        return {"field": name, "op": op, "value": first}
    if name in ("queue", "request_type"):
        values = [_queue_id(v) for v in values] if name == "queue" else values
    return {"field": name, "op": op, "value": values}


def read_actions(form: Mapping, errors: dict[str, str] | None = None) -> list[dict]:
    errors = {} if errors is None else errors
    actions = []
    for n in range(ACTION_ROWS):
        row = f"action-{n}"
        kind = form.get(f"{row}-type") or ""
        if not kind:
            continue
        if kind.startswith(SET_FIELD):
            # An empty value clears the field; a multiple choice sends its ticked options.
            ticked = form.getlist(f"{row}-value") if hasattr(form, "getlist") else [form.get(f"{row}-value")]
            ticked = [str(v).strip() for v in ticked if str(v or "").strip()]
            raw: Any = ticked if len(ticked) != 1 else ticked[0]
            actions.append({"type": "set_field", "value": {"field": kind[len(SET_FIELD) :], "value": raw}})
            continue
        text = (form.get(f"{row}-value") or "").strip()
        picker = ACTION_PICKERS.get(kind, "text")
        value: Any = text
        if picker and not text:
            errors[row] = str(
                {"tag": TAG, "note": _l("Write the text of the internal note.")}.get(picker, CHOOSE)
            )
            continue
        if kind == "set_queue":
            value = _queue_id(text)
        elif kind == "assign":
            value = text if text in ("round_robin", "none") else _staff_id(text)
        elif kind in ("add_tags", "remove_tags"):
            value = _split(text)
        elif kind == "email_customer":
            value = {k: form.get(k) or "" for k in ("subject_ar", "body_ar", "subject_en", "body_en")}
        elif kind == "webhook":
            value = None
        actions.append({"type": kind, "value": value})
    return actions


def rows_of(conditions: dict, actions: list[dict]) -> MultiDict:
    """The form's row values for a stored rule (the reverse of ``read_conditions`` / ``read_actions``)."""
    rows: MultiDict = MultiDict()
    for group in ("all", "any"):
        for n, c in enumerate(conditions.get(group) or []):
            row, name, op, value = f"{group}-{n}", c["field"], c["op"], c.get("value")
            values: list[str]
            if name in TIME_FIELDS:
                values = [f"{value['hours']:g}"]
                rows[f"{row}-unit"] = "business" if value.get("business") else "calendar"
            elif name == "sla" or (name == "assignee" and op in ("none", "someone")):
                op, values = "is", [op]  # the editor shows these states as values of "is"
            elif name in ("subject", "body", "text", "email_domain"):
                values = [", ".join(str(v) for v in value or [])]
            elif isinstance(value, list):
                values = [str(v) for v in value]
            else:
                values = [str(value if value is not None else "")]
            rows[f"{row}-condition"] = f"{name}:{op}"
            rows.setlist(f"{row}-value", values)
    for n, a in enumerate(actions):
        kind, value = a["type"], a.get("value")
        if isinstance(value, list):
            text = ", ".join(str(v) for v in value)
        elif isinstance(value, dict) or value is None:
            text = ""
        else:
            text = str(value)
        if kind == "set_field" and isinstance(value, dict):
            new = value.get("value")
            kind = SET_FIELD + str(value.get("field"))
            if isinstance(new, bool):
                text = "yes" if new else "no"
            elif isinstance(new, list):
                rows[f"action-{n}-type"] = kind
                rows.setlist(f"action-{n}-value", [str(v) for v in new])
                continue
            else:
                text = "" if new is None else str(new)
        rows[f"action-{n}-type"] = kind
        rows[f"action-{n}-value"] = text
    return rows


def email_template(actions: list[dict]) -> dict[str, str]:
    for action in actions:
        if action["type"] == "email_customer":
            return dict(action.get("value") or {})
    return {}
