"""Rule operations for the admin pages and the API: validate, save (with the safety check), order,
switch on and off, delete, and the dry run. Each change is audited; the caller commits."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select

from helpdesk.audit import service as audit
from helpdesk.auth.models import StaffUser
from helpdesk.automations import field_conditions
from helpdesk.automations.actions import ACTIONS
from helpdesk.automations.conditions import FIELDS, TIME_FIELDS, Facts, needs_python, rule_holds, rule_to_sql
from helpdesk.automations.models import AUTOMATION_STATUSES, AutomationRule, RuleKind, TriggerEvent
from helpdesk.automations.runs import forget_cached_rules
from helpdesk.custom_fields.values import InvalidFieldValue
from helpdesk.customers.models import Tier
from helpdesk.dbtypes import utcnow
from helpdesk.extensions import db
from helpdesk.ordering import move_in_order
from helpdesk.tickets.errors import DomainError
from helpdesk.tickets.models import Channel, Priority, Status, Ticket

DRY_RUN_LIMIT = 50
_CODES = {
    "channel": {c.value for c in Channel},
    "status": {s.value for s in Status},
    "priority": {p.value for p in Priority},
    "customer_tier": {t.value for t in Tier},
    "language": {"ar", "en"},
}


class InvalidRule(DomainError):
    pass


def _invalid(message: Any) -> InvalidRule:
    return InvalidRule(str(message))


def clean_conditions(conditions: Any, kind: RuleKind) -> dict:
    """The conditions in their stored form, or ``InvalidRule`` saying what is wrong."""
    if not isinstance(conditions, dict):
        raise _invalid(_l("Conditions must be an object with “all” and “any” lists."))
    cleaned: dict[str, list] = {"all": [], "any": []}
    for group in ("all", "any"):
        for condition in conditions.get(group) or []:
            if not isinstance(condition, dict):
                raise _invalid(_l("Each condition needs a field and an operator."))
            name, op = condition.get("field"), condition.get("op")
            if field_conditions.is_field_condition(name):
                cleaned[group].append(_clean_field_condition(condition))
                continue
            if name not in FIELDS:
                raise _invalid(_l("Unknown condition field: %(name)s.", name=name))
            if op not in FIELDS[name]:
                raise _invalid(_l("The field %(name)s cannot be used with %(op)s.", name=name, op=op))
            if name in TIME_FIELDS and kind != RuleKind.AUTOMATION:
                raise _invalid(_l("Time conditions (hours since …) belong to automations, not triggers."))
            value = condition.get("value")
            if name in _CODES:
                value = [
                    str(v) for v in (value if isinstance(value, list) else [value]) if v not in (None, "")
                ]
                unknown = [v for v in value if v not in _CODES[name]]
                if unknown or not value:
                    raise _invalid(
                        _l(
                            "Unknown values for %(name)s: %(values)s.",
                            name=name,
                            values=", ".join(unknown) or "-",
                        )
                    )
            elif name == "queue":
                value = [v for v in (value if isinstance(value, list) else [value]) if v not in (None, "")]
                if not value or not all(str(v).isdigit() for v in value):
                    raise _invalid(_l("Unknown queue: %(names)s.", names=", ".join(map(str, value)) or "-"))
                value = [int(v) for v in value]
            elif name == "request_type":
                value = [v for v in (value if isinstance(value, list) else [value]) if v not in (None, "")]
                known = _request_type_ids()
                if not value or not all(str(v).isdigit() and int(v) in known for v in value):
                    raise _invalid(
                        _l("Unknown request type: %(names)s.", names=", ".join(map(str, value)) or "-")
                    )
                value = [int(v) for v in value]
            elif name in ("email_domain", "order_status"):
                value = [v for v in (value if isinstance(value, list) else [value]) if v not in (None, "")]
                if not value:
                    raise _invalid(_l("Give at least one value for %(name)s.", name=name))
            elif name in TIME_FIELDS:
                hours = value.get("hours") if isinstance(value, dict) else value
                try:
                    hours = float(hours)
                except (TypeError, ValueError):
                    raise _invalid(_l("Give the number of hours for %(name)s.", name=name)) from None
                if hours <= 0:
                    raise _invalid(_l("Give the number of hours for %(name)s.", name=name))
                value = {"hours": hours, "business": bool(isinstance(value, dict) and value.get("business"))}
            elif name == "tags" or name in ("subject", "body", "text"):
                if not str(value or "").strip() and not (isinstance(value, list) and value):
                    raise _invalid(_l("Give a value for %(name)s.", name=name))
                if name == "tags":
                    value = str(value).strip().lower()
            elif name == "assignee" and op in ("is", "is_not"):
                if not str(value).isdigit():
                    raise _invalid(_l("Choose the agent for the assignee condition."))
                value = int(value)
            cleaned[group].append({"field": name, "op": op, "value": value})
    return cleaned


def _locale() -> str:
    from flask_babel import get_locale

    return str(get_locale() or "ar")


def _request_type_ids() -> set[int]:
    from helpdesk.custom_fields.models import RequestType

    return set(db.session.scalars(select(RequestType.id)))


def _clean_field_condition(condition: dict) -> dict:
    try:
        return field_conditions.clean(condition, locale=_locale())
    except LookupError:
        raise _invalid(
            _l(
                "The field %(name)s cannot be used with %(op)s.",
                name=condition["field"][len(field_conditions.PREFIX) :],
                op=condition.get("op"),
            )
        ) from None
    except InvalidFieldValue as error:
        raise _invalid(error.message) from None


def clean_actions(actions: Any) -> list[dict]:
    if not isinstance(actions, list) or not actions:
        raise _invalid(_l("A rule needs at least one action."))
    cleaned = []
    for action in actions:
        kind = action.get("type") if isinstance(action, dict) else None
        if kind not in ACTIONS:
            raise _invalid(_l("Unknown action: %(name)s.", name=kind))
        value = action.get("value")
        if kind == "set_status" and value not in _CODES["status"]:
            raise _invalid(_l("Choose the status to set."))
        if kind == "set_priority" and value not in _CODES["priority"]:
            raise _invalid(_l("Choose the priority to set."))
        if kind == "set_queue" and value not in (None, "") and not str(value).isdigit():
            raise _invalid(_l("Unknown queue: %(names)s.", names=value))
        if kind == "assign" and value not in ("none", "round_robin") and not str(value).isdigit():
            raise _invalid(_l("Choose whom to assign: an agent, round robin or nobody."))
        if kind in ("add_tags", "remove_tags"):
            value = sorted(
                {
                    str(t).strip().lower()
                    for t in (value if isinstance(value, list) else [value])
                    if str(t or "").strip()
                }
            )
            if not value:
                raise _invalid(_l("Give the tags to add or remove."))
        if kind == "add_note" and not str(value or "").strip():
            raise _invalid(_l("Write the text of the internal note."))
        if kind == "email_customer":
            if not isinstance(value, dict) or not (value.get("body_ar") or value.get("body_en")):
                raise _invalid(_l("Write the email to the customer (in Arabic, English or both)."))
            value = {k: str(value.get(k) or "") for k in ("subject_ar", "body_ar", "subject_en", "body_en")}
        if kind == "email_staff" and value not in ("assignee", "supervisor"):
            raise _invalid(_l("Choose whom to email: the assignee or the queue's supervisor."))
        if kind == "set_field":
            try:
                value = field_conditions.clean_set_field(value, locale=_locale())
            except LookupError:
                raise _invalid(_l("Choose a field the rule can set.")) from None
            except InvalidFieldValue as error:
                raise _invalid(error.message) from None
        if kind == "set_request_type" and value not in ("none", None, ""):
            if not str(value).isdigit() or int(value) not in _request_type_ids():
                raise _invalid(_l("Unknown request type: %(names)s.", names=value))
            value = int(value)
        cleaned.append({"type": kind, "value": value})
    return cleaned


def falsified_condition(conditions: dict, actions: list[dict]) -> dict | None:
    """An ``all`` condition that the actions make false, so the rule cannot apply again to the ticket
    it just changed; None when there is none."""
    for condition in conditions.get("all") or []:
        if any(_makes_false(action, condition) for action in actions):
            return condition
    return None


def _makes_false(action: dict, condition: dict) -> bool:
    kind, value = action["type"], action.get("value")
    name, op, wanted = condition["field"], condition["op"], condition.get("value")
    if kind == "set_field" and name == f"{field_conditions.PREFIX}{value['field']}":
        return _set_field_makes_false(value["value"], op, wanted)
    if kind == "set_request_type" and name == "request_type":
        inside = str(value) in {str(w) for w in wanted or []}
        return not inside if op == "is" else inside
    pairs = {"set_status": "status", "set_priority": "priority", "set_queue": "queue"}
    if pairs.get(kind) == name:
        inside = str(value) in {str(w) for w in wanted or []}
        return not inside if op == "is" else inside
    if name == "tags":
        if kind == "add_tags" and op == "lacks":
            return wanted in value
        if kind == "remove_tags" and op == "has":
            return wanted in value
    if name == "assignee" and kind == "assign":
        if op == "none":
            return value != "none"
        if op == "someone":
            return value == "none"
        if op == "is":
            return str(value) != str(wanted)
        return str(value) == str(wanted)
    return False


def _set_field_makes_false(new: Any, op: str, wanted: Any) -> bool:
    """Whether setting a field to ``new`` (its plain value) makes a condition on it false."""
    empty = new in (None, "", [])
    if op in ("set", "empty"):
        return empty if op == "set" else not empty
    if op not in ("is", "is_not"):
        return False
    items = new if isinstance(new, list) else [] if empty else [new]
    texts = {("yes" if i else "no") if isinstance(i, bool) else str(i).casefold() for i in items}
    inside = bool(texts & {str(w).casefold() for w in wanted or []})
    return not inside if op == "is" else inside


def check_safety(kind: RuleKind, conditions: dict, actions: list[dict], once_per_ticket: bool) -> None:
    """An automation runs again every few minutes: it must undo its own reason to run."""
    if kind != RuleKind.AUTOMATION or once_per_ticket:
        return
    if falsified_condition(conditions, actions) is None:
        raise _invalid(
            _l(
                "This automation would act on the same tickets again at every run. Add a condition that "
                "its actions make false (for example “tags lack reminded” with the action “add tag "
                "reminded”, or “status is pending” with “set status to closed”), or tick “once per ticket”."
            )
        )


def save_rule(
    rule: AutomationRule | None,
    *,
    actor: StaffUser | None,
    name: str,
    kind: RuleKind | str,
    conditions: Any,
    actions: Any,
    events: list[str] | None = None,
    is_active: bool = True,
    once_per_ticket: bool = False,
    ip: str | None = None,
) -> AutomationRule:
    """Create or update a rule after validating it; refused with ``InvalidRule``. Flushes, audits."""
    kind = RuleKind(kind)
    if not (name or "").strip():
        raise _invalid(_l("Give the rule a name."))
    cleaned_conditions = clean_conditions(conditions, kind)
    cleaned_actions = clean_actions(actions)
    chosen_events: list[str] = []
    if kind == RuleKind.TRIGGER:
        chosen_events = sorted({str(e) for e in events or []})
        if not chosen_events or any(e not in {t.value for t in TriggerEvent} for e in chosen_events):
            raise _invalid(_l("Choose when the trigger runs: ticket created, updated, or a message."))
    check_safety(kind, cleaned_conditions, cleaned_actions, once_per_ticket)
    created = rule is None
    if rule is None:
        last = db.session.scalar(select(func.max(AutomationRule.position)).where(AutomationRule.kind == kind))
        rule = AutomationRule(kind=kind, position=(last or 0) + 1, created_by_id=actor.id if actor else None)
        db.session.add(rule)
    elif rule.kind != kind:
        raise _invalid(_l("A trigger cannot become an automation or the other way round; create a new rule."))
    rule.name = name.strip()[:120]
    rule.events = chosen_events
    rule.conditions = cleaned_conditions
    rule.actions = cleaned_actions
    rule.is_active = is_active
    rule.once_per_ticket = once_per_ticket
    db.session.flush()
    forget_cached_rules()
    audit.record(
        "automation.created" if created else "automation.saved",
        actor=actor,
        target=f"automation:{rule.id}",
        ip=ip,
        name=rule.name,
        kind=kind.value,
        active=is_active,
    )
    return rule


def set_active(rule: AutomationRule, active: bool, *, actor: StaffUser | None, ip: str | None = None) -> None:
    rule.is_active = active
    forget_cached_rules()
    audit.record(
        "automation.activated" if active else "automation.deactivated",
        actor=actor,
        target=f"automation:{rule.id}",
        ip=ip,
    )


def move_rule(rule: AutomationRule, offset: int, *, actor: StaffUser | None, ip: str | None = None) -> None:
    """Swap the rule with its neighbour of the same kind (offset -1: earlier, +1: later)."""
    if not move_in_order(AutomationRule, rule, offset, AutomationRule.kind == rule.kind):
        return
    forget_cached_rules()
    audit.record(
        "automation.moved", actor=actor, target=f"automation:{rule.id}", ip=ip, position=rule.position
    )


def delete_rule(rule: AutomationRule, *, actor: StaffUser | None, ip: str | None = None) -> None:
    audit.record("automation.deleted", actor=actor, target=f"automation:{rule.id}", ip=ip, name=rule.name)
    db.session.delete(rule)
    forget_cached_rules()


def rules(kind: RuleKind | None = None, *, active_only: bool = False) -> list[AutomationRule]:
    query = select(AutomationRule).order_by(AutomationRule.kind, AutomationRule.position, AutomationRule.id)
    if kind is not None:
        query = query.where(AutomationRule.kind == kind)
    if active_only:
        query = query.where(AutomationRule.is_active)
    return list(db.session.scalars(query))


def matching_tickets(
    conditions: Any, kind: RuleKind | str, *, now: datetime | None = None, limit: int = DRY_RUN_LIMIT
) -> list[Ticket]:
    """The dry run: current tickets the conditions match now (validated first; nothing is changed).

    A trigger's conditions are checked against open tickets as they are now (its trigger event aside)."""
    kind = RuleKind(kind)
    conditions = clean_conditions(conditions, kind)
    now = now or utcnow()
    query = (
        select(Ticket)
        .where(
            Ticket.status.in_(AUTOMATION_STATUSES),
            Ticket.merged_into_id.is_(None),
            rule_to_sql(conditions, now),
        )
        .order_by(Ticket.id.desc())
    )
    if not needs_python(conditions):
        return list(db.session.scalars(query.limit(limit)))
    found: list[Ticket] = []
    for ticket in db.session.scalars(query.limit(limit * 20)):
        if rule_holds(conditions, Facts(ticket=ticket, now=now)):
            found.append(ticket)
            if len(found) >= limit:
                break
    return found
