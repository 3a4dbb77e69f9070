"""Write audit events. Callers pass who acted; the event joins the caller's transaction."""

from __future__ import annotations

from typing import Any

from helpdesk.audit.models import AuditEvent
from helpdesk.extensions import db


def actor_ref(user: Any | None) -> tuple[str, str | None]:
    """The stable id and a readable label of whoever acted (a staff user, a customer or the system)."""
    if user is None or not getattr(user, "is_authenticated", False):
        return "system", None
    return user.get_id(), getattr(user, "email", None)


def record(
    action: str,
    *,
    actor: Any | None = None,
    target: str | None = None,
    ip: str | None = None,
    actor_label: str | None = None,
    **details: Any,
) -> AuditEvent:
    ref, label = actor_ref(actor)
    event = AuditEvent(
        action=action, actor=ref, actor_label=actor_label or label, target=target, ip=ip, details=details
    )
    db.session.add(event)
    return event
