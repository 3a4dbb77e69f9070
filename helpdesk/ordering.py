"""Rows an administrator or agent puts in order by hand (SLA policies, automation rules, saved views)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from helpdesk.extensions import db


def move_in_order(model: Any, row: Any, step: int, *where: Any) -> bool:
    """Swap ``row`` with its neighbour ``step`` places away (-1: earlier, +1: later) among the rows of
    ``model`` matching ``where``, ordered by position then id, and number them 1, 2, … again.
    Returns False (nothing changed) when there is no such neighbour."""
    ordered = list(db.session.scalars(select(model).where(*where).order_by(model.position, model.id)))
    index = ordered.index(row)
    other = index + step
    if not 0 <= other < len(ordered):
        return False
    ordered[index], ordered[other] = ordered[other], ordered[index]
    for position, item in enumerate(ordered, start=1):
        item.position = position
    return True
