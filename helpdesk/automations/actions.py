"""What a rule does to a ticket, each action through the existing services (so SLA recomputation,
system events, webhooks and emails happen as for a person's change).

An action is ``{"type": …, "value": …}``. ``apply_actions`` returns what was done as
``[[type, value], …]``, stored in the ticket's "automation" event and shown in the reader's language.
"""

from __future__ import annotations

import re
from types import SimpleNamespace
from typing import Any

from flask import current_app
from flask_babel import force_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from helpdesk import events
from helpdesk.auth.models import StaffUser
from helpdesk.extensions import db
from helpdesk.mail.compose import thread_headers
from helpdesk.mail.outbox import queue_email
from helpdesk.tickets import assignment
from helpdesk.tickets import service as tickets
from helpdesk.tickets.errors import DomainError
from helpdesk.tickets.macros import PLACEHOLDER, placeholder_values
from helpdesk.tickets.models import Priority, Queue, Status, Ticket
from helpdesk.urls import external_url

ACTIONS = (
    "set_status",
    "set_priority",
    "set_queue",
    "assign",  # value: an agent id, "round_robin" or "none"
    "add_tags",
    "remove_tags",
    "add_note",
    "email_customer",  # value: {"subject_ar", "body_ar", "subject_en", "body_en"}
    "email_staff",  # value: "assignee" or "supervisor"
    "webhook",  # the webhook event automation.applied
    "set_field",  # value: {"field": key, "value": the field's plain value, None clears it}
    "set_request_type",  # value: a request type id or "none"
)


class ActionFailed(DomainError):
    pass


def apply_actions(rule: Any, ticket: Ticket) -> list[list[Any]]:
    """Apply the rule's actions to the ticket in order; returns what was done."""
    done: list[list[Any]] = []
    for action in rule.actions or []:
        kind, value = action["type"], action.get("value")
        if kind == "set_status":
            tickets.change_status(ticket, Status(value), actor=None)
        elif kind == "set_priority":
            tickets.change_priority(ticket, Priority(value), actor=None)
        elif kind == "set_queue":
            queue = db.session.get(Queue, int(value)) if value not in (None, "") else None
            tickets.change_queue(ticket, queue, actor=None)
            value = queue.slug if queue else "-"
        elif kind == "assign":
            value = _assign(ticket, value)
        elif kind == "add_tags":
            tickets.update_ticket(ticket, actor=None, add_tags=list(value or []))
        elif kind == "remove_tags":
            gone = {str(t).strip().lower() for t in value or []}
            tickets.change_tags(ticket, [t.name for t in ticket.tags if t.name not in gone], actor=None)
        elif kind == "add_note":
            tickets.record_event(ticket, "automation_note", str(value or ""))
            value = None
        elif kind == "email_customer":
            _email_customer(ticket, value or {})
            value = None
        elif kind == "email_staff":
            _email_staff(ticket, rule.name, str(value))
        elif kind == "webhook":
            events.publish(events.automation_applied, ticket, rule_id=rule.id, rule_name=rule.name)
            value = "automation.applied"
        elif kind == "set_field":
            value = _set_field(ticket, value or {})
        elif kind == "set_request_type":
            value = _set_request_type(ticket, value)
        done.append([kind, value])
    return done


def _assign(ticket: Ticket, value: Any) -> str:
    if value == "none":
        tickets.assign(ticket, None, actor=None)
        return "-"
    if value == "round_robin":
        agent = assignment.assign_round_robin(
            ticket, actor=None, cap=current_app.config["MAX_OPEN_TICKETS_PER_AGENT"]
        )
        return agent.name
    agent = db.session.get(StaffUser, int(value))
    if agent is None:
        raise ActionFailed(str(_l("The agent of this rule no longer exists.")))
    tickets.assign(ticket, agent, actor=None)
    return agent.name


def _set_field(ticket: Ticket, value: dict) -> str:
    """Set one custom field through the fields service (typed, published like an agent's change)."""
    from helpdesk.custom_fields import service as fields
    from helpdesk.custom_fields.values import InvalidFieldValue

    key, new = value.get("field"), value.get("value")
    try:
        fields.set_ticket_fields(
            ticket, {key: new}, actor=None, locale=current_app.config["BABEL_DEFAULT_LOCALE"]
        )
    except (InvalidFieldValue, DomainError) as error:
        raise ActionFailed(str(error)) from None
    shown = ", ".join(map(str, new)) if isinstance(new, list) else "-" if new in (None, "") else str(new)
    return f"{key} = {shown}"


def _set_request_type(ticket: Ticket, value: Any) -> str:
    from helpdesk.custom_fields import service as fields
    from helpdesk.custom_fields.models import RequestType

    request_type = db.session.get(RequestType, int(value)) if str(value).isdigit() else None
    if str(value).isdigit() and request_type is None:
        raise ActionFailed(str(_l("The request type of this rule no longer exists.")))
    fields.set_request_type(ticket, request_type, actor=None)
    return request_type.key if request_type else "-"


def fill_placeholders(text: str, ticket: Ticket) -> str:
    """The macro placeholders filled in; a missing value refuses the email (never "{{ … }}" to a customer)."""
    values = placeholder_values(ticket, ticket.assignee or SimpleNamespace(name=None))
    missing: list[str] = []

    def fill(match: re.Match) -> str:
        name = match.group(1)
        if values.get(name) is None:
            missing.append(name)
            return match.group(0)
        return str(values[name])

    filled = PLACEHOLDER.sub(fill, text)
    if missing:
        raise ActionFailed(
            str(_l("No value for %(names)s on this ticket.", names=", ".join(sorted(set(missing)))))
        )
    return filled


def _email_customer(ticket: Ticket, template: dict) -> None:
    to = ticket.customer.email
    if not to:
        raise ActionFailed(str(_l("The customer has no email address.")))
    language = ticket.language or ticket.customer.language or current_app.config["BABEL_DEFAULT_LOCALE"]
    language = "en" if language == "en" else "ar"
    other = "ar" if language == "en" else "en"
    subject = template.get(f"subject_{language}") or template.get(f"subject_{other}") or ticket.subject
    body = template.get(f"body_{language}") or template.get(f"body_{other}") or ""
    queue_email(
        to=to,
        subject=f"[{ticket.number}] {fill_placeholders(subject, ticket)}",
        text=fill_placeholders(body, ticket).rstrip() + "\n",
        kind="automation",
        ticket=ticket,
        headers=thread_headers(ticket),
    )


def _email_staff(ticket: Ticket, rule_name: str, to: str) -> None:
    recipient = ticket.assignee if to == "assignee" else (ticket.queue.supervisor if ticket.queue else None)
    if recipient is None or not recipient.is_active:
        raise ActionFailed(str(_l("Nobody to email: the ticket has no assignee or queue supervisor.")))
    with force_locale(recipient.language or current_app.config["BABEL_DEFAULT_LOCALE"]):
        subject = _("[%(number)s] Automation «%(rule)s»", number=ticket.number, rule=rule_name)
        text = "\n".join(
            [
                _(
                    "The automation «%(rule)s» asks you to look at ticket %(number)s: %(subject)s",
                    rule=rule_name,
                    number=ticket.number,
                    subject=ticket.subject,
                ),
                "",
                external_url("agents.ticket", number=ticket.number),
            ]
        )
    queue_email(to=recipient.email, subject=subject, text=text + "\n", kind="automation", ticket=ticket)
