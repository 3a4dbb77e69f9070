"""Periodic ticket housekeeping run by the worker."""

from __future__ import annotations

from datetime import timedelta

from flask import Flask

from helpdesk.tickets.service import close_solved_tickets
from helpdesk.transaction import unit_of_work
from helpdesk.worker.runner import register_job

AUTO_CLOSE_BATCH = 500


@register_job("tickets.auto_close", every_seconds=600)
def auto_close(app: Flask) -> int:
    """Close solved tickets past the configured age, one transaction per batch."""
    older_than = timedelta(days=app.config["AUTO_CLOSE_SOLVED_AFTER_DAYS"])
    closed = 0
    while True:
        with unit_of_work():
            batch = close_solved_tickets(older_than=older_than, limit=AUTO_CLOSE_BATCH)
        closed += batch
        if batch < AUTO_CLOSE_BATCH:
            return closed


@register_job("tickets.forget_presence", every_seconds=3600)
def forget_presence(app: Flask) -> int:
    from helpdesk.tickets.presence import forget_stale

    with unit_of_work():
        return forget_stale()
