"""Job tables: rows written in the transaction that caused them, taken by the worker with retries.

A job table has ``status``, ``attempts`` and ``next_attempt_at`` columns (the email outbox, webhook
deliveries). Several workers may run at once: candidates are read with ``FOR UPDATE SKIP LOCKED`` on
PostgreSQL, and each job is then claimed with a compare-and-set on ``attempts``, so only one worker
runs it. A claim pushes ``next_attempt_at`` out by a lease, so a worker that dies mid-job leaves the
row to be retried once the lease has passed.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select, update

from helpdesk.dbtypes import skipping_locked, utcnow
from helpdesk.extensions import db


def due_jobs(model: Any, queued: Any, *, limit: int, now: datetime | None = None) -> list[tuple[int, int]]:
    """(id, attempts) of the queued jobs whose time has come, oldest first."""
    query = (
        select(model.id, model.attempts)
        .where(model.status == queued, model.next_attempt_at <= (now or utcnow()))
        .order_by(model.next_attempt_at, model.id)
        .limit(limit)
    )
    candidates = [tuple(row) for row in db.session.execute(skipping_locked(query))]
    db.session.commit()
    return candidates


def claim(model: Any, job_id: int, seen_attempts: int, queued: Any, *, lease: timedelta) -> bool:
    """Take one job; a compare-and-set, so two workers never both run it. Commits."""
    result = db.session.execute(
        update(model)
        .where(model.id == job_id, model.attempts == seen_attempts, model.status == queued)
        .values(attempts=seen_attempts + 1, next_attempt_at=utcnow() + lease)
    )
    db.session.commit()
    return result.rowcount == 1


def retry_delay(attempts: int, *, first: timedelta, longest: timedelta) -> timedelta:
    """Exponential backoff: first, 2×first, 4×first … after the 1st, 2nd, 3rd … attempt, capped."""
    return min(first * (2 ** max(attempts - 1, 0)), longest)
