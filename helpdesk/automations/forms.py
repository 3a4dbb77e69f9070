"""The rule editor's form: fixed rows of (condition, value) and (action, value) that work without
JavaScript, read into and out of the stored JSON. Values are typed as people know them (queue short
names, agent emails, codes separated by commas); ids stay inside."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from sqlalchemy import select
from wtforms import BooleanField, SelectField, SelectMultipleField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length
from wtforms.widgets import CheckboxInput, ListWidget

from helpdesk.auth.models import StaffUser
from helpdesk.automations.conditions import FIELDS, TIME_FIELDS
from helpdesk.automations.models import TriggerEvent
from helpdesk.extensions import db
from helpdesk.tickets.models import Queue

ALL_ROWS, ANY_ROWS, ACTION_ROWS = 6, 4, 5
# Conditions whose value is typed as a list separated by commas.
LISTED = (
    "subject",
    "body",
    "text",
    "channel",
    "status",
    "priority",
    "customer_tier",
    "email_domain",
    "language",
    "order_status",
)

FIELD_LABELS = {
    "channel": _l("Channel"),
    "queue": _l("Queue"),
    "status": _l("Status"),
    "priority": _l("Priority"),
    "customer_tier": _l("Customer tier"),
    "email_domain": _l("Customer email domain"),
    "language": _l("Language"),
    "order_status": _l("Order status"),
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
    "none": _l("is nobody"),
    "someone": _l("is someone"),
    "contains": _l("contains"),
    "not_contains": _l("does not contain"),
    "due_soon": _l("is due soon"),
    "breached": _l("is breached"),
    "at_least": _l("at least (calendar hours)"),
    "at_least_business": _l("at least (business hours)"),
}
ACTION_LABELS = {
    "set_status": _l("Set status"),
    "set_priority": _l("Set priority"),
    "set_queue": _l("Move to queue"),
    "assign": _l("Assign to (agent email, round_robin or none)"),
    "add_tags": _l("Add tags"),
    "remove_tags": _l("Remove tags"),
    "add_note": _l("Add an internal note"),
    "email_customer": _l("Email the customer (the template below)"),
    "email_staff": _l("Email the assignee or supervisor"),
    "webhook": _l("Send the webhook automation.applied"),
}
EVENT_LABELS = {
    TriggerEvent.CREATED: _l("A ticket is created"),
    TriggerEvent.UPDATED: _l("A ticket is updated"),
    TriggerEvent.CUSTOMER_MESSAGE: _l("The customer writes"),
    TriggerEvent.AGENT_MESSAGE: _l("An agent replies or adds a note"),
}


def condition_choices() -> list[tuple[str, str]]:
    choices = [("", "—")]
    for name, ops in FIELDS.items():
        for op in ops:
            choices.append((f"{name}:{op}", f"{FIELD_LABELS[name]} {OP_LABELS[op]}"))
            if op == "at_least":
                choices.append(
                    (f"{name}:at_least_business", f"{FIELD_LABELS[name]} {OP_LABELS['at_least_business']}")
                )
    return choices


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


def _split(text: str) -> list[str]:
    return [p.strip() for p in str(text or "").replace("،", ",").split(",") if p.strip()]


def _queue_ids(slugs: list[str]) -> list[Any]:
    found = dict(db.session.execute(select(Queue.slug, Queue.id).where(Queue.slug.in_(slugs))).all())
    return [found.get(s, s) for s in slugs]  # an unknown short name stays as typed: refused by the service


def _staff_id(email: str) -> Any:
    agent = db.session.scalar(select(StaffUser.id).where(StaffUser.email == email.strip().lower()))
    return agent if agent is not None else email


def read_conditions(form: Mapping[str, str]) -> dict:
    """The condition rows of the submitted form as stored conditions."""
    conditions: dict[str, list] = {"all": [], "any": []}
    for group, rows in (("all", ALL_ROWS), ("any", ANY_ROWS)):
        for n in range(rows):
            chosen = form.get(f"{group}-{n}-condition") or ""
            if ":" not in chosen:
                continue
            name, op = chosen.split(":", 1)
            text = form.get(f"{group}-{n}-value") or ""
            value: Any = text.strip()
            if name in TIME_FIELDS:
                value = {"hours": text.strip(), "business": op == "at_least_business"}
                op = "at_least"
            elif name == "queue":
                value = _queue_ids(_split(text))
            elif name == "assignee":
                value = _staff_id(text) if op in ("is", "is_not") else None
            elif name in (
                "subject",
                "body",
                "text",
                "channel",
                "status",
                "priority",
                "customer_tier",
            ) or name in ("email_domain", "language", "order_status"):
                value = _split(text)
            conditions[group].append({"field": name, "op": op, "value": value})
    return conditions


def read_actions(form: Mapping[str, str]) -> list[dict]:
    actions = []
    for n in range(ACTION_ROWS):
        kind = form.get(f"action-{n}-type") or ""
        if not kind:
            continue
        text = (form.get(f"action-{n}-value") or "").strip()
        value: Any = text
        if kind == "set_queue":
            value = _queue_ids([text])[0] if text else None
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


def rows_of(conditions: dict, actions: list[dict]) -> dict[str, str]:
    """The form's row values for a stored rule (the reverse of ``read_conditions`` / ``read_actions``)."""
    queues = dict(db.session.execute(select(Queue.id, Queue.slug)).all())
    staff = dict(db.session.execute(select(StaffUser.id, StaffUser.email)).all())
    rows: dict[str, str] = {}
    for group in ("all", "any"):
        for n, c in enumerate(conditions.get(group) or []):
            name, op, value = c["field"], c["op"], c.get("value")
            if name in TIME_FIELDS:
                op = "at_least_business" if value.get("business") else "at_least"
                text = f"{value['hours']:g}"
            elif name == "queue":
                text = ", ".join(queues.get(v, str(v)) for v in value)
            elif name == "assignee":
                text = staff.get(value, "") if op in ("is", "is_not") else ""
            elif isinstance(value, list):
                text = ", ".join(str(v) for v in value)
            else:
                text = str(value or "")
            rows[f"{group}-{n}-condition"] = f"{name}:{op}"
            rows[f"{group}-{n}-value"] = text
    for n, a in enumerate(actions):
        kind, value = a["type"], a.get("value")
        if kind == "set_queue":
            text = queues.get(value, "") if value else ""
        elif kind == "assign":
            text = value if value in ("round_robin", "none") else staff.get(value, "")
        elif isinstance(value, list):
            text = ", ".join(value)
        elif isinstance(value, dict) or value is None:
            text = ""
        else:
            text = str(value)
        rows[f"action-{n}-type"] = kind
        rows[f"action-{n}-value"] = text
    return rows


def email_template(actions: list[dict]) -> dict[str, str]:
    for action in actions:
        if action["type"] == "email_customer":
            return dict(action.get("value") or {})
    return {}
