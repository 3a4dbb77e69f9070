"""Inbound mail: store the raw bytes first, then turn them into a ticket, a reply or a system event.

``ingest`` is what every entry point calls (the pipe command, IMAP polling, the SMTP listener):
1. the raw bytes are committed to ``inbound_messages`` (unique by Message-ID, else content hash),
   so a second delivery of the same mail is a ``duplicate`` and nothing is lost if we crash;
2. processing claims the row and does all its work in one transaction; a failure is rolled back
   and the row is marked failed with its reason, for an admin to look at. Rows left ``stored`` by
   a crash are picked up by the worker job ``mail.process_stored``.

So unlike a service, this module owns its transactions: each public function is a unit of work of the
ingest job, and the commit between storing and processing is the guarantee that nothing is lost.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Sequence
from datetime import timedelta
from typing import NamedTuple

from flask import Flask, current_app
from flask_babel import force_locale
from flask_babel import gettext as _
from sqlalchemy import select, update

from helpdesk.batching import changed_in_transaction
from helpdesk.customers import service as customers
from helpdesk.dbtypes import utcnow
from helpdesk.extensions import db
from helpdesk.mail import addresses
from helpdesk.mail.bounces import record_bounce
from helpdesk.mail.compose import queue_acknowledgement
from helpdesk.mail.ledger import (
    LEDGER,
    IngestResult,
    Outcome,
    Rejected,
    StoredMail,
    insert_raw,
    insert_raws,
    ledger_id,
    load_stored,
    mark,
    record_outcomes,
    status_of,
    take_stored,
)
from helpdesk.mail.models import InboundMessage, InboundStatus
from helpdesk.mail.parse import ParsedEmail, UnreadableEmail, clean_subject, html_to_text, parse_email
from helpdesk.mail.policy import auto_reply_refusal, is_automatic_reply
from helpdesk.mail.reply_text import visible_text
from helpdesk.mail.threads import find_thread
from helpdesk.sanitize import clean_html
from helpdesk.tickets import service as tickets
from helpdesk.tickets.attachments import attach_files
from helpdesk.tickets.models import Channel, Message, Queue, Status, Ticket
from helpdesk.worker.runner import register_job

log = logging.getLogger("helpdesk.mail.inbound")

ARABIC_LETTER = re.compile(r"[\u0600-\u06ff]")


def ingest(
    raw: bytes,
    *,
    source: str = "pipe",
    queue: Queue | None = None,
    recipient: str | None = None,
) -> IngestResult:
    """Store, commit, then process one raw message. Never raises for bad mail."""
    inbound_id, stored = insert_raw(raw, source=source, queue=queue, recipient=recipient)
    if inbound_id is None:
        db.session.rollback()
        result = _redelivered(stored)
        db.session.commit()  # ends the duplicate's read
        return result
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
    rows = insert_raws(raws, source=source, queue=queue)
    db.session.commit()  # every message is safe before any of them is parsed
    try:
        results = _process_together(rows)
        db.session.commit()
        return results
    except Exception as exc:
        db.session.rollback()
        log.info("a message of the batch failed (%s); processing its messages one by one", exc)
    results = [_redelivered(stored) if i is None else process_inbound(i, stored) for i, stored in rows]
    db.session.commit()  # ends the duplicates' reads
    return results


def _process_together(rows: list[tuple[int | None, StoredMail]]) -> list[IngestResult]:
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
    outcomes: list[Outcome] = []
    # One flush for the whole batch: a lookup writes the batch's rows first only when one of them
    # could answer it (see ``batching.write_first_if``), so each message no longer costs a unit of work.
    with db.session.no_autoflush:
        for (inbound_id, stored), work in zip(rows, parsed, strict=True):
            if inbound_id is None:  # in the ledger already: a duplicate, unless it was never processed
                record_outcomes(outcomes)  # its ticket may be one this batch made
                inbound_id = ledger_id(stored.dedupe_key)
                if status_of(inbound_id) != InboundStatus.STORED:
                    results.append(_duplicate(inbound_id))
                    continue
                stored = load_stored(inbound_id)
                result = _claim_and_process(inbound_id, stored, _parse(stored), queues)
            elif inbound_id in claimed:
                result = _process_claimed(inbound_id, stored, work, queues, outcomes)
            else:
                result = None
            results.append(result or _duplicate(inbound_id))
    record_outcomes(outcomes)
    return results


def _redelivered(stored: StoredMail) -> IngestResult:
    """A mail already in the ledger: a duplicate, unless it was stored but never processed (a crash,
    or another worker right now), in which case the claim lets exactly one of us process it."""
    inbound_id = ledger_id(stored.dedupe_key)
    if status_of(inbound_id) != InboundStatus.STORED:
        return _duplicate(inbound_id)
    return process_inbound(inbound_id)


def _duplicate(inbound_id: int) -> IngestResult:
    message_id, number = db.session.execute(
        select(InboundMessage.message_id, Ticket.number)
        .outerjoin(Ticket, Ticket.id == InboundMessage.ticket_id)
        .where(InboundMessage.id == inbound_id)
    ).one()
    return IngestResult(message_id, number, "duplicate", inbound_id=inbound_id)


def process_inbound(inbound_id: int, stored: StoredMail | None = None) -> IngestResult:
    """Turn a stored row into a ticket or reply, exactly once, even with several workers racing.

    The row is claimed (stored → processed) by the first write of the transaction that does all the
    work: a second worker waits on that row and then finds it taken; a crash rolls the claim back.
    """
    stored = stored or load_stored(inbound_id)
    reading = _parse(stored)  # before taking the write lock: it needs no database
    try:
        result = _claim_and_process(inbound_id, stored, reading)
    except Exception as exc:
        db.session.rollback()
        result = _record_failure(inbound_id, stored, exc, reading.seen)
    result = result or _duplicate(inbound_id)  # None: someone else has processed it
    db.session.commit()
    return result


class _Reading(NamedTuple):
    """A stored message read: the parsed mail, or the reason it cannot be read; and what the ledger
    shows of it (sender, subject)."""

    parsed: ParsedEmail | None
    problem: Exception | None
    seen: dict


def _parse(stored: StoredMail) -> _Reading:
    try:
        _check_size(stored.raw)
        parsed = parse_email(stored.raw, max_attachment_bytes=current_app.config["MAX_ATTACHMENT_BYTES"])
    except Exception as exc:  # too big, not mail at all, or a parser bug: recorded as failed, never raised
        return _Reading(None, exc, {})
    sender = f"{parsed.from_name} <{parsed.from_address}>" if parsed.from_name else parsed.from_address
    seen = {"sender": (sender or "")[:998] or None, "subject": parsed.subject[:998] or None}
    return _Reading(parsed, None, seen)


def _claim_and_process(
    inbound_id: int, stored: StoredMail, reading: _Reading, queues: dict[str, int] | None = None
) -> IngestResult | None:
    """Claim the row and do the work, in the caller's transaction; None when it was taken already."""
    if not mark(
        inbound_id,
        LEDGER.c.status == InboundStatus.STORED,
        status=InboundStatus.PROCESSED,
        processed_at=utcnow(),
    ):
        return None
    return _process_claimed(inbound_id, stored, reading, queues)


