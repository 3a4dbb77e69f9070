"""SLA policies: which ordered rule applies to a ticket, and the admin's edits to the rules."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select

from helpdesk.audit import service as audit
from helpdesk.auth.models import StaffUser
from helpdesk.customers.models import Tier
from helpdesk.extensions import db
from helpdesk.sla.models import SlaPolicy
from helpdesk.tickets.errors import DomainError
from helpdesk.tickets.models import Ticket

POLICY_FIELDS = (
    "name",
    "is_active",
    "calendar_id",
    "match_priority",
    "match_queue_id",
    "match_tier",
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


def active_policies() -> list[SlaPolicy]:
    """Active rules in evaluation order, with their calendars loaded."""
    return list(
        db.session.scalars(
            select(SlaPolicy).where(SlaPolicy.is_active).order_by(SlaPolicy.position, SlaPolicy.id)
        )
    )


def matches(policy: SlaPolicy, ticket: Ticket, tier: Tier | None) -> bool:
    return (
        (policy.match_priority is None or policy.match_priority == ticket.priority)
        and (policy.match_queue_id is None or policy.match_queue_id == ticket.queue_id)
        and (policy.match_tier is None or policy.match_tier == tier)
    )


def policy_for(ticket: Ticket, policies: Sequence[SlaPolicy] | None = None) -> SlaPolicy | None:
    """The first active rule matching the ticket's priority, queue and customer tier (None: no SLA)."""
    rules = active_policies() if policies is None else policies
    if not rules:
        return None
    tier = ticket.customer.tier if ticket.customer is not None else None
    return next((p for p in rules if matches(p, ticket, tier)), None)


def save_policy(policy: SlaPolicy | None, *, actor: StaffUser, **values: Any) -> SlaPolicy:
    """Create (appended last) or update a rule. ``values`` are the columns in ``POLICY_FIELDS``."""
    unknown = set(values) - set(POLICY_FIELDS)
    if unknown:
        raise TypeError(f"unknown policy fields: {sorted(unknown)}")
    if not any(
        values.get(f) for f in ("first_response_minutes", "next_response_minutes", "resolution_minutes")
    ):
        raise InvalidPolicy(str(_l("Set at least one target.")))
    percent = values.get("warn_at_percent", 75)
    if not 1 <= percent <= 99:
        raise InvalidPolicy(str(_l("The warning share must be between 1 and 99 %.")))
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
        "first_response": policy.first_response_minutes,
        "next_response": policy.next_response_minutes,
        "resolution": policy.resolution_minutes,
    }


def move_policy(policy: SlaPolicy, offset: int, *, actor: StaffUser) -> None:
    """Move a rule up (-1) or down (+1) in the evaluation order."""
    ordered = list(db.session.scalars(select(SlaPolicy).order_by(SlaPolicy.position, SlaPolicy.id)))
    index = ordered.index(policy)
    target = index + offset
    if not 0 <= target < len(ordered):
        return
    ordered[index], ordered[target] = ordered[target], ordered[index]
    for position, rule in enumerate(ordered, start=1):
        rule.position = position
    audit.record("sla.policy_moved", actor=actor, target=f"sla_policy:{policy.id}", position=target + 1)


def delete_policy(policy: SlaPolicy, *, actor: StaffUser) -> None:
    audit.record("sla.policy_deleted", actor=actor, target=f"sla_policy:{policy.id}", name=policy.name)
    db.session.delete(policy)
