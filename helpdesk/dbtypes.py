"""Column types shared by the feature models (UTC datetimes, enums stored as their values), and the
two statements whose SQL differs between PostgreSQL and SQLite: upserts and worker claims."""

from __future__ import annotations

import enum
from datetime import UTC, datetime

from sqlalchemy import DateTime, Enum, Select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection
from sqlalchemy.types import TypeDecorator


def utcnow() -> datetime:
    return datetime.now(UTC)


class UTCDateTime(TypeDecorator):
    """Timezone-aware UTC in Python; ``timestamptz`` on PostgreSQL, naive UTC text on SQLite."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given; use timezone-aware UTC datetimes")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect):
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def enum_type(enum_cls: type[enum.Enum]) -> Enum:
    """A portable enum column: a VARCHAR holding the member's value, checked by SQLAlchemy."""
    return Enum(
        enum_cls,
        native_enum=False,
        create_constraint=False,
        length=max(len(m.value) for m in enum_cls),
        values_callable=lambda members: [m.value for m in members],
        validate_strings=True,
    )


def upsert(table, bind: Connection | None = None):
    """``INSERT … ON CONFLICT`` for the database in use (both dialects spell it the same way)."""
    from helpdesk.extensions import db

    dialect = (bind or db.session.connection()).dialect.name
    return (postgresql.insert if dialect == "postgresql" else sqlite.insert)(table)


def skipping_locked(query: Select) -> Select:
    """Let concurrent workers pass over each other's rows: ``FOR UPDATE SKIP LOCKED`` on PostgreSQL.
    SQLite has one writer at a time, so it needs (and has) no row locks."""
    from helpdesk.extensions import db

    return query.with_for_update(skip_locked=True) if db.engine.dialect.name == "postgresql" else query
