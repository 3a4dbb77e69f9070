"""Ticket codes in words (statuses, priorities, channels, system events), for pages and messages."""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from datetime import UTC, datetime

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from helpdesk.i18n import format_local_datetime, format_word_list
from helpdesk.sla.labels import METRIC_LABELS
from helpdesk.tickets.models import Channel, MessageKind, Priority, Status

STATUS_LABELS = {
    Status.NEW: _l("New"),
    Status.OPEN: _l("Open"),
    Status.PENDING: _l("Pending"),
    Status.ON_HOLD: _l("On hold"),
    Status.SOLVED: _l("Solved"),
    Status.CLOSED: _l("Closed"),
}
# What the customer reads for the same status: it speaks to them ("awaiting your reply"), not about them.
CUSTOMER_STATUS_LABELS = {
    Status.NEW: _l("Waiting for our reply"),
    Status.OPEN: _l("In progress"),
    Status.PENDING: _l("Awaiting your reply"),
    Status.ON_HOLD: _l("In progress"),
    Status.SOLVED: _l("Solved"),
    Status.CLOSED: _l("Closed"),
}
PRIORITY_LABELS = {
    Priority.LOW: _l("Low"),
    Priority.NORMAL: _l("Normal"),
    Priority.HIGH: _l("High"),
    Priority.URGENT: _l("Urgent"),
}
CHANNEL_LABELS = {
    Channel.EMAIL: _l("Email"),
    Channel.PORTAL: _l("Portal"),
    Channel.AGENT: _l("Agent"),
    Channel.API: _l("API"),
    Channel.WHATSAPP: _l("WhatsApp"),
}
EVENT_LABELS = {
    "status_changed": _l("status"),
    "priority_changed": _l("priority"),
    "assigned": _l("assignee"),
    "queue_changed": _l("queue"),
    "tags_changed": _l("tags"),
    "merged_from": _l("merged from"),
    "merged_into": _l("merged into"),
    "sla_warning": _l("SLA target close"),
    "sla_breached": _l("SLA target missed"),
    "auto_reply": _l("automatic reply received"),
    "bounce": _l("our email bounced"),
    "follow_up": _l("follow-up"),
    "attachment_dropped": _l("attachment not kept"),
    "automation": _l("automation"),
    "automation_note": _l("automation note"),
    "automation_limit": _l("automation rules stopped"),
    "whatsapp_reaction": _l("WhatsApp reaction"),
    "whatsapp_media_missing": _l("WhatsApp media not downloaded"),
}
# What an automation rule did, as stored in its "automation" event (see helpdesk.automations).
AUTOMATION_DONE = {
    "set_status": _l("set status to %(value)s"),
    "set_priority": _l("set priority to %(value)s"),
    "set_queue": _l("moved the ticket to queue %(value)s"),
    "assign": _l("assigned the ticket to %(value)s"),
    "add_tags": _l("added tags %(value)s"),
    "remove_tags": _l("removed tags %(value)s"),
    "add_note": _l("added an internal note"),
    "email_customer": _l("emailed the customer"),
    "email_staff": _l("emailed the %(value)s"),
    "webhook": _l("sent the webhook %(value)s"),
    "set_field": _l("set the field %(value)s"),
    "set_request_type": _l("set the request type to %(value)s"),
}

# How the SLA job writes a due time into its event (UTC, for the export); pages show it localised.
_STORED_DUE = re.compile(r"due (\d{4}-\d{2}-\d{2} \d{2}:\d{2}) UTC")


def event_text(message, staff_names: Mapping[str, str] | None = None) -> str:
    """A system event in words; ``staff_names`` (email → name) names the assignee of "assigned"."""
    return describe_change(message.kind, message.event, message.body_text, staff_names)


def describe_change(
    kind: MessageKind, event: str | None, text: str, staff_names: Mapping[str, str] | None = None
) -> str:
    """One change in words for the timeline and the stale-write message: "status: open → pending".
    ``staff_names`` (email → name) shows an assignee by name; an email not in it is shown as stored."""
    if kind == MessageKind.REPLY:
        return _("a new reply")
    if kind == MessageKind.NOTE:
        return _("a new internal note")
    label = EVENT_LABELS.get(event or "")
    if not label:
        return event or _("new activity")
    if event == "automation":
        return describe_automation(text)
    if event == "automation_limit":
        return _(
            "Automation rules stopped: the limit of rule applications per change (%(count)s) was reached.",
            count=text,
        )
    if event == "assigned":  # stored as the assignee's email, or "-" when unassigned
        value = text.strip()
        shown = _("Unassigned") if value in ("", "-") else (staff_names or {}).get(value.lower(), value)
        return f"{label}: {shown}"
    return f"{label}: {_translate_values(event, text)}"


def describe_automation(text: str) -> str:
    """What an automation did ("Automation «Close» set status to Closed") in the reader's language."""
    try:
        stored = json.loads(text)
        name, done = stored["rule"], stored["did"]
    except (ValueError, KeyError, TypeError):
        return text
    words = {"status": STATUS_LABELS, "priority": PRIORITY_LABELS}
    recipients = {"assignee": _l("assignee"), "supervisor": _l("queue's supervisor")}
    parts = []
    for kind, value in done:
        template = AUTOMATION_DONE.get(kind)
        if template is None:
            continue
        if kind == "set_status":
            value = words["status"].get(_code(Status, value), value)
        elif kind == "set_priority":
            value = words["priority"].get(_code(Priority, value), value)
        elif kind == "email_staff":
            value = recipients.get(value, value)
        elif kind == "assign" and value == "-":
            value = _l("nobody")
        elif isinstance(value, list):
            value = format_word_list([str(item) for item in value], clauses=False)
        parts.append(str(template) % {"value": str(value)})
    return str(_l("Automation «%(name)s» %(done)s", name=name, done=format_word_list(parts)))


def _code(enum, value):
    try:
        return enum(value)
    except ValueError:
        return value


def _translate_values(event: str | None, text: str) -> str:
    """Status, priority and SLA target values are stored as codes ("open → solved"); show them in words."""
    if event in ("sla_warning", "sla_breached"):  # stored as "resolution · due 2026-11-26 08:00 UTC"
        metric, _sep, rest = text.partition(" · ")
        words = {code.value: str(label) for code, label in METRIC_LABELS.items()}
        found = _STORED_DUE.fullmatch(rest.strip())
        if not found:
            return f"{words.get(metric, metric)} · {rest}" if rest else words.get(metric, metric)
        due = datetime.strptime(found.group(1), "%Y-%m-%d %H:%M").replace(tzinfo=UTC)
        return str(
            _l("%(metric)s due %(due)s", metric=words.get(metric, metric), due=format_local_datetime(due))
        )
    labels = {"status_changed": (STATUS_LABELS, Status), "priority_changed": (PRIORITY_LABELS, Priority)}
    if event not in labels:
        return text
    names, enum = labels[event]

    def word(code: str) -> str:
        try:
            return str(names[enum(code.strip())])
        except (ValueError, KeyError):
            return code.strip()

    return " → ".join(word(part) for part in text.split("→"))
