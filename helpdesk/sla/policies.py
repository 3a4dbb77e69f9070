"""SLA policies: which ordered rule applies to a ticket, and the admin's edits to the rules.

Every new ticket and every reply needs the active rules and their calendars, so they are kept per
process as plain data (``active_rules``). Any change to a policy or a calendar, however it is made,
bumps the ``sla_rules`` counter row in the same transaction: the process that made it drops its copy
on commit, other processes notice the new counter value within ``SLA_RULES_RECHECK_SECONDS``.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass
from itertools import chain
from typing import Any

from flask import current_app, has_app_context
from flask_babel import gettext as _
from sqlalchemy import event, func, select
from sqlalchemy.orm import Session, joinedload

from helpdesk.audit import service as audit
from helpdesk.auth.models import StaffUser
from helpdesk.companies.models import Company, CompanyMember
from helpdesk.customers.models import Tier
from helpdesk.dbtypes import upsert
from helpdesk.extensions import db
from helpdesk.ordering import move_in_order
from helpdesk.sla.business_time import WorkingCalendar
from helpdesk.sla.calendars import schedule_for
from helpdesk.sla.models import (
    BusinessCalendar,
    CalendarHoliday,
    CalendarOverride,
    SlaPolicy,
    WorkingInterval,
)
from helpdesk.tickets.errors import DomainError
from helpdesk.tickets.models import NamedCounter, Priority, Ticket

POLICY_FIELDS = (
    "name",
    "is_active",
    "calendar_id",
    "match_priority",
    "match_queue_id",
    "match_tier",
    "match_company_tier",
    "first_response_minutes",
    "next_response_minutes",
    "resolution_minutes",
    "pause_when_pending",
    "pause_when_on_hold",
    "warn_at_percent",
    "breach_raises_priority",
    "breach_reassign_to_id",
)


class InvalidPolicy(DomainError):
    pass


RULES_COUNTER = "sla_rules"
RULE_MODELS = (SlaPolicy, BusinessCalendar, WorkingInterval, CalendarOverride, CalendarHoliday)
_EDITED = "sla_rules_edited"  # session.info flag: this transaction has written SLA rules
_CACHE = "sla_rules"  # app.extensions key


@dataclass(frozen=True)
class PolicyRule:
    """An active policy as plain data, with its calendar's schedule: all the clocks need of it."""

    id: int
    name: str
    calendar_id: int
    match_priority: Priority | None
    match_queue_id: int | None
    match_tier: Tier | None
    match_company_tier: Tier | None
    first_response_minutes: int | None
    next_response_minutes: int | None
    resolution_minutes: int | None
    pause_when_pending: bool
    pause_when_on_hold: bool
    warn_at_percent: int
    schedule: WorkingCalendar


@dataclass(frozen=True)
class _CachedRules:
    version: int | None
    rules: tuple[PolicyRule, ...]
    checked_at: float


def active_policies() -> list[SlaPolicy]:
    """Active rules in evaluation order, with their calendars loaded."""
    return list(
        db.session.scalars(
            select(SlaPolicy)
            .where(SlaPolicy.is_active)
            .options(joinedload(SlaPolicy.calendar))
            .order_by(SlaPolicy.position, SlaPolicy.id)
        )
    )


def active_rules() -> tuple[PolicyRule, ...]:
    """The active rules in evaluation order, from this process's copy when it is still current."""
    if db.session.info.get(_EDITED):  # this transaction changed them: read them back, keep no copy
        return _load_rules()
    cached: _CachedRules | None = current_app.extensions.get(_CACHE)
    now = time.monotonic()
    if cached is not None and now - cached.checked_at < current_app.config["SLA_RULES_RECHECK_SECONDS"]:
        return cached.rules
    # The counter is read before the rules: a change committed in between is then loaded again later,
    # never cached under the newer counter value.
    version = db.session.scalar(select(NamedCounter.value).where(NamedCounter.name == RULES_COUNTER))
    rules = cached.rules if cached is not None and cached.version == version else _load_rules()
    current_app.extensions[_CACHE] = _CachedRules(version, rules, now)
    return rules


def _load_rules() -> tuple[PolicyRule, ...]:
    return tuple(
        PolicyRule(
            id=p.id,
            name=p.name,
            calendar_id=p.calendar_id,
            match_priority=p.match_priority,
            match_queue_id=p.match_queue_id,
            match_tier=p.match_tier,
            match_company_tier=p.match_company_tier,
            first_response_minutes=p.first_response_minutes,
            next_response_minutes=p.next_response_minutes,
            resolution_minutes=p.resolution_minutes,
            pause_when_pending=p.pause_when_pending,
            pause_when_on_hold=p.pause_when_on_hold,
            warn_at_percent=p.warn_at_percent,
            schedule=schedule_for(p.calendar),
        )
        for p in active_policies()
    )


