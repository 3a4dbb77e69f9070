"""Reading the audit log: filtered pages, newest first, paged by id (keyset) so deep pages stay cheap."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta, tzinfo

from sqlalchemy import func, or_, select

from helpdesk.audit.models import AuditEvent
from helpdesk.extensions import db


def events_page(
    *,
    action: str | None = None,
    actor: str | None = None,
    first_day: date | None = None,
    last_day: date | None = None,
    zone: tzinfo = UTC,
    before_id: int | None = None,
    limit: int = 100,
) -> list[AuditEvent]:
    """Events older than ``before_id`` matching every filter given; the days are inclusive and read
    in ``zone``. ``actor`` matches the stable id (``s:3``) exactly or the recorded address in part."""
    start = datetime.combine(first_day, time(), zone) if first_day else None
    end = datetime.combine(last_day + timedelta(days=1), time(), zone) if last_day else None
    query = select(AuditEvent).order_by(AuditEvent.id.desc()).limit(limit)
    if action:
        query = query.where(AuditEvent.action.startswith(action, autoescape=True))
    if actor:
        query = query.where(
            or_(
                AuditEvent.actor == actor,
                func.lower(AuditEvent.actor_label).contains(actor.lower(), autoescape=True),
            )
        )
    if start is not None:
        query = query.where(AuditEvent.created_at >= start)
    if end is not None:
        query = query.where(AuditEvent.created_at < end)
    if before_id is not None:
        query = query.where(AuditEvent.id < before_id)
    return list(db.session.scalars(query))
