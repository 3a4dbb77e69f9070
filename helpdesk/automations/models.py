"""Automation rules and the ledger of their applications."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import JSON, ForeignKey, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from helpdesk.dbtypes import UTCDateTime, enum_type, utcnow
from helpdesk.extensions import db
from helpdesk.sanitize import one_line_columns
from helpdesk.tickets.models import Status, Ticket


class RuleKind(enum.StrEnum):
    TRIGGER = "trigger"  # runs in the transaction of a ticket event
    AUTOMATION = "automation"  # time-based: evaluated by the worker every few minutes


# The tickets automations look at: every one not closed.
AUTOMATION_STATUSES = (Status.NEW, Status.OPEN, Status.PENDING, Status.ON_HOLD, Status.SOLVED)


class TriggerEvent(enum.StrEnum):
    CREATED = "created"
    UPDATED = "updated"
    CUSTOMER_MESSAGE = "customer_message"
    AGENT_MESSAGE = "agent_message"


class AutomationRule(db.Model):
    """ "When these conditions hold, do these actions". ``conditions`` is ``{"all": [...], "any": [...]}``
    of ``{"field", "op", "value"}`` (see ``conditions.FIELDS``); ``actions`` a list of
    ``{"type", "value"}`` (see ``actions.ACTIONS``). Rules of a kind run in ``position`` order."""

    __tablename__ = "automation_rules"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(120))
    kind: Mapped[RuleKind] = mapped_column(enum_type(RuleKind), default=RuleKind.TRIGGER)
    position: Mapped[int] = mapped_column(Integer, default=0, index=True)
    is_active: Mapped[bool] = mapped_column(default=True)
    events: Mapped[list] = mapped_column(JSON, default=list)  # triggers: TriggerEvent values
    conditions: Mapped[dict] = mapped_column(JSON, default=dict)
    actions: Mapped[list] = mapped_column(JSON, default=list)
    # Safety: apply at most once to a ticket, ever (for rules whose actions change no condition).
    once_per_ticket: Mapped[bool] = mapped_column(default=False)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("staff_users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    _one_line = one_line_columns("name")


class AutomationApplication(db.Model):
    """One application of a rule to a ticket at a ticket version (0 for once-per-ticket rules).

    The unique key is the guard against loops and double application: a rule applies again to a
    ticket only once the ticket has changed (a new version), and of two workers that both found the
    ticket, only the one whose insert took applies the actions."""

    __tablename__ = "automation_applications"
    __table_args__ = (
        UniqueConstraint("rule_id", "ticket_id", "ticket_version", name="uq_automation_applications_once"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    rule_id: Mapped[int] = mapped_column(ForeignKey("automation_rules.id", ondelete="CASCADE"))
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id", ondelete="CASCADE"), index=True)
    ticket_version: Mapped[int] = mapped_column(Integer)
    applied_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    rule: Mapped[AutomationRule] = relationship()
    ticket: Mapped[Ticket] = relationship()
