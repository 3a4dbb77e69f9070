"""The index-jobs table: article (and later ticket) changes queue a row in their own transaction;
the worker applies them to Whoosh, which allows only one writer at a time."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import String
from sqlalchemy.orm import Mapped, mapped_column

from helpdesk.dbtypes import UTCDateTime, utcnow
from helpdesk.extensions import db


class IndexJob(db.Model):
    __tablename__ = "search_index_jobs"

    id: Mapped[int] = mapped_column(primary_key=True)
    index_name: Mapped[str] = mapped_column(String(40))
    doc_id: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