def _process_claimed(
    inbound_id: int,
    stored: StoredMail,
    reading: _Reading,
    queues: dict[str, int] | None = None,
    outcomes: list[Outcome] | None = None,
) -> IngestResult:
    """The ticket side of a claimed row, and what came of it in the ledger (at once, or added to
    ``outcomes`` for the batch to write at its end)."""
    if reading.parsed is None:
        raise reading.problem
    queue = db.session.get(Queue, stored.queue_id) if stored.queue_id else None
    result, ticket, message, action = _file_message(reading.parsed, queue, stored.recipient, queues)
    outcome = Outcome(inbound_id, action, ticket, message, reading.seen)
    if outcomes is None:
        record_outcomes([outcome])
    else:
        outcomes.append(outcome)
    result.inbound_id = inbound_id
    return result


def _record_failure(inbound_id: int, stored: StoredMail, exc: Exception, seen: dict) -> IngestResult:
    """Keep the message as failed with its reason (its work was rolled back by the caller)."""
    expected = isinstance(exc, Rejected | UnreadableEmail)
    reason = str(exc) if expected else f"{type(exc).__name__}: {exc}"
    if not expected:
        log.exception("processing inbound message %s failed", inbound_id)
    mark(
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


def _file_message(
    parsed: ParsedEmail, queue: Queue | None, recipient: str | None, queues: dict[str, int] | None = None
) -> tuple[IngestResult, Ticket, Message, str]:
    """All the work on the tickets side; returns (result, ticket, message, ledger action). Written
    by the caller's flush."""
    if parsed.report is not None:
        return record_bounce(parsed)
    if not parsed.from_address:
        raise Rejected(parsed.sender_problem or "the message has no sender address")
    queues = addresses.queue_addresses() if queues is None else queues
    # Asked before anything is written, so that its query does not write the new rows early.
    acknowledge = auto_reply_refusal(parsed, queues) is None
    recipients = [recipient or "", *parsed.to, *parsed.cc]
    queue = queue or addresses.queue_for_recipients(recipients, queues)
    customer = customers.find_or_create_customer(parsed.from_address, parsed.from_name, _language_of(parsed))
    ticket = find_thread(parsed, customer, recipients)
    follow_up_of = None
    automatic = is_automatic_reply(parsed)
    if ticket is not None and ticket.status == Status.CLOSED and not automatic:
        follow_up_of, ticket = ticket, None
    if ticket is not None and changed_in_transaction(ticket):
        # Written first, so that each message is its own change of the ticket (its version) and
        # the SLA recompute reads what earlier messages of the batch did to it.
        db.session.flush()
    text = parsed.text.strip()
    email_fields = {
        "email_message_id": parsed.message_id,
        "in_reply_to": " ".join(parsed.in_reply_to)[:998] or None,
        "references": " ".join(parsed.references) or None,
        "display_text": _visible_text(parsed, text),
    }
    if ticket is not None and automatic:
        # An out-of-office answer to our mail is kept on the ticket for the agents, as an event: it is
        # not the customer speaking, so it neither reopens the ticket nor touches its SLA clocks.
        message = tickets.record_event(ticket, "auto_reply", text, actor=customer, channel=Channel.EMAIL)
        for name, value in email_fields.items():
            setattr(message, name, value)
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
            message_fields=email_fields,
        )
        if follow_up_of is not None:
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
            message_fields=email_fields,
        )
        action = "appended"
    if follow_up_of is not None:
        tickets.record_event(
            ticket, "follow_up", f"follow-up of {follow_up_of.number}", channel=Channel.EMAIL
        )
    if parsed.dropped:
        tickets.record_event(ticket, "attachment_dropped", _dropped_note(parsed), channel=Channel.EMAIL)
    if action == "created" and acknowledge:
        queue_acknowledgement(ticket, parsed.from_address)
    return IngestResult(parsed.message_id, ticket.number, action), ticket, message, action


