"""Worker housekeeping for the live-update log."""

from __future__ import annotations

from flask import Flask

from helpdesk.transaction import unit_of_work
from helpdesk.worker.runner import register_job


@register_job("live.prune", every_seconds=3600)
def prune_log(app: Flask) -> int:
    from helpdesk.live.feed import prune

    with unit_of_work():
        return prune()
