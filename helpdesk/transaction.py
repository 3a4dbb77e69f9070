"""The one owner of a transaction: a request, a command or a job commits once, here.

Services change the session and flush when they need ids; they never commit. Whoever calls them
wraps the use case in ``unit_of_work()``: it commits when the block ends and rolls back when it
raises, so the events the services published are handed over (or forgotten) exactly once.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy.orm import Session

from helpdesk.extensions import db


@contextmanager
def unit_of_work() -> Iterator[Session]:
    """Commit what the block did, or roll all of it back if it raised (the error goes on)."""
    session = db.session
    try:
        yield session
    except BaseException:
        session.rollback()
        raise
    session.commit()
