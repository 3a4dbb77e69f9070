"""The live-update log: what changed, by id, for the streams and their replay."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Boolean, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from helpdesk.dbtypes import UTCDateTime, utcnow
from helpdesk.extensions import db


class LiveEvent(db.Model):
    """One committed change, in the terms a browser needs to refresh the right part of a page.

    No content is kept (no message text): a page that is told fetches the part itself, through the
    ordinary routes and their access checks.
    """

    __tablename__ = "live_events"
    __table_args__ = (Index("ix_live_events_created_at", "created_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(30))  # ticket.opened, ticket.changed, message.added, presence
    ticket_id: Mapped[int] = mapped_column(Integer)
    ticket_number: Mapped[str] = mapped_column(String(20))
    queue_id: Mapped[int | None] = mapped_column(Integer)
    customer_id: Mapped[int | None] = mapped_column(Integer)
    # The customer may be told (a public reply, a status change); notes and presence are staff only.
    public: Mapped[bool] = mapped_column(Boolean, default=False)
    data: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
