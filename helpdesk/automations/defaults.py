"""The rules a new helpdesk ships with (active in the demo data, editable like any other)."""

from __future__ import annotations

from flask import current_app
from flask_babel import force_locale
from flask_babel import gettext as _
from sqlalchemy import select

from helpdesk.automations.models import AutomationRule
from helpdesk.automations.service import save_rule
from helpdesk.extensions import db
from helpdesk.tickets.models import Queue

REMINDER = {
    "subject_ar": "بانتظار ردّك: {{ ticket_subject }}",
    "body_ar": (
        "مرحبًا {{ customer_first_name }}،\n\n"
        "ما زلنا بانتظار ردّك على طلب الدعم {{ ticket_number }} «{{ ticket_subject }}». "
        "إن لم يصلنا ردّك خلال أربعة أيام فسنغلق طلب الدعم، "
        "ويمكنك فتحه من جديد متى شئت بالرد على هذه الرسالة.\n\n"
        "مع التحية"
    ),
    "subject_en": "Waiting for your reply: {{ ticket_subject }}",
    "body_en": (
        "Hello {{ customer_first_name }},\n\n"
        "We are still waiting for your reply on {{ ticket_number }} “{{ ticket_subject }}”. If we don't hear "
        "from you within four days we will close the case; you can reopen it any time by replying to this "
        "email.\n\nBest regards"
    ),
}
# Return / exchange wording, Arabic (normalised forms cover the hamza spellings) and English.
RETURN_WORDS = ["استرجاع", "ارجاع", "استبدال", "تبديل", "مرتجع", "return", "refund", "exchange"]
RETURNS_QUEUE = "returns"
BUSINESS_DAYS_3 = {"hours": 24, "business": True}  # three days of the default 09:00–17:00 calendar
BUSINESS_HOURS_2 = {"hours": 2, "business": True}


def install_default_rules() -> list[AutomationRule]:
    """Save the shipped rules unless there are rules already (safe to call again). Flushes. They are
    named in the install's default language: a rule's name is data its editors then change."""
    if db.session.scalar(select(AutomationRule.id).limit(1)) is not None:
        return []
    with force_locale(current_app.config["BABEL_DEFAULT_LOCALE"]):
        return _install()


def _install() -> list[AutomationRule]:
    returns = db.session.scalar(select(Queue).where(Queue.slug == RETURNS_QUEUE))
    specs: list[dict] = [
        {
            "name": _("Remind the customer after 3 business days pending"),
            "kind": "automation",
            "conditions": {
                "all": [
                    {"field": "status", "op": "is", "value": ["pending"]},
                    {
                        "field": "hours_since_status_set",
                        "op": "at_least",
                        "value": {"hours": 24, "business": True},
                    },
                    {"field": "tags", "op": "lacks", "value": "reminded"},
                ]
            },
            "actions": [
                {"type": "email_customer", "value": REMINDER},
                {"type": "add_tags", "value": ["reminded"]},
            ],
        },
        {
            "name": _("Close 4 days after the reminder"),
            "kind": "automation",
            "conditions": {
                "all": [
                    {"field": "status", "op": "is", "value": ["pending"]},
                    {"field": "tags", "op": "has", "value": "reminded"},
                    {"field": "hours_since_updated", "op": "at_least", "value": {"hours": 96}},
                ]
            },
            "actions": [
                {"type": "add_note", "value": "Closed automatically: no reply four days after the reminder."},
                {"type": "set_status", "value": "closed"},
            ],
        },
        {
            "name": _("VIP customers get high priority"),
            "kind": "trigger",
            "events": ["created"],
            "conditions": {
                "all": [
                    {"field": "customer_tier", "op": "is", "value": ["vip"]},
                    {"field": "priority", "op": "is", "value": ["low", "normal"]},
                ]
            },
            "actions": [{"type": "set_priority", "value": "high"}],
        },
        {
            "name": _("Tell the supervisor: high priority unanswered for 2 business hours"),
            "kind": "automation",
            "conditions": {
                "all": [
                    {"field": "priority", "op": "is", "value": ["high", "urgent"]},
                    {"field": "status", "op": "is", "value": ["new", "open"]},
                    {
                        "field": "hours_since_agent_reply",
                        "op": "at_least",
                        "value": {"hours": 2, "business": True},
                    },
                    {"field": "tags", "op": "lacks", "value": "supervisor-told"},
                ]
            },
            "actions": [
                {"type": "email_staff", "value": "supervisor"},
                {"type": "add_tags", "value": ["supervisor-told"]},
            ],
        },
    ]
    if returns is not None:
        specs.insert(
            2,
            {
                "name": _("Returns and exchanges go to the returns queue"),
                "kind": "trigger",
                "events": ["created", "customer_message"],
                "conditions": {
                    "all": [{"field": "queue", "op": "is_not", "value": [returns.id]}],
                    "any": [{"field": "text", "op": "contains", "value": RETURN_WORDS}],
                },
                "actions": [{"type": "set_queue", "value": returns.id}],
            },
        )
    return [save_rule(None, actor=None, **spec) for spec in specs]
