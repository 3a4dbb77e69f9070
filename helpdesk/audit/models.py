"""Audit trail: who did what to which object, and when."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from helpdesk.dbtypes import UTCDateTime, utcnow
from helpdesk.extensions import db


class AuditEvent(db.Model):
    __tablename__ = "audit_events"
    __table_args__ = (Index("ix_audit_events_created", "created_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    action: Mapped[str] = mapped_column(String(60), index=True)  # e.g. "auth.sign_in", "staff.role_changed"
    actor: Mapped[str | None] = mapped_column(String(40))  # "s:12", "c:34", "system"
    actor_label: Mapped[str | None] = mapped_column(String(254))  # email at the time of the event
    target: Mapped[str | None] = mapped_column(String(80))  # "ticket:HD-1042", "staff:3"
    details: Mapped[dict] = mapped_column(JSON, default=dict)
    ip: Mapped[str | None] = mapped_column(String(45))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
