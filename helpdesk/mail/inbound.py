"""Inbound mail: store the raw bytes first, then turn them into a ticket, a reply or a system event.

``ingest`` is what every entry point calls (the pipe command, IMAP polling, the SMTP listener):
1. the raw bytes are committed to ``inbound_messages`` (unique by Message-ID, else content hash),
   so a second delivery of the same mail is a ``duplicate`` and nothing is lost if we crash;
2. processing claims the row and does all its work in one transaction; a failure is rolled back
   and the row is marked failed with its reason, for an admin to look at. Rows left ``stored`` by
   a crash are picked up by the worker job ``mail.process_stored``.
"""

from __future__ import annotations

import hashlib
import logging
import re
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from datetime import datetime, timedelta
from email import message_from_bytes
from email import policy as email_policy
from typing import Any, NamedTuple

from flask import Flask, current_app
from flask_babel import force_locale
from flask_babel import gettext as _
from sqlalchemy import bindparam, func, inspect, select, update
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.exc import IntegrityError

from helpdesk.auth.models import StaffUser
from helpdesk.customers.models import Customer, CustomerEmail
from helpdesk.dbtypes import utcnow
from helpdesk.extensions import db
from helpdesk.mail import addresses
from helpdesk.mail.compose import queue_acknowledgement
from helpdesk.mail.models import InboundMessage, InboundStatus, OutboundEmail
from helpdesk.mail.parse import ParsedEmail, UnreadableEmail, clean_subject, parse_email
from helpdesk.mail.reply_text import strip_quoted_reply
from helpdesk.sanitize import clean_html
from helpdesk.tickets import service as tickets
from helpdesk.tickets.attachments import attach_files
from helpdesk.tickets.models import Channel, Message, MessageKind, Queue, Status, Ticket
from helpdesk.worker.runner import register_job

log = logging.getLogger("helpdesk.mail.inbound")

ARABIC_LETTER = re.compile(r"[\u0600-\u06ff]")
MACHINE_SENDERS = re.compile(
    r"^(?:mailer-daemon|postmaster|no-?reply|do-?not-?reply|donotreply|bounces?|auto-?reply|autoresponder)"
    r"(?:[+\-._].*)?@",
    re.IGNORECASE,
)


# The ledger's writes are plain SQL on its table: no ORM objects are involved, so none of its overhead.
LEDGER = InboundMessage.__table__

# The lookups every message makes, built once (building a statement costs more than running it) and
# run on the connection, as plain SQL. Each is preceded by ``_write_first_if``, in place of autoflush.
ACKNOWLEDGEMENTS_SINCE = select(func.count(OutboundEmail.id)).where(
    OutboundEmail.kind == "acknowledgement",
    OutboundEmail.to == bindparam("sender"),
    OutboundEmail.created_at >= bindparam("since"),
)
TICKET_OF_MESSAGE = (
    select(Message.ticket_id)
    .where(Message.email_message_id.in_(bindparam("ids", expanding=True)))
    .order_by(Message.id.desc())
    .limit(1)
)
TICKET_OF_OUTBOUND_EMAIL = (
    select(OutboundEmail.ticket_id)
    .where(
        OutboundEmail.message_id.in_(bindparam("ids", expanding=True)), OutboundEmail.ticket_id.is_not(None)
    )
    .limit(1)
)
TICKET_OF_LATEST_OUTBOUND_EMAIL = TICKET_OF_OUTBOUND_EMAIL.order_by(OutboundEmail.id.desc())
CUSTOMER_OF_ADDRESS = (
    select(Customer).join(CustomerEmail).where(CustomerEmail.email == bindparam("address")).limit(1)
)


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


def ingest(
    raw: bytes,
    *,
    source: str = "pipe",
    queue: Queue | None = None,
    recipient: str | None = None,
) -> IngestResult:
    """Store, commit, then process one raw message. Never raises for bad mail."""
    inbound_id, stored = _insert_raw(raw, source=source, queue=queue, recipient=recipient)
    if inbound_id is None:
        db.session.rollback()
        return _redelivered(stored)
    db.session.commit()
    return process_inbound(inbound_id, stored)


