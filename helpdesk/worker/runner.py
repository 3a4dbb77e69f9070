"""The background worker: one loop running the registered periodic jobs.

Features register their jobs (outbox sending, mailbox polling, SLA checks, index updates) with
``register_job`` in their own modules, which ``helpdesk.wiring`` imports when the app is created;
this module imports no feature. ``helpdesk serve`` runs the loop in a thread; ``helpdesk worker``
runs it alone.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from flask import Flask

from helpdesk.extensions import db

log = logging.getLogger("helpdesk.worker")


@dataclass
class Job:
    name: str
    func: Callable[[Flask], object]
    every_seconds: float
    last_run: float = field(default=0.0, compare=False)


_JOBS: dict[str, Job] = {}


def register_job(name: str, every_seconds: float) -> Callable:
    """Decorator: run ``func(app)`` at most every ``every_seconds`` inside an app context."""

    def decorator(func: Callable[[Flask], object]) -> Callable[[Flask], object]:
        _JOBS[name] = Job(name=name, func=func, every_seconds=every_seconds)
        return func

    return decorator


def registered_jobs() -> list[Job]:
    return list(_JOBS.values())


def run_once(app: Flask, *, only_due: bool = False) -> dict[str, object]:
    """Run every job once (or only those whose interval has passed); a failing job is logged, not fatal."""
    results: dict[str, object] = {}
    now = time.monotonic()
    for job in registered_jobs():
        if only_due and now - job.last_run < job.every_seconds:
            continue
        job.last_run = now
        with app.app_context():
            try:
                results[job.name] = job.func(app)
            except Exception:  # a broken job must not stop the others
                log.exception("worker job %s failed", job.name)
                db.session.rollback()
                results[job.name] = "failed"
            finally:
                db.session.remove()
    return results


def run_forever(app: Flask, stop: threading.Event, tick_seconds: float | None = None) -> None:
    tick = tick_seconds or min(1.0, float(app.config["WORKER_INTERVAL_SECONDS"]))
    log.info("worker started with jobs: %s", ", ".join(j.name for j in registered_jobs()))
    while not stop.is_set():
        run_once(app, only_due=True)
        stop.wait(tick)
    log.info("worker stopped")
