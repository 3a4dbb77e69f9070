"""Conditions of a rule: checked in Python on one ticket (triggers, and the last step of an
automation pass) and compiled to SQL (automations), so a pass over many tickets reads candidates only.

A condition is ``{"field": …, "op": …, "value": …}``. A rule holds ``{"all": [...], "any": [...]}``:
every ``all`` condition and, when ``any`` is not empty, at least one of ``any``.

The SQL form is exact except for two kinds of condition, where it is a superset and the Python check
on the candidates decides: "contains" (Arabic-normalised text, as search normalises it) and times in
business hours (the SQL compares calendar hours, which are never fewer than business hours).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import cached_property
from typing import Any

from sqlalchemy import ColumnElement, and_, exists, false, func, or_, select, true

from helpdesk.automations import field_conditions
from helpdesk.customers.models import Customer, CustomerEmail, Order
from helpdesk.extensions import db
from helpdesk.search.analysis import normalise_text
from helpdesk.sla import queries as sla_queries
from helpdesk.sla.business_time import business_time_between
from helpdesk.sla.calendars import schedule_for
from helpdesk.sla.models import BusinessCalendar, TicketSla
from helpdesk.tickets.models import Message, MessageKind, Tag, Ticket, ticket_tags

# field → the operators it takes. Lists of codes/ids for "is"/"is_not".
LIST_FIELDS = (
    "channel",
    "queue",
    "status",
    "priority",
    "customer_tier",
    "email_domain",
    "language",
    "order_status",
    "request_type",
)
TEXT_FIELDS = ("subject", "body", "text")  # text: the subject or the body
TIME_FIELDS = (
    "hours_since_created",
    "hours_since_updated",
    "hours_since_customer_message",
    "hours_since_agent_reply",
    "hours_since_status_set",
)
FIELDS: dict[str, tuple[str, ...]] = {
    **{name: ("is", "is_not") for name in LIST_FIELDS},
    "tags": ("has", "lacks"),
    "assignee": ("none", "someone", "is", "is_not"),
    **{name: ("contains", "not_contains") for name in TEXT_FIELDS},
    "sla": ("due_soon", "breached"),
    **{name: ("at_least",) for name in TIME_FIELDS},
}


@dataclass
class Facts:
    """What the conditions read about one ticket, loaded only when a condition asks."""

    ticket: Ticket
    now: datetime
    message: Message | None = None  # the message that fired a trigger
    _cache: dict[str, Any] = field(default_factory=dict)

    @cached_property
    def body(self) -> str:
        if self.message is not None:
            return self.message.display_text or self.message.body_text or ""
        first = db.session.scalar(
            select(Message.body_text)
            .where(Message.ticket_id == self.ticket.id, Message.kind == MessageKind.REPLY)
            .order_by(Message.created_at, Message.id)
            .limit(1)
        )
        return first or ""

    def moment(self, name: str) -> datetime | None:
        """When the clock of a time condition started."""
        if name not in self._cache:
            self._cache[name] = db.session.scalar(select(_moment_column(name, self.ticket.id)))
        return self._cache[name]

    @cached_property
    def calendar(self):
        row = db.session.get(TicketSla, self.ticket.id) if self.ticket.id else None
        calendar = db.session.get(BusinessCalendar, row.calendar_id) if row and row.calendar_id else None
        if calendar is None:
            calendar = db.session.scalar(select(BusinessCalendar).order_by(BusinessCalendar.id).limit(1))
        return schedule_for(calendar) if calendar is not None else None

    @cached_property
    def custom_fields(self) -> dict:
        """The ticket fields by key (one query, for every field condition of every rule)."""
        return field_conditions.ticket_fields()

    @property
    def field_rows(self) -> dict[int, list]:
        """The ticket's field value rows by field id (one query; read each time, so a field set by
        one trigger is seen by the next in the same round)."""
        from helpdesk.custom_fields.values import stored_values

        return stored_values(self.ticket.id) if self.ticket.id else {}

    @cached_property
    def sla(self) -> TicketSla | None:
        return db.session.get(TicketSla, self.ticket.id) if self.ticket.id else None


def phrases(value: Any) -> list[str]:
    """The normalised phrases of a "contains" condition (a list, or one text with commas / lines)."""
    items = (
        value if isinstance(value, list) else str(value or "").replace("،", ",").replace("\n", ",").split(",")
    )
    return [p for p in (normalise_text(str(i)).strip() for i in items) if p]


def _contains(text: str, value: Any) -> bool:
    normal = normalise_text(text)
    return any(p in normal for p in phrases(value))


def holds(condition: dict, facts: Facts) -> bool:
    """Whether one condition holds for the ticket now."""
    name, op, value = condition["field"], condition["op"], condition.get("value")
    ticket = facts.ticket
    if field_conditions.is_field_condition(name):
        field = facts.custom_fields.get(name[len(field_conditions.PREFIX) :])
        rows = facts.field_rows.get(field.id, []) if field is not None else []
        return field_conditions.holds(field, op, list(value or []), rows)
    if name in LIST_FIELDS:
        current = _list_value(name, ticket)
        values = {str(v) for v in (value or [])}
        found = (
            any(str(c) in values for c in current) if isinstance(current, list) else str(current) in values
        )
        return found if op == "is" else not found
    if name == "tags":
        found = str(value).strip().lower() in {t.name for t in ticket.tags}
        return found if op == "has" else not found
    if name == "assignee":
        if op == "none":
            return ticket.assignee_id is None
        if op == "someone":
            return ticket.assignee_id is not None
        same = ticket.assignee_id is not None and str(ticket.assignee_id) == str(value)
        return same if op == "is" else not same
    if name in TEXT_FIELDS:
        texts = {"subject": [ticket.subject], "body": [facts.body], "text": [ticket.subject, facts.body]}[
            name
        ]
        found = any(_contains(t or "", value) for t in texts)
        return found if op == "contains" else not found
    if name == "sla":
        due = ticket.next_due_at
        if due is None:
            return False
        if op == "breached":
            return due <= facts.now
        row = facts.sla
        warns = [row.first_response_warn_at, row.next_response_warn_at, row.resolution_warn_at] if row else []
        return due > facts.now and any(w is not None and w <= facts.now for w in warns)
    if name in TIME_FIELDS:
        started = _python_moment(name, facts)
        if started is None:
            return False
        hours = float(value.get("hours", 0)) if isinstance(value, dict) else float(value or 0)
        business = bool(value.get("business")) if isinstance(value, dict) else False
        if business and facts.calendar is not None:
            return business_time_between(started, facts.now, facts.calendar) >= timedelta(hours=hours)
        return facts.now - started >= timedelta(hours=hours)
    return False


def _list_value(name: str, ticket: Ticket) -> Any:
    if name == "channel":
        return ticket.channel.value
    if name == "queue":
        return ticket.queue_id if ticket.queue_id is not None else ""
    if name == "status":
        return ticket.status.value
    if name == "priority":
        return ticket.priority.value
    if name == "customer_tier":
        return ticket.customer.tier.value
    if name == "email_domain":
        return [e.email.rpartition("@")[2] for e in ticket.customer.emails]
    if name == "language":
        return ticket.language or ""
    if name == "order_status":
        return ticket.order.status if ticket.order is not None else ""
    if name == "request_type":
        return ticket.request_type_id if ticket.request_type_id is not None else ""
    raise KeyError(name)


def _python_moment(name: str, facts: Facts) -> datetime | None:
    if name == "hours_since_created":
        return facts.ticket.created_at
    if name == "hours_since_updated":
        return facts.ticket.updated_at
    return facts.moment(name)


# What a condition costs to check: the ticket's own columns first, then what needs a row loaded
# (customer, tags, order, SLA), then text and times, so a cheap false condition ends the check.
_COST = {
    **dict.fromkeys(("channel", "queue", "status", "priority", "language", "assignee", "request_type"), 0),
    "customer_tier": 1,
    **dict.fromkeys(("tags", "email_domain", "order_status", "sla"), 2),
    **dict.fromkeys(TEXT_FIELDS, 3),
    **dict.fromkeys(TIME_FIELDS, 4),
}


def cheapest_first(conditions: dict) -> dict:
    """The same conditions, each group ordered by cost (the groups' meaning does not depend on order)."""

    def cost(condition: dict) -> int:
        name = condition.get("field")
        return 2 if field_conditions.is_field_condition(name) else _COST.get(name, 5)

    return {group: sorted(conditions.get(group) or [], key=cost) for group in ("all", "any")}


def rule_holds(conditions: dict, facts: Facts) -> bool:
    """Every ``all`` condition and one of ``any`` (if there are any)."""
    if not all(holds(c, facts) for c in conditions.get("all") or []):
        return False
    alternatives = conditions.get("any") or []
    return not alternatives or any(holds(c, facts) for c in alternatives)


# --- SQL -----------------------------------------------------------------------------------------


def _last_message_at(ticket_id: Any, *criteria: ColumnElement) -> Any:
    return (
        select(func.max(Message.created_at))
        .where(Message.ticket_id == ticket_id, *criteria)
        .correlate_except(Message)
        .scalar_subquery()
    )


def _moment_column(name: str, ticket_id: Any = None) -> Any:
    """The SQL expression of when a time condition's clock started (correlated to ``Ticket``)."""
    ticket_id = Ticket.id if ticket_id is None else ticket_id
    if name == "hours_since_created":
        return Ticket.created_at
    if name == "hours_since_updated":
        return Ticket.updated_at
    if name == "hours_since_customer_message":
        return _last_message_at(
            ticket_id, Message.kind == MessageKind.REPLY, Message.author_customer_id.is_not(None)
        )
    # No agent reply yet, or no status change yet: counted from when the ticket was opened.
    if name == "hours_since_agent_reply":
        last = _last_message_at(
            ticket_id, Message.kind == MessageKind.REPLY, Message.author_staff_id.is_not(None)
        )
    elif name == "hours_since_status_set":
        last = _last_message_at(
            ticket_id, Message.kind == MessageKind.EVENT, Message.event == "status_changed"
        )
    else:
        raise KeyError(name)
    if isinstance(ticket_id, int):
        return func.coalesce(last, select(Ticket.created_at).where(Ticket.id == ticket_id).scalar_subquery())
    return func.coalesce(last, Ticket.created_at)


_SQL_COLUMNS = {
    "channel": Ticket.channel,
    "status": Ticket.status,
    "priority": Ticket.priority,
    "language": Ticket.language,
}


def to_sql(condition: dict, now: datetime) -> ColumnElement[bool]:
    """The condition as a filter on ``tickets``; a superset where only Python can decide exactly."""
    name, op, value = condition["field"], condition["op"], condition.get("value")
    negate = op in ("is_not", "lacks", "not_contains")
    if field_conditions.is_field_condition(name):
        field = field_conditions.ticket_fields().get(name[len(field_conditions.PREFIX) :])
        return field_conditions.to_sql(field, op, list(value or []))
    if name == "request_type":
        ids = [int(v) for v in value or [] if str(v).isdigit()]
        found = Ticket.request_type_id.in_(ids) if ids else false()
        return or_(Ticket.request_type_id.is_(None), ~found) if negate else found
    if name in _SQL_COLUMNS:
        column = _SQL_COLUMNS[name]
        values = list(value or [])
        if not values:
            return true() if negate else false()
        found = column.in_(values)
        return or_(column.is_(None), ~found) if negate else found
    if name == "queue":
        ids = [int(v) for v in value or [] if str(v).isdigit()]
        found = Ticket.queue_id.in_(ids) if ids else false()
        return or_(Ticket.queue_id.is_(None), ~found) if negate else found
    if name == "customer_tier":
        found = Ticket.customer_id.in_(select(Customer.id).where(Customer.tier.in_(list(value or []))))
        return ~found if negate else found
    if name == "email_domain":
        domains = [str(d).lower().lstrip("@") for d in value or []]
        found = exists().where(
            CustomerEmail.customer_id == Ticket.customer_id,
            or_(*[CustomerEmail.email.like(f"%@{d}") for d in domains]) if domains else false(),
        )
        return ~found if negate else found
    if name == "order_status":
        found = Ticket.order_id.in_(select(Order.id).where(Order.status.in_(list(value or []))))
        return or_(Ticket.order_id.is_(None), ~found) if negate else found
    if name == "tags":
        found = exists().where(
            ticket_tags.c.ticket_id == Ticket.id,
            ticket_tags.c.tag_id == Tag.id,
            Tag.name == str(value).strip().lower(),
        )
        return ~found if negate else found
    if name == "assignee":
        if op == "none":
            return Ticket.assignee_id.is_(None)
        if op == "someone":
            return Ticket.assignee_id.is_not(None)
        agent = int(value) if str(value).isdigit() else -1
        if op == "is":
            return Ticket.assignee_id == agent
        return or_(Ticket.assignee_id.is_(None), Ticket.assignee_id != agent)
    if name in TEXT_FIELDS:
        return true()  # decided in Python on the candidates
    if name == "sla":  # the queue views' own filters (both also require an active status)
        return sla_queries.overdue(now) if op == "breached" else sla_queries.breaching_soon(now)
    if name in TIME_FIELDS:
        hours = float(value.get("hours", 0)) if isinstance(value, dict) else float(value or 0)
        # Business hours are never more than calendar hours: the calendar cut-off is a safe prefilter.
        return _moment_column(name) <= now - timedelta(hours=hours)
    return false()


def needs_python(conditions: dict) -> bool:
    """Whether the SQL form of these conditions is only a superset (text or business-hours checks)."""
    return any(
        c["field"] in TEXT_FIELDS
        or (field_conditions.is_field_condition(c["field"]) and c["op"] in ("contains", "not_contains"))
        or (c["field"] in TIME_FIELDS and isinstance(c.get("value"), dict) and c["value"].get("business"))
        for c in _all_conditions(conditions)
    )


def _all_conditions(conditions: dict) -> Iterable[dict]:
    return [*(conditions.get("all") or []), *(conditions.get("any") or [])]


def rule_to_sql(conditions: dict, now: datetime) -> ColumnElement[bool]:
    every = [to_sql(c, now) for c in conditions.get("all") or []]
    alternatives = conditions.get("any") or []
    if alternatives:
        every.append(or_(*[to_sql(c, now) for c in alternatives]))
    return and_(true(), *every)
