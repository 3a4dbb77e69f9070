"""Periodic ticket housekeeping run by the worker."""

from __future__ import annotations

from datetime import timedelta

from flask import Flask

from helpdesk.tickets.service import close_solved_tickets
from helpdesk.worker.runner import register_job


@register_job("tickets.auto_close", every_seconds=600)
def auto_close(app: Flask) -> int:
    return close_solved_tickets(older_than=timedelta(days=app.config["AUTO_CLOSE_SOLVED_AFTER_DAYS"]))


@register_job("tickets.forget_presence", every_seconds=3600)
def forget_presence(app: Flask) -> int:
    from helpdesk.tickets.presence import forget_stale

    return forget_stale()