@event.listens_for(Session, "after_flush")
def _count_rule_edits(session: Session, _context) -> None:
    """Bump the ``sla_rules`` counter in the transaction that writes a policy or a calendar."""
    if not any(isinstance(obj, RULE_MODELS) for obj in chain(session.new, session.dirty, session.deleted)):
        return
    session.info[_EDITED] = True
    connection = session.connection()
    connection.execute(
        upsert(NamedCounter, connection)
        .values(name=RULES_COUNTER, value=1)
        .on_conflict_do_update(index_elements=[NamedCounter.name], set_={"value": NamedCounter.value + 1})
    )


@event.listens_for(Session, "after_commit")
@event.listens_for(Session, "after_rollback")
def _forget_cached_rules(session: Session) -> None:
    if session.in_nested_transaction():  # a savepoint: the edits' transaction goes on
        return
    if session.info.pop(_EDITED, False) and has_app_context():
        current_app.extensions.pop(_CACHE, None)


def matches(
    policy: PolicyRule | SlaPolicy, ticket: Ticket, tier: Tier | None, company_tier: Tier | None = None
) -> bool:
    return (
        (policy.match_priority is None or policy.match_priority == ticket.priority)
        and (policy.match_queue_id is None or policy.match_queue_id == ticket.queue_id)
        and (policy.match_tier is None or policy.match_tier == tier)
        and (policy.match_company_tier is None or policy.match_company_tier == company_tier)
    )


def company_tier(customer_id: int | None) -> Tier | None:
    """The tier of the customer's company (None: the customer belongs to none)."""
    if customer_id is None:
        return None
    return db.session.scalar(
        select(Company.tier)
        .join(CompanyMember, CompanyMember.company_id == Company.id)
        .where(CompanyMember.customer_id == customer_id)
    )


def policy_for(ticket: Ticket, policies: Sequence[PolicyRule] | None = None) -> PolicyRule | None:
    """The first active rule matching the ticket's priority, queue, customer tier and company tier
    (None: no SLA). The company is looked up only when a rule asks for a company tier."""
    rules = active_rules() if policies is None else policies
    if not rules:
        return None
    tier = ticket.customer.tier if ticket.customer is not None else None
    by_company = None
    if any(p.match_company_tier is not None for p in rules):
        with db.session.no_autoflush:
            # The relationship, not the column: a ticket being opened has no customer_id until flushed.
            by_company = company_tier(
                ticket.customer.id if ticket.customer is not None else ticket.customer_id
            )
    return next((p for p in rules if matches(p, ticket, tier, by_company)), None)


def save_policy(policy: SlaPolicy | None, *, actor: StaffUser, **values: Any) -> SlaPolicy:
    """Create (appended last) or update a rule. ``values`` are the columns in ``POLICY_FIELDS``."""
    unknown = set(values) - set(POLICY_FIELDS)
    if unknown:
        raise TypeError(f"unknown policy fields: {sorted(unknown)}")
    if not any(
        values.get(f) for f in ("first_response_minutes", "next_response_minutes", "resolution_minutes")
    ):
        raise InvalidPolicy(_("Set at least one target."))
    percent = values.get("warn_at_percent", 75)
    if not 1 <= percent <= 99:
        raise InvalidPolicy(_("The warning share must be between 1 and 99 %."))
    created = policy is None
    if policy is None:
        last = db.session.scalar(select(func.max(SlaPolicy.position))) or 0
        policy = SlaPolicy(position=last + 1)
        db.session.add(policy)
    for name, value in values.items():
        setattr(policy, name, value)
    db.session.flush()
    audit.record(
        "sla.policy_created" if created else "sla.policy_changed",
        actor=actor,
        target=f"sla_policy:{policy.id}",
        name=policy.name,
        **_described(policy),
    )
    return policy


def _described(policy: SlaPolicy) -> dict[str, Any]:
    return {
        "priority": policy.match_priority.value if policy.match_priority else None,
        "queue_id": policy.match_queue_id,
        "tier": policy.match_tier.value if policy.match_tier else None,
        "company_tier": policy.match_company_tier.value if policy.match_company_tier else None,
        "first_response": policy.first_response_minutes,
        "next_response": policy.next_response_minutes,
        "resolution": policy.resolution_minutes,
    }


def move_policy(policy: SlaPolicy, offset: int, *, actor: StaffUser) -> None:
    """Move a rule up (-1) or down (+1) in the evaluation order."""
    if move_in_order(SlaPolicy, policy, offset):
        audit.record(
            "sla.policy_moved", actor=actor, target=f"sla_policy:{policy.id}", position=policy.position
        )


def delete_policy(policy: SlaPolicy, *, actor: StaffUser) -> None:
    audit.record("sla.policy_deleted", actor=actor, target=f"sla_policy:{policy.id}", name=policy.name)
    db.session.delete(policy)