def _visible_text(parsed: ParsedEmail, text: str) -> str:
    """What the agent reads: the new text; for HTML-only mail, read without the quote containers."""
    quoteless = (
        html_to_text(parsed.html, without_quotes=True) if parsed.text_from_html and parsed.html else None
    )
    return visible_text(text, subject=parsed.subject, quoteless_html_text=quoteless)


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


def _language_of(parsed: ParsedEmail) -> str:
    sample = parsed.text[:2000] if parsed.text.strip() else parsed.subject
    arabic = len(ARABIC_LETTER.findall(sample))
    latin = len(re.findall(r"[A-Za-z]", sample))
    return "ar" if arabic and arabic * 2 >= latin else "en"


def process_stored(limit: int = 1000, older_than: timedelta = timedelta(minutes=1)) -> int:
    """Process rows that were stored but never processed (a crash between the two steps).

    Only rows older than ``older_than``: a fresh row is being processed by whoever stored it.
    Several workers share the backlog: each takes one row at a time, locked with ``SKIP LOCKED`` on
    PostgreSQL, so none waits for another and the claim in ``process_inbound`` does each row once.
    """
    cutoff = utcnow() - older_than
    done = taken = 0
    while taken < limit:
        inbound_id = take_stored(cutoff)
        if inbound_id is None:
            break
        taken += 1
        done += process_inbound(inbound_id).action != "duplicate"  # commits, releasing the row
    db.session.commit()
    return done


@register_job("mail.process_stored", every_seconds=30)
def process_stored_job(app: Flask) -> int:
    done = process_stored()
    if done:
        log.info("processed %d stored message(s)", done)
    return done
