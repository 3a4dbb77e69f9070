"""Job tables: rows written in the transaction that caused them, taken by the worker with retries.

A job table has ``status``, ``attempts`` and ``next_attempt_at`` columns (the email outbox, webhook
deliveries). Several workers may run at once: candidates are read with ``FOR UPDATE SKIP LOCKED`` on
PostgreSQL, and each job is then claimed with a compare-and-set on ``attempts``, so only one worker
runs it. A claim pushes ``next_attempt_at`` out by a lease, so a worker that dies mid-job leaves the
row to be retried once the lease has passed.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select, update

from helpdesk.dbtypes import skipping_locked, utcnow
from helpdesk.extensions import db
from helpdesk.transaction import unit_of_work

log = logging.getLogger("helpdesk.worker.jobtable")


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


@dataclass(frozen=True)
class Inbox:
    """How a table of received items is worked through: its statuses and its retry schedule."""

    model: Any
    statuses: Any  # an enum with QUEUED, DONE and FAILED
    max_attempts: int
    first_retry: timedelta
    longest_retry: timedelta
    lease: timedelta


def work_through(inbox: Inbox, work: Callable[[Any], object], *, limit: int) -> int:
    """Claim the due rows, oldest first, and ``work(row)`` on each in its own transaction; a failure
    is written on the row (``error``) and retried with backoff, until the last attempt marks it failed.
    Returns how many were done."""
    return _work_each(inbox, work, due_jobs(inbox.model, inbox.statuses.QUEUED, limit=limit))


def work_in_batches(
    inbox: Inbox, work: Callable[[list[Any]], dict[Any, str] | None], *, limit: int, size: int
) -> int:
    """As ``work_through``, but on SQLite ``size`` rows at a time: each batch is claimed with one
    UPDATE and worked (``work(rows)``) in one transaction, as writers take turns there anyway and one
    commit then serves the whole batch. ``work`` returns the rows it could not do yet, each with the
    reason, having written nothing for them: they wait and are retried, the rest are done. If a row
    fails otherwise, the batch is rolled back and its rows are worked one by one (``work([row])``),
    so the failure is recorded on that row alone.
    On PostgreSQL each row keeps its own transaction (held across a batch, the row locks would make
    concurrent workers wait for each other)."""

    def one(row: Any) -> None:
        waiting = work([row]) or {}
        if row in waiting:
            raise NotYetDone(waiting[row])

    due = due_jobs(inbox.model, inbox.statuses.QUEUED, limit=limit)
    if db.engine.dialect.name != "sqlite":
        return _work_each(inbox, one, due)
    done = 0
    for start in range(0, len(due), size):
        batch = due[start : start + size]
        try:
            with unit_of_work():
                rows = _claim_batch(inbox, [job_id for job_id, _attempts in batch])
                waiting = work(rows) or {}
                for row in rows:
                    if row in waiting:
                        _retry_later(inbox, row, f"{NotYetDone.__name__}: {waiting[row]}")
                    else:
                        row.status, row.error = inbox.statuses.DONE, None
            done += len(rows) - len(waiting)
        except Exception as error:  # one of them failed: each on its own, so only that one waits
            log.info("%s batch failed (%s); one by one", inbox.model.__tablename__, error)
            done += _work_each(inbox, one, batch)
    return done


class NotYetDone(Exception):
    """A row of a batch that must wait (and nothing was written for it)."""


def _retry_later(inbox: Inbox, row: Any, error: str) -> None:
    """Record why the row is not done; retried with backoff until the last attempt marks it failed."""
    row.error = error[:2000]
    if row.attempts >= inbox.max_attempts:
        row.status = inbox.statuses.FAILED
    else:
        delay = retry_delay(row.attempts, first=inbox.first_retry, longest=inbox.longest_retry)
        row.next_attempt_at = utcnow() + delay


def _claim_batch(inbox: Inbox, job_ids: list[int]) -> list[Any]:
    """Take the rows still due in one UPDATE (the transaction's first write, so it waits for the
    write lock before anything is read); returns them in the given order."""
    model, now = inbox.model, utcnow()
    claimed = set(
        db.session.scalars(
            update(model)
            .where(model.id.in_(job_ids), model.status == inbox.statuses.QUEUED, model.next_attempt_at <= now)
            .values(attempts=model.attempts + 1, next_attempt_at=now + inbox.lease)
            .returning(model.id)
            .execution_options(synchronize_session=False)
        )
    )
    rows = db.session.scalars(
        select(model).where(model.id.in_(claimed)).execution_options(populate_existing=True)
    )
    by_id = {row.id: row for row in rows}
    return [by_id[job_id] for job_id in job_ids if job_id in by_id]


def _work_each(inbox: Inbox, work: Callable[[Any], object], due: list[tuple[int, int]]) -> int:
    done = 0
    for job_id, attempts in due:
        if not claim(inbox.model, job_id, attempts, inbox.statuses.QUEUED, lease=inbox.lease):
            continue
        try:
            with unit_of_work():
                row = db.session.get(inbox.model, job_id)
                work(row)
                row.status, row.error = inbox.statuses.DONE, None
            done += 1
        except Exception as error:  # kept and retried; the next row goes on
            log.warning("%s %s not done yet: %s", inbox.model.__tablename__, job_id, error)
            with unit_of_work():
                row = db.session.get(inbox.model, job_id)
                _retry_later(inbox, row, f"{type(error).__name__}: {error}")
    return done
