"""Writing the live log (a subscriber of the domain events) and reading it back, filtered.

``record`` runs on ``events.committing``: the rows are part of the transaction that made the
change. On PostgreSQL it also says ``NOTIFY helpdesk_live``, which the server delivers only if and
when that transaction commits; in this process ``after_commit`` wakes the local streams.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from sqlalchemy import delete, event, func, insert, select, text
from sqlalchemy.orm import Session

from helpdesk import events
from helpdesk.dbtypes import utcnow
from helpdesk.extensions import db
from helpdesk.live.models import LiveEvent
from helpdesk.tickets.models import MessageKind

CHANNEL = "helpdesk_live"
KEEP_FOR = timedelta(hours=24)  # long enough for a laptop that slept overnight
_KINDS = {
    events.ticket_opened: "ticket.opened",
    events.ticket_changed: "ticket.changed",
    events.message_added: "message.added",
    events.presence_changed: "presence",
}
# Changes a customer's case page shows; the rest (assignee, priority, queue, tags) is staff only.
_PUBLIC_FIELDS = {"status", "merged_into"}
_WRITTEN = "live_events_written"


@dataclass(frozen=True)
class Audience:
    """Who a stream or poll is for: staff see every ticket (or one), a customer only their own
    ticket's public events."""

    staff: bool
    customer_id: int | None = None
    ticket_id: int | None = None
    viewer: str = ""  # the signed-in account (Flask-Login's id, ``s:12`` or ``c:34``), re-checked while open

    def sees(self, row: dict[str, Any]) -> bool:
        if self.ticket_id is not None and row["ticket_id"] != self.ticket_id:
            return False
        if self.staff:
            return True
        return row["public"] and row["customer_id"] == self.customer_id


def record(session: Session, published: list[events.Event]) -> None:
    """Receiver of ``events.committing``: one log row per event a page can show."""
    rows = [_row(e) for e in published if e.signal in _KINDS]
    if not rows:
        return
    session.flush()  # the ticket's final state and the message's id
    # One INSERT for all the rows (a Core executemany: nothing left for the commit to flush again).
    session.execute(insert(LiveEvent), rows)
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SELECT pg_notify(:channel, '')"), {"channel": CHANNEL})
    session.info[_WRITTEN] = True


def _row(item: events.Event) -> dict[str, Any]:
    ticket = item.ticket
    data: dict[str, Any] = {}
    public = False
    if item.signal is events.message_added:
        kind = getattr(item.message, "kind", None)
        data["message_kind"] = getattr(kind, "value", kind)
        data["from_customer"] = getattr(item.message, "author_customer_id", None) is not None
        public = kind is MessageKind.REPLY
    elif item.signal is events.ticket_changed:
        data["fields"] = sorted(item.changes)
        public = bool(_PUBLIC_FIELDS & set(item.changes))
    elif item.signal is events.presence_changed:
        data.update(staff_id=item.details.get("staff_id"), typing=bool(item.details.get("typing")))
    data["unassigned"] = ticket.assignee_id is None
    return {
        "kind": _KINDS[item.signal],
        "ticket_id": ticket.id,
        "ticket_number": ticket.number,
        "queue_id": ticket.queue_id,
        "customer_id": ticket.customer_id,
        "public": public,
        "data": data,
        "created_at": utcnow(),
    }


# --- waking the streams of this process after a commit -----------------------------------------

_wakers: list[Callable[[], None]] = []
_wakers_lock = threading.Lock()


def on_commit(waker: Callable[[], None]) -> Callable[[], None]:
    """Call ``waker`` (from the committing thread) after each commit that logged events; returns a
    function that stops it."""
    with _wakers_lock:
        _wakers.append(waker)

    def stop() -> None:
        with _wakers_lock:
            if waker in _wakers:
                _wakers.remove(waker)

    return stop


@event.listens_for(Session, "after_commit")
def _wake_local_streams(session: Session) -> None:
    if session.info.pop(_WRITTEN, False):
        with _wakers_lock:
            wakers = list(_wakers)
        for waker in wakers:
            waker()


@event.listens_for(Session, "after_soft_rollback")
def _nothing_written(session: Session, previous_transaction) -> None:
    if not previous_transaction.nested:
        session.info.pop(_WRITTEN, None)


# --- reading -----------------------------------------------------------------------------------


def latest_id() -> int:
    return db.session.scalar(select(func.max(LiveEvent.id))) or 0


def rows_after(after: int, limit: int = 500) -> list[dict[str, Any]]:
    """Committed log rows with an id above ``after``, oldest first, as plain dicts (a Core read:
    the stream server calls it on every wake, and has no use for ORM objects)."""
    log = LiveEvent.__table__
    found = db.session.execute(select(log).where(log.c.id > after).order_by(log.c.id).limit(limit))
    return [as_dict(row) for row in found.mappings()]


def as_dict(row: Any) -> dict[str, Any]:
    """A log row (ORM object or Core mapping) in the terms the streams and the poll use."""
    get = row.__getitem__ if hasattr(row, "keys") else lambda name: getattr(row, name)
    return {
        "id": get("id"),
        "kind": get("kind"),
        "ticket_id": get("ticket_id"),
        "number": get("ticket_number"),
        "queue_id": get("queue_id"),
        "customer_id": get("customer_id"),
        "public": get("public"),
        "data": get("data") or {},
    }


def for_audience(rows: Iterable[dict[str, Any]], audience: Audience) -> list[dict[str, Any]]:
    return [message(row, audience) for row in rows if audience.sees(row)]


def message(row: dict[str, Any], audience: Audience) -> dict[str, Any]:
    """What the browser is sent: a customer gets only the event's id, kind and case number."""
    if audience.staff:
        return {k: v for k, v in row.items() if k not in ("customer_id", "public")}
    return {"id": row["id"], "kind": row["kind"], "number": row["number"]}


def prune(older_than: timedelta = KEEP_FOR) -> int:
    """Housekeeping for the worker: the log only has to cover a reconnect."""
    removed = db.session.execute(delete(LiveEvent).where(LiveEvent.created_at < utcnow() - older_than))
    return removed.rowcount or 0
