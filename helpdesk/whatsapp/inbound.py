"""The worker's side of the ledger: each stored message becomes a reply on the customer's WhatsApp
ticket (or a new ticket), each status moves the agent's message forward. A failure (media that cannot
be downloaded yet, a status that arrived before its send was recorded) keeps the item and retries it
with backoff; after the last attempt a message is filed without its media, never dropped.

Message types: https://developers.facebook.com/documentation/business-messaging/whatsapp/webhooks/reference/messages
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

from flask import Flask, current_app
from flask_babel import force_locale
from flask_babel import gettext as _
from sqlalchemy import func, select
from sqlalchemy.orm import joinedload

from helpdesk.batching import changed_in_transaction
from helpdesk.dbtypes import utcnow
from helpdesk.extensions import db
from helpdesk.integrations.mapping import customer_finder, e164
from helpdesk.sla.models import TicketSla
from helpdesk.tickets import service as tickets
from helpdesk.tickets.attachments import IncomingFile, max_attachment_bytes, safe_filename
from helpdesk.tickets.models import Channel, Message, Status, Ticket
from helpdesk.whatsapp import graph
from helpdesk.whatsapp.ledger import items
from helpdesk.whatsapp.models import LedgerStatus, WhatsAppAccount, WhatsAppInbound, WhatsAppOutbound
from helpdesk.worker import jobtable
from helpdesk.worker.runner import register_job

MAX_ATTEMPTS = 8
FIRST_RETRY = timedelta(seconds=10)
LONGEST_RETRY = timedelta(hours=1)
CLAIM_LEASE = timedelta(minutes=2)
BATCH = 500
# Rows filed in one SQLite transaction: enough to share the commit, short enough that the webhook's
# ledger writes never wait long for the write lock.
TRANSACTION_BATCH = 100
MEDIA_TYPES = ("image", "document", "audio", "video", "sticker")
# Later statuses win; a late "delivered" never overwrites "read". "failed" is final.
DELIVERY_RANK = {None: 0, "sent": 1, "delivered": 2, "read": 3, "failed": 4}


class NotYet(Exception):
    """Try this item again later (its media could not be fetched, its message is not sent yet)."""


def _item(row: WhatsAppInbound) -> tuple[dict, dict] | None:
    for key, _kind, item, value in items(json.loads(row.body)):
        if key == row.dedupe_key:
            return item, value
    return None


class Batch:
    """What filing a batch of ledger rows looks up once rather than per message: the connected
    numbers, the senders (one query by phone), and each sender's latest WhatsApp ticket (one query;
    then the ticket this batch opened or added to)."""

    def __init__(self, rows: list[WhatsAppInbound]) -> None:
        accounts = db.session.scalars(select(WhatsAppAccount).options(joinedload(WhatsAppAccount.queue)))
        self.accounts = {account.phone_number_id: account for account in accounts}
        phones = {_sender_phone(item) for row in rows if row.kind == "message" for item in _items_of(row)}
        self.customers = customer_finder([(None, phone) for phone in phones if phone])
        known = {customer.id: customer for customer in self.customers.by_phone.values()}
        self.latest: dict[tuple[int, int], Ticket] = {}
        if known:
            newest = (
                select(func.max(Ticket.id))
                .where(
                    Ticket.customer_id.in_(known),
                    Ticket.channel == Channel.WHATSAPP,
                    Ticket.merged_into_id.is_(None),
                )
                .group_by(Ticket.customer_id, Ticket.queue_id)
            )
            for ticket in db.session.scalars(select(Ticket).where(Ticket.id.in_(newest))):
                self.latest[(id(known[ticket.customer_id]), ticket.queue_id)] = ticket
        # In the identity map, so that each message's SLA recompute finds its ticket's row there.
        ids = [ticket.id for ticket in self.latest.values()]
        self.slas = db.session.scalars(select(TicketSla).where(TicketSla.ticket_id.in_(ids))).all()


def _items_of(row: WhatsAppInbound) -> list[dict]:
    found = _item(row)
    return [found[0]] if found else []


def _sender_phone(item: dict) -> str | None:
    wa_id = str(item.get("from") or "")
    return e164("+" + wa_id.lstrip("+")) if wa_id else None


def file_rows(rows: list[WhatsAppInbound]) -> dict[WhatsAppInbound, str]:
    """File ledger rows in the current transaction (one flush for the batch where it can: a lookup
    that could be answered by a row of the batch not yet written writes it first). Returns the rows
    that must wait (media not downloadable yet, a status before its send), for which nothing was
    written: ``NotYet`` is raised before a row's first write."""
    batch = Batch(rows)
    filed: list[tuple[WhatsAppInbound, Message]] = []
    waiting: dict[WhatsAppInbound, str] = {}
    with db.session.no_autoflush:
        for row in rows:
            try:
                message = apply(row, batch, last_attempt=row.attempts >= MAX_ATTEMPTS)
            except NotYet as error:
                waiting[row] = str(error)
                continue
            if message is not None:
                filed.append((row, message))
    db.session.flush()
    for row, message in filed:
        row.ticket_message_id = message.id
    return waiting