def ingest_batch(
    raws: Sequence[bytes], *, source: str = "pipe", queue: Queue | None = None
) -> list[IngestResult]:
    """Several messages, as a batch import gives them: the same results as ``ingest`` one by one.

    On SQLite, where writers take turns anyway, the raw bytes of the whole batch are committed first,
    then all of it is processed in one transaction. If any message fails, that transaction is rolled
    back and each message is processed on its own, so the failure is recorded for that one alone.
    On PostgreSQL each message keeps its own transactions: held across a batch, the row locks of the
    ticket counter and of new customers would make concurrent workers wait for each other, or deadlock.
    """
    if db.engine.dialect.name != "sqlite":
        return [ingest(raw, source=source, queue=queue) for raw in raws]
    rows = _insert_raws(raws, source=source, queue=queue)
    db.session.commit()  # every message is safe before any of them is parsed
    try:
        results = _process_together(rows)
        db.session.commit()
        return results
    except Exception as exc:
        db.session.rollback()
        log.info("a message of the batch failed (%s); processing its messages one by one", exc)
    return [_redelivered(stored) if i is None else process_inbound(i, stored) for i, stored in rows]


def _process_together(rows: list[tuple[int | None, _Stored]]) -> list[IngestResult]:
    """Claim and process every stored row in the current transaction; raises if any message fails."""
    parsed = [None if inbound_id is None else _parse(stored) for inbound_id, stored in rows]  # unlocked
    queues = addresses.queue_addresses()
    # The batch's new rows are claimed at once: the first write, which takes the database's write lock.
    claimed = set(
        db.session.scalars(
            update(LEDGER)
            .where(LEDGER.c.id.in_([i for i, _s in rows if i is not None]))
            .where(LEDGER.c.status == InboundStatus.STORED)
            .values(status=InboundStatus.PROCESSED, processed_at=utcnow())
            .returning(LEDGER.c.id)
        )
    )
    results = []
    outcomes: list[_Outcome] = []
    # One flush for the whole batch: a lookup writes the batch's rows first only when one of them
    # could answer it (see ``_write_first_if``), so each message no longer costs a unit of work.
    with db.session.no_autoflush:
        for (inbound_id, stored), work in zip(rows, parsed, strict=True):
            if inbound_id is None:  # in the ledger already: a duplicate, unless it was never processed
                _record_outcomes(outcomes)  # its ticket may be one this batch made
                inbound_id = _ledger_id(stored.dedupe_key)
                if _status(inbound_id) != InboundStatus.STORED:
                    results.append(_duplicate(inbound_id, commit=False))
                    continue
                stored = _load_stored(inbound_id)
                result = _claim_and_process(inbound_id, stored, _parse(stored), queues)
            elif inbound_id in claimed:
                result = _work(inbound_id, stored, work, queues, outcomes)
            else:
                result = None
            results.append(result or _duplicate(inbound_id, commit=False))
    _record_outcomes(outcomes)
    return results


@dataclass
class _Outcome:
    """What came of one message, for its ledger row: written for the whole batch at its end."""

    inbound_id: int
    action: str
    ticket: Ticket
    message: Message
    seen: dict


def _record_outcomes(outcomes: list[_Outcome]) -> None:
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


def _write_first_if(model: type, could_match: Callable[[Any], bool]) -> None:
    """Flush before a lookup when a pending ``model`` row of this transaction could match it.

    A batch import turns autoflush off (one flush per batch instead of one per message); its
    lookups call this first, so they still see every row the batch added, as with autoflush."""
    if any(isinstance(obj, model) and could_match(obj) for obj in db.session.new):
        db.session.flush()


@dataclass
class _Stored:
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
    inbound_id, stored = _insert_raw(raw, source=source, queue=queue, recipient=recipient)
    if inbound_id is None:
        db.session.rollback()
        return _ledger_id(stored.dedupe_key), False
    db.session.commit()
    return inbound_id, True


