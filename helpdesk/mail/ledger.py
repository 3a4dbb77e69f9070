"""The inbound ledger: every received message's raw bytes, stored and committed before anything else.

Unique by Message-ID (else by a hash of the bytes), so a second delivery is recognised; a row is
claimed (stored → processed) by the transaction that does its work, and keeps what came of it
(action, ticket, message) or why it failed. Its writes are plain SQL on its table: no ORM objects
are involved, so none of their overhead.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from datetime import datetime
from email import message_from_bytes
from email import policy as email_policy

from sqlalchemy import bindparam, select, update

from helpdesk.dbtypes import skipping_locked, upsert, utcnow
from helpdesk.extensions import db
from helpdesk.mail.models import InboundMessage, InboundStatus
from helpdesk.tickets.models import Message, Queue, Ticket

# The ledger's writes are plain SQL on its table: no ORM objects are involved, so none of its overhead.
LEDGER = InboundMessage.__table__


class Rejected(Exception):
    """A message we keep but cannot turn into a ticket (no sender, an unmatched bounce …)."""


@dataclass
class IngestResult:
    message_id: str | None
    ticket: str | None
    action: str  # created, appended, duplicate, failed
    error: str | None = None
    inbound_id: int | None = None

    def as_json(self) -> dict:
        data = asdict(self)
        data.pop("inbound_id")
        return data


@dataclass
class Outcome:
    """What came of one message, for its ledger row: written for the whole batch at its end."""

    inbound_id: int
    action: str
    ticket: Ticket
    message: Message
    seen: dict


def record_outcomes(outcomes: list[Outcome]) -> None:
    """Write the pending rows (their ids are needed now) and the ledger rows of ``outcomes``, in one
    statement, then forget them."""
    if not outcomes:
        return
    db.session.flush()
    db.session.execute(
        update(LEDGER)
        .where(LEDGER.c.id == bindparam("row_id"))
        .values(
            action=bindparam("row_action"),
            ticket_id=bindparam("row_ticket_id"),
            ticket_message_id=bindparam("row_message_id"),
            sender=bindparam("row_sender"),
            subject=bindparam("row_subject"),
        ),
        [
            {
                "row_id": o.inbound_id,
                "row_action": o.action,
                "row_ticket_id": o.ticket.id,
                "row_message_id": o.message.id,
                "row_sender": o.seen.get("sender"),
                "row_subject": o.seen.get("subject"),
            }
            for o in outcomes
        ],
    )
    outcomes.clear()


@dataclass
class StoredMail:
    """What processing needs of a ledger row (kept from storing it, or read back)."""

    dedupe_key: str
    raw: bytes
    queue_id: int | None
    recipient: str | None
    message_id: str | None


def dedupe_key(raw: bytes) -> tuple[str, str | None]:
    """('mid:<hash>', Message-ID) when the mail has a Message-ID, else ('sha:<hash of bytes>', None)."""
    head = raw.split(b"\r\n\r\n", 1)[0].split(b"\n\n", 1)[0]
    try:
        headers = message_from_bytes(head + b"\n\n", policy=email_policy.compat32)
        found = re.search(r"<[^<>\s]+>", str(headers.get("Message-ID") or ""))
    except Exception:
        found = None
    if found:
        message_id = found.group(0)[:998]
        return "mid:" + hashlib.sha256(message_id.encode("utf-8", "replace")).hexdigest(), message_id
    return "sha:" + hashlib.sha256(raw).hexdigest(), None


def store_raw(
    raw: bytes, *, source: str, queue: Queue | None = None, recipient: str | None = None
) -> tuple[int, bool]:
    """Commit the raw bytes to the ledger. Returns (row id, False) when the same mail is already there."""
    inbound_id, stored = insert_raw(raw, source=source, queue=queue, recipient=recipient)
    if inbound_id is None:
        db.session.rollback()
        return ledger_id(stored.dedupe_key), False
    db.session.commit()
    return inbound_id, True


def insert_raw(
    raw: bytes, *, source: str, queue: Queue | None = None, recipient: str | None = None
) -> tuple[int | None, StoredMail]:
    """Add the raw bytes to the ledger in the current transaction; no id when the mail is there already."""
    return insert_raws([raw], source=source, queue=queue, recipient=recipient)[0]


def insert_raws(
    raws: Sequence[bytes], *, source: str, queue: Queue | None = None, recipient: str | None = None
) -> list[tuple[int | None, StoredMail]]:
    """``insert_raw`` for several messages, in one statement."""
    queue_id, recipient = (queue.id if queue is not None else None), (recipient or "")[:254] or None
    stored = []
    for raw in raws:
        key, message_id = dedupe_key(raw)
        stored.append(StoredMail(key, raw, queue_id, recipient, message_id))
    received_at = utcnow()
    # INSERT … ON CONFLICT DO NOTHING: a second copy (even from a concurrent worker) inserts nothing.
    inserted = dict(
        db.session.execute(
            upsert(LEDGER)
            .values(
                [
                    dict(
                        dedupe_key=s.dedupe_key,
                        message_id=s.message_id,
                        source=source,
                        queue_id=queue_id,
                        recipient=recipient,
                        raw=s.raw,
                        size=len(s.raw),
                        status=InboundStatus.STORED,
                        received_at=received_at,
                    )
                    for s in stored
                ]
            )
            .on_conflict_do_nothing(index_elements=["dedupe_key"])
            .returning(LEDGER.c.dedupe_key, LEDGER.c.id)
        ).all()
    )
    # The same mail twice in one batch: the first copy has the new row, the second is a redelivery.
    return [(inserted.pop(s.dedupe_key, None), s) for s in stored]


def ledger_id(key: str) -> int:
    return db.session.scalar(select(InboundMessage.id).where(InboundMessage.dedupe_key == key))


def status_of(inbound_id: int) -> InboundStatus:
    return db.session.scalar(select(InboundMessage.status).where(InboundMessage.id == inbound_id))


def mark(inbound_id: int, *conditions, **values) -> int:
    return db.session.execute(
        update(LEDGER).where(LEDGER.c.id == inbound_id, *conditions).values(**values)
    ).rowcount


def load_stored(inbound_id: int) -> StoredMail:
    row = db.session.execute(
        select(
            InboundMessage.dedupe_key,
            InboundMessage.raw,
            InboundMessage.queue_id,
            InboundMessage.recipient,
            InboundMessage.message_id,
        ).where(InboundMessage.id == inbound_id)
    ).one()
    return StoredMail(*row)


def take_stored(cutoff: datetime) -> int | None:
    """The oldest row still stored before ``cutoff``, locked until this transaction ends."""
    query = (
        select(InboundMessage.id)
        .where(InboundMessage.status == InboundStatus.STORED, InboundMessage.received_at <= cutoff)
        .order_by(InboundMessage.id)
        .limit(1)
    )
    return db.session.scalar(skipping_locked(query))


def retry_failed(inbound: InboundMessage) -> None:
    """Put a failed message back for the worker (after a fix, or to try again)."""
    inbound.status, inbound.error, inbound.processed_at = InboundStatus.STORED, None, None


def failed_messages(limit: int = 200) -> list[InboundMessage]:
    return list(
        db.session.scalars(
            select(InboundMessage)
            .where(InboundMessage.status == InboundStatus.FAILED)
            .order_by(InboundMessage.id.desc())
            .limit(limit)
        )
    )
