"""Writing many changes with one flush: the protocol a batch import follows, in one place.

A batch (``mail.inbound.ingest_batch``) turns autoflush off so that a whole batch is written with
one flush instead of one per message. Every lookup that could be answered by a row the batch added
but has not written yet calls ``write_first_if`` first, so it still sees that row, as autoflush
would have made it. Outside a batch autoflush is on and the call costs a scan of the pending rows.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sqlalchemy import inspect

from helpdesk.extensions import db


def write_first_if(model: type, could_match: Callable[[Any], bool]) -> None:
    """Flush before a lookup when a pending ``model`` row of this transaction could match it."""
    if any(isinstance(obj, model) and could_match(obj) for obj in db.session.new):
        db.session.flush()


def write_first_if_changed(obj: Any, *attributes: str) -> None:
    """Flush before a lookup when ``obj``, already written, holds an unwritten change of one of
    ``attributes`` (a new object is not a change: it is written with everything else)."""
    state = inspect(obj)
    if state.persistent and any(state.attrs[name].history.has_changes() for name in attributes):
        db.session.flush()


def changed_in_transaction(ticket: Any) -> bool:
    """Whether this transaction holds unwritten changes of the ticket or rows added to it: a batch
    writes them before the ticket's next change, so that each message is its own version of it."""
    state = inspect(ticket)
    if state.pending or state.modified:
        return True
    return any(getattr(obj, "ticket", None) is ticket for obj in db.session.new)