def _insert_raw(
    raw: bytes, *, source: str, queue: Queue | None = None, recipient: str | None = None
) -> tuple[int | None, _Stored]:
    """Add the raw bytes to the ledger in the current transaction; no id when the mail is there already."""
    return _insert_raws([raw], source=source, queue=queue, recipient=recipient)[0]


def _insert_raws(
    raws: Sequence[bytes], *, source: str, queue: Queue | None = None, recipient: str | None = None
) -> list[tuple[int | None, _Stored]]:
    """``_insert_raw`` for several messages, in one statement."""
    queue_id, recipient = (queue.id if queue is not None else None), (recipient or "")[:254] or None
    stored = []
    for raw in raws:
        key, message_id = dedupe_key(raw)
        stored.append(_Stored(key, raw, queue_id, recipient, message_id))
    received_at = utcnow()
    # INSERT … ON CONFLICT DO NOTHING: a second copy (even from a concurrent worker) inserts nothing.
    dialect_insert = postgresql_insert if db.engine.dialect.name == "postgresql" else sqlite_insert
    inserted = dict(
        db.session.execute(
            dialect_insert(LEDGER)
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


def _ledger_id(key: str) -> int:
    return db.session.scalar(select(InboundMessage.id).where(InboundMessage.dedupe_key == key))


def _redelivered(stored: _Stored) -> IngestResult:
    """A mail already in the ledger: a duplicate, unless it was stored but never processed (a crash,
    or another worker right now), in which case the claim lets exactly one of us process it."""
    inbound_id = _ledger_id(stored.dedupe_key)
    if _status(inbound_id) != InboundStatus.STORED:
        return _duplicate(inbound_id)
    return process_inbound(inbound_id)


def _status(inbound_id: int) -> InboundStatus:
    return db.session.scalar(select(InboundMessage.status).where(InboundMessage.id == inbound_id))


def _duplicate(inbound_id: int, *, commit: bool = True) -> IngestResult:
    message_id, number = db.session.execute(
        select(InboundMessage.message_id, Ticket.number)
        .outerjoin(Ticket, Ticket.id == InboundMessage.ticket_id)
        .where(InboundMessage.id == inbound_id)
    ).one()
    if commit:
        db.session.commit()
    return IngestResult(message_id, number, "duplicate", inbound_id=inbound_id)


def _set(inbound_id: int, *conditions, **values) -> int:
    return db.session.execute(
        update(LEDGER).where(LEDGER.c.id == inbound_id, *conditions).values(**values)
    ).rowcount


def _load_stored(inbound_id: int) -> _Stored:
    row = db.session.execute(
        select(
            InboundMessage.dedupe_key,
            InboundMessage.raw,
            InboundMessage.queue_id,
            InboundMessage.recipient,
            InboundMessage.message_id,
        ).where(InboundMessage.id == inbound_id)
    ).one()
    return _Stored(*row)


def process_inbound(inbound_id: int, stored: _Stored | None = None) -> IngestResult:
    """Turn a stored row into a ticket or reply, exactly once, even with several workers racing.

    The row is claimed (stored → processed) by the first write of the transaction that does all the
    work: a second worker waits on that row and then finds it taken; a crash rolls the claim back.
    """
    stored = stored or _load_stored(inbound_id)
    reading = _parse(stored)  # before taking the write lock: it needs no database
    try:
        result = _claim_and_process(inbound_id, stored, reading)
    except Exception as exc:
        db.session.rollback()
        result = _record_failure(inbound_id, stored, exc, reading.seen)
    db.session.commit()
    return result or _duplicate(inbound_id)  # None: someone else has processed it


class _Reading(NamedTuple):
    """A stored message read: the parsed mail, or the reason it cannot be read; and what the ledger
    shows of it (sender, subject)."""

    parsed: ParsedEmail | None
    problem: Exception | None
    seen: dict


def _parse(stored: _Stored) -> _Reading:
    try:
        _check_size(stored.raw)
        parsed = parse_email(stored.raw, max_attachment_bytes=current_app.config["MAX_ATTACHMENT_BYTES"])
    except Exception as exc:  # too big, not mail at all, or a parser bug: recorded as failed, never raised
        return _Reading(None, exc, {})
    sender = f"{parsed.from_name} <{parsed.from_address}>" if parsed.from_name else parsed.from_address
    seen = {"sender": (sender or "")[:998] or None, "subject": parsed.subject[:998] or None}
    return _Reading(parsed, None, seen)


def _claim_and_process(
    inbound_id: int, stored: _Stored, reading: _Reading, queues: dict[str, int] | None = None
) -> IngestResult | None:
    """Claim the row and do the work, in the caller's transaction; None when it was taken already."""
    if not _set(
        inbound_id,
        LEDGER.c.status == InboundStatus.STORED,
        status=InboundStatus.PROCESSED,
        processed_at=utcnow(),
    ):
        return None
    return _work(inbound_id, stored, reading, queues)


def _work(
    inbound_id: int,
    stored: _Stored,
    reading: _Reading,
    queues: dict[str, int] | None = None,
    outcomes: list[_Outcome] | None = None,
) -> IngestResult:
    """The ticket side of a claimed row, and what came of it in the ledger (at once, or added to
    ``outcomes`` for the batch to write at its end)."""
    if reading.parsed is None:
        raise reading.problem
    queue = db.session.get(Queue, stored.queue_id) if stored.queue_id else None
    result, ticket, message, action = _process(reading.parsed, queue, stored.recipient, queues)
    outcome = _Outcome(inbound_id, action, ticket, message, reading.seen)
    if outcomes is None:
        _record_outcomes([outcome])
    else:
        outcomes.append(outcome)
    result.inbound_id = inbound_id
    return result


def _record_failure(inbound_id: int, stored: _Stored, exc: Exception, seen: dict) -> IngestResult:
    """Keep the message as failed with its reason (its work was rolled back by the caller)."""
    expected = isinstance(exc, Rejected | UnreadableEmail)
    reason = str(exc) if expected else f"{type(exc).__name__}: {exc}"
    if not expected:
        log.exception("processing inbound message %s failed", inbound_id)
    _set(
        inbound_id,
        LEDGER.c.status == InboundStatus.STORED,
        status=InboundStatus.FAILED,
        error=reason[:4000],
        processed_at=utcnow(),
        **seen,
    )
    return IngestResult(stored.message_id, None, "failed", reason, inbound_id)


def _check_size(raw: bytes) -> None:
    """An oversize message is kept (its raw bytes are committed) but never parsed: an admin finds it
    among the failed messages. The SMTP listener refuses such mail before it gets here."""
    limit = current_app.config["MAX_EMAIL_BYTES"]
    if len(raw) > limit:
        size, limit_mb = len(raw), limit // 2**20
        raise Rejected(f"the message is {size} bytes, over the {limit_mb} MB limit (HELPDESK_MAX_EMAIL_MB)")


def _process(
    parsed: ParsedEmail, queue: Queue | None, recipient: str | None, queues: dict[str, int] | None = None
) -> tuple[IngestResult, Ticket, Message, str]:
    """All the work on the tickets side; returns (result, ticket, message, ledger action). Written
    by the caller's flush."""
    if parsed.report is not None:
        return _record_bounce(parsed)
    if not parsed.from_address:
        raise Rejected("the message has no sender address")
    queues = addresses.queue_addresses() if queues is None else queues
    # Asked before anything is written, so that its query does not write the new rows early.
    acknowledge = auto_reply_refusal(parsed, queues) is None
    recipients = [recipient or "", *parsed.to, *parsed.cc]
    queue = queue or addresses.queue_for_recipients(recipients, queues)
    customer = find_or_create_customer(parsed.from_address, parsed.from_name, _language_of(parsed))
    ticket = find_thread(parsed, customer, recipients)
    follow_up_of = None
    automatic = is_automatic_reply(parsed)
    if ticket is not None and ticket.status == Status.CLOSED and not automatic:
        follow_up_of, ticket = ticket, None
    if ticket is not None and _changed_in_transaction(ticket):
        # Written first, so that each message is its own change of the ticket (its version) and
        # the SLA recompute reads what earlier messages of the batch did to it.
        db.session.flush()
    text = parsed.text.strip()
    email_fields = {
        "email_message_id": parsed.message_id,
        "in_reply_to": " ".join(parsed.in_reply_to)[:998] or None,
        "references": " ".join(parsed.references) or None,
        "display_text": strip_quoted_reply(text),
    }
    if ticket is not None and automatic:
        # An out-of-office answer to our mail is kept on the ticket for the agents, as an event: it is
        # not the customer speaking, so it neither reopens the ticket nor touches its SLA clocks.
        message = _system_event(ticket, "auto_reply", text)
        for name, value in email_fields.items():
            setattr(message, name, value)
        message.author_customer = customer
        message.body_html = clean_html(parsed.html) if parsed.html else None
        attach_files(message, parsed.files)
        action = "appended"
    elif ticket is None:
        ticket = tickets.open_ticket(
            customer=customer,
            subject=clean_subject(addresses.SUBJECT_TOKEN_RE.sub("", parsed.subject)),
            body=text,
            body_html=parsed.html,
            channel=Channel.EMAIL,
            queue=queue or (follow_up_of.queue if follow_up_of is not None else None),
            attachments=parsed.files,
            commit=False,
            message_fields=email_fields,
        )
        ticket.follow_up_of = follow_up_of
        message = ticket.messages[0]
        action = "created"
    else:
        message = tickets.add_message(
            ticket,
            author=customer,
            body=text,
            body_html=parsed.html,
            channel=Channel.EMAIL,
            attachments=parsed.files,
            commit=False,
            message_fields=email_fields,
        )
        action = "appended"
    if follow_up_of is not None:
        _system_event(ticket, "follow_up", f"follow-up of {follow_up_of.number}")
    if parsed.dropped:
        _system_event(ticket, "attachment_dropped", _dropped_note(parsed))
    if action == "created" and acknowledge:
        queue_acknowledgement(ticket, parsed.from_address)
    return IngestResult(parsed.message_id, ticket.number, action), ticket, message, action


def _changed_in_transaction(ticket: Ticket) -> bool:
    """Whether this transaction holds unwritten changes of the ticket or rows added to it."""
    state = inspect(ticket)
    if state.pending or state.modified:
        return True
    return any(getattr(obj, "ticket", None) is ticket for obj in db.session.new)


def _dropped_note(parsed: ParsedEmail) -> str:
    limit_mb = current_app.config["MAX_ATTACHMENT_BYTES"] // 2**20
    with force_locale(current_app.config["BABEL_DEFAULT_LOCALE"]):
        return "\n".join(
            _(
                "Attachment %(name)s (%(size)s bytes) was not kept: larger than %(limit)s MB.",
                name=f.filename,
                size=f.size,
                limit=limit_mb,
            )
            for f in parsed.dropped
        )


def _system_event(ticket: Ticket, event: str, text: str) -> Message:
    message = Message(
        ticket=ticket, kind=MessageKind.EVENT, event=event, body_text=text, channel=Channel.EMAIL
    )
    db.session.add(message)
    return message


def _language_of(parsed: ParsedEmail) -> str:
    sample = parsed.text[:2000] if parsed.text.strip() else parsed.subject
    arabic = len(ARABIC_LETTER.findall(sample))
    latin = len(re.findall(r"[A-Za-z]", sample))
    return "ar" if arabic and arabic * 2 >= latin else "en"


def find_or_create_customer(address: str, name: str, language: str) -> Customer:
    """The customer who owns this address (any of their addresses, case-insensitive), or a new one."""
    address = address.strip().lower()
    _write_first_if(CustomerEmail, lambda e: e.email == address)
    # Addresses are stored lower-cased, so this equality uses the unique index.
    known = db.session.scalar(CUSTOMER_OF_ADDRESS, {"address": address})
    if known is not None:
        return known
    customer = Customer(name=(name or address.split("@")[0])[:200], language=language)
    customer.emails.append(CustomerEmail(email=address[:254], is_primary=True))
    if db.engine.dialect.name == "sqlite":  # writers are serialised: nobody can race us to it
        db.session.add(customer)
        return customer
    try:
        with db.session.begin_nested():  # another message from the same new sender may win the race
            db.session.add(customer)
    except IntegrityError:
        return db.session.scalar(select(Customer).join(CustomerEmail).where(CustomerEmail.email == address))
    return customer


def find_thread(parsed: ParsedEmail, sender: Customer, recipients: list[str]) -> Ticket | None:
    """In-Reply-To/References first; then a signed reply address or the subject token, from a participant."""
    ids = parsed.thread_ids[:50]
    if ids:
        ticket_id = _ticket_of_message(ids) or _ticket_of_outbound_email(ids, latest_first=True)
        if ticket_id is not None:
            return _followed(db.session.get(Ticket, ticket_id))
    numbers = [addresses.number_from_reply_address(r) for r in recipients]
    numbers.append(addresses.number_from_subject(parsed.subject))
    numbers = list(filter(None, numbers))
    if numbers:  # rare (a token without In-Reply-To): the participant check reads everything written
        db.session.flush()
    for number in numbers:
        ticket = db.session.scalar(select(Ticket).where(Ticket.number == number))
        # A token alone proves nothing (subjects are forwarded, numbers guessed): only someone already
        # in the conversation may add to a ticket that way; anyone else starts a new ticket.
        if ticket is not None and is_participant(ticket, sender):
            return _followed(ticket)
    return None


def _ticket_of_message(ids: list[str]) -> int | None:
    """The ticket of the latest message with one of these Message-IDs."""
    _write_first_if(Message, lambda m: m.email_message_id in ids)
    return db.session.connection().scalar(TICKET_OF_MESSAGE, {"ids": ids})


def _ticket_of_outbound_email(ids: list[str], *, latest_first: bool) -> int | None:
    """The ticket of an email we sent with one of these Message-IDs."""
    _write_first_if(OutboundEmail, lambda e: e.message_id in ids)
    query = TICKET_OF_LATEST_OUTBOUND_EMAIL if latest_first else TICKET_OF_OUTBOUND_EMAIL
    return db.session.connection().scalar(query, {"ids": ids})


def _followed(ticket: Ticket | None) -> Ticket | None:
    """A merged ticket's replies go to the ticket it was merged into."""
    seen = set()
    while ticket is not None and ticket.merged_into_id is not None and ticket.id not in seen:
        seen.add(ticket.id)
        ticket = ticket.merged_into
    return ticket


def is_participant(ticket: Ticket, customer: Customer) -> bool:
    if ticket.customer_id == customer.id:
        return True
    wrote_here = db.session.scalar(
        select(Message.id)
        .where(Message.ticket_id == ticket.id, Message.author_customer_id == customer.id)
        .limit(1)
    )
    if wrote_here is not None:
        return True
    emails = [e.email for e in customer.emails]
    return (
        db.session.scalar(select(StaffUser.id).where(func.lower(StaffUser.email).in_(emails)).limit(1))
        is not None
    )


def is_automatic_reply(parsed: ParsedEmail) -> bool:
    """An auto-responder wrote this (out of office, vacation), not a person."""
    headers = parsed.headers
    auto_submitted = headers.get("auto-submitted", "").strip().lower()
    return bool(
        (auto_submitted and not auto_submitted.startswith("no"))
        or "x-autoreply" in headers
        or "x-autorespond" in headers
        or headers.get("precedence", "").strip().lower() == "auto_reply"
    )


def auto_reply_refusal(parsed: ParsedEmail, queues: dict[str, int] | None = None) -> str | None:
    """Why we must not answer this mail automatically (mail loops, lists, robots), or None."""
    headers = parsed.headers
    auto_submitted = headers.get("auto-submitted", "").strip().lower()
    if auto_submitted and not auto_submitted.startswith("no"):
        return "auto-submitted"
    if headers.get("precedence", "").strip().lower() in ("bulk", "junk", "list"):
        return "precedence"
    if "list-id" in headers or "list-unsubscribe" in headers:
        return "mailing list"
    if "x-autoreply" in headers or "x-autorespond" in headers:
        return "auto-reply header"
    if headers.get("return-path", "").strip() == "<>":
        return "null sender"
    sender = parsed.from_address or ""
    if not sender or MACHINE_SENDERS.match(sender):
        return "machine sender"
    if addresses.base_address(sender) in addresses.our_addresses(queues):
        return "our own address"
    _write_first_if(OutboundEmail, lambda e: e.kind == "acknowledgement" and e.to == sender)
    since = utcnow() - timedelta(hours=1)
    sent = db.session.connection().scalar(ACKNOWLEDGEMENTS_SINCE, {"sender": sender, "since": since})
    if sent >= current_app.config["MAIL_AUTO_REPLIES_PER_HOUR"]:
        return "hourly limit"
    return None


def _record_bounce(parsed: ParsedEmail) -> tuple[IngestResult, Ticket, Message, str]:
    """A delivery report goes on the ticket of the mail that bounced, as a system event; never a ticket."""
    report = parsed.report
    ids = [i for i in [report.original_message_id, *parsed.thread_ids] if i]
    ticket = None
    if ids:
        ticket_id = _ticket_of_outbound_email(ids, latest_first=False) or _ticket_of_message(ids)
        ticket = db.session.get(Ticket, ticket_id) if ticket_id else None
    if ticket is None:
        raise Rejected("a delivery report (bounce) for a message that is not ours")
    details = [
        f"recipients: {', '.join(report.recipients) or '?'}",
        f"status: {report.status or '?'}",
    ]
    if report.diagnostic:
        details.append(f"diagnostic: {report.diagnostic}")
    if _changed_in_transaction(ticket):
        db.session.flush()  # as for a reply: each message its own change of the ticket
    event = _system_event(ticket, "bounce", "\n".join(details))
    event.email_message_id = parsed.message_id
    attach_files(event, parsed.files)
    return IngestResult(parsed.message_id, ticket.number, "appended"), ticket, event, "bounce"


def process_stored(limit: int = 1000, older_than: timedelta = timedelta(minutes=1)) -> int:
    """Process rows that were stored but never processed (a crash between the two steps).

    Only rows older than ``older_than``: a fresh row is being processed by whoever stored it.
    Several workers share the backlog: each takes one row at a time, locked with ``SKIP LOCKED`` on
    PostgreSQL, so none waits for another and the claim in ``process_inbound`` does each row once.
    """
    cutoff = utcnow() - older_than
    done = taken = 0
    while taken < limit:
        inbound_id = _take_stored(cutoff)
        if inbound_id is None:
            break
        taken += 1
        done += process_inbound(inbound_id).action != "duplicate"  # commits, releasing the row
    db.session.commit()
    return done


def _take_stored(cutoff: datetime) -> int | None:
    """The oldest row still stored before ``cutoff``, locked until this transaction ends."""
    query = (
        select(InboundMessage.id)
        .where(InboundMessage.status == InboundStatus.STORED, InboundMessage.received_at <= cutoff)
        .order_by(InboundMessage.id)
        .limit(1)
    )
    if db.engine.dialect.name == "postgresql":
        query = query.with_for_update(skip_locked=True)
    return db.session.scalar(query)


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


@register_job("mail.process_stored", every_seconds=30)
def process_stored_job(app: Flask) -> int:
    done = process_stored()
    if done:
        log.info("processed %d stored message(s)", done)
    return done