def apply(row: WhatsAppInbound, batch: Batch, *, last_attempt: bool = False) -> Message | None:
    """File one ledger item; returns the message it became (None for a status or other item)."""
    found = _item(row)
    if found is None:
        return None
    item, value = found
    if row.kind == "status":
        apply_status(item)
        return None
    phone_number_id = str((value.get("metadata") or {}).get("phone_number_id") or "")
    account = batch.accounts.get(phone_number_id)
    if account is None:  # disconnected since the delivery: kept and retried, filed if it comes back
        raise NotYet(f"no queue is connected to the WhatsApp number id {phone_number_id!r}")
    return file_message(account, item, value, batch, last_attempt=last_attempt)


def file_message(
    account: WhatsAppAccount, item: dict, value: dict, batch: Batch, *, last_attempt: bool = False
) -> Message:
    """One customer message onto their open WhatsApp ticket in the account's queue, or a new one."""
    wa_id = str(item.get("from") or "")
    names = {str(c.get("wa_id")): (c.get("profile") or {}).get("name") for c in value.get("contacts") or []}
    phone = _sender_phone(item)
    if not phone:
        raise ValueError("the message has no sender number")
    text, files, missing = _content(account, item, last_attempt=last_attempt)  # may raise NotYet: first
    customer = batch.customers.find_or_create(None, phone, names.get(wa_id))
    when = _timestamp(item.get("timestamp"))
    ticket = _open_ticket_of(account, batch.latest.get((id(customer), account.queue_id)), when)
    if ticket is not None and changed_in_transaction(ticket):
        # Written first, so that each message is its own change of the ticket (its version) and the
        # SLA recompute reads what earlier messages of the batch did to it.
        db.session.flush()
    if item.get("type") == "reaction" and ticket is not None:
        return tickets.record_event(
            ticket, "whatsapp_reaction", text, actor=customer, channel=Channel.WHATSAPP, at=when
        )
    if ticket is None:
        ticket = tickets.open_ticket(
            customer=customer,
            subject=_subject(text, customer.name),
            body=text,
            channel=Channel.WHATSAPP,
            queue=account.queue,
            attachments=files,
            created_at=when,
        )
        batch.latest[(id(customer), account.queue_id)] = ticket
        message = ticket.messages[0]
    else:
        message = tickets.add_message(
            ticket, author=customer, body=text, channel=Channel.WHATSAPP, attachments=files, created_at=when
        )
    if missing:
        tickets.record_event(ticket, "whatsapp_media_missing", missing, channel=Channel.WHATSAPP)
    return message


def _open_ticket_of(account: WhatsAppAccount, ticket: Ticket | None, when: datetime) -> Ticket | None:
    """The customer's latest WhatsApp ticket in this queue while it is active, or solved less than the
    account's idle time ago (the message reopens it); else None: a new ticket."""
    if ticket is None or ticket.status == Status.CLOSED:
        return None
    if ticket.status == Status.SOLVED:
        solved = ticket.solved_at or ticket.updated_at
        if solved is None or when - solved > timedelta(hours=account.idle_hours):
            return None
    return ticket


def _timestamp(raw: object) -> datetime:
    try:
        return min(datetime.fromtimestamp(int(raw), UTC), utcnow())  # type: ignore[arg-type]
    except (TypeError, ValueError, OverflowError, OSError):
        return utcnow()


def _subject(text: str, name: str) -> str:
    first = (text or "").strip().splitlines()[0] if (text or "").strip() else ""
    with force_locale(current_app.config["BABEL_DEFAULT_LOCALE"]):
        return first[:80] or _("WhatsApp message from %(name)s", name=name)


def _content(
    account: WhatsAppAccount, item: dict, *, last_attempt: bool
) -> tuple[str, list[IncomingFile], str]:
    """(text, files, note of media not downloaded) of a message, written in the install's language."""
    kind = str(item.get("type") or "")
    body = item.get(kind) if isinstance(item.get(kind), dict) else {}
    with force_locale(current_app.config["BABEL_DEFAULT_LOCALE"]):
        if kind == "text":
            return str(body.get("body") or ""), [], ""
        if kind in MEDIA_TYPES:
            return _media(account, kind, body, last_attempt=last_attempt)
        if kind == "location":
            place = ", ".join(str(body[k]) for k in ("name", "address") if body.get(k))
            link = f"https://maps.google.com/?q={body.get('latitude')},{body.get('longitude')}"
            return "\n".join(filter(None, [_("Location"), place, link])), [], ""
        if kind == "contacts":
            lines = [_("Shared contacts")]
            for contact in item.get("contacts") or []:
                name = (contact.get("name") or {}).get("formatted_name") or ""
                phones = ", ".join(
                    p.get("phone") or p.get("wa_id") or "" for p in contact.get("phones") or []
                )
                lines.append(f"{name}: {phones}".strip(": "))
            return "\n".join(lines), [], ""
        if kind == "interactive":
            reply = body.get("button_reply") or body.get("list_reply") or body.get("nfm_reply") or {}
            return str(reply.get("title") or reply.get("body") or ""), [], ""
        if kind == "button":  # a quick-reply button of a template
            return str(body.get("text") or ""), [], ""
        if kind == "reaction":
            return str(body.get("emoji") or _("(reaction removed)")), [], ""
        return _("Unsupported message (%(type)s)", type=kind or "?"), [], ""


def _media(account: WhatsAppAccount, kind: str, body: dict, *, last_attempt: bool) -> tuple[str, list, str]:
    caption = str(body.get("caption") or "")
    if kind == "sticker":
        label = _("Sticker")
    elif kind == "audio" and body.get("voice"):
        label = _("Voice note")
    else:
        label = ""
    text = "\n".join(filter(None, [caption, label])) if (caption or label) else ""
    try:
        data, mime = graph.download_media(account, str(body.get("id")), max_attachment_bytes())
    except graph.GraphError as error:
        if error.retry and not last_attempt:
            raise NotYet(str(error)) from error
        return text, [], str(error)
    extension = (mime.split("/")[-1].split("+")[0] or "bin")[:10]
    name = body.get("filename") or f"{kind}-{body.get('id')}.{extension}"
    return text, [IncomingFile(safe_filename(name), mime or body.get("mime_type") or "", data)], ""


def apply_status(item: dict) -> str:
    """Meta's news of a message we sent: kept on its outbox row, never moved backwards."""
    row = db.session.scalar(select(WhatsAppOutbound).where(WhatsAppOutbound.wamid == str(item.get("id"))))
    if row is None:
        raise NotYet("the status came before the message's send was recorded")
    status = str(item.get("status") or "")
    if status not in DELIVERY_RANK or DELIVERY_RANK[status] <= DELIVERY_RANK.get(row.delivery, 0):
        return "stale"
    row.delivery = status
    if status == "failed":
        error = (item.get("errors") or [{}])[0]
        row.error_code = str(error.get("code") or "")[:20] or None
        row.last_error = str(error.get("title") or error.get("message") or "")[:2000] or None
    return "status"


INBOX = jobtable.Inbox(WhatsAppInbound, LedgerStatus, MAX_ATTEMPTS, FIRST_RETRY, LONGEST_RETRY, CLAIM_LEASE)


def process_due(limit: int = BATCH) -> int:
    """File the queued items, oldest first: on SQLite a batch per transaction, else one item each."""
    return jobtable.work_in_batches(INBOX, file_rows, limit=limit, size=TRANSACTION_BATCH)


@register_job("whatsapp.process_inbound", every_seconds=1)
def process_inbound(app: Flask) -> int:
    return process_due()
