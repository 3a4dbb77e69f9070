"""Agents' replies on WhatsApp tickets, to the customer's phone through an outbox the worker sends
with retries and backoff (a Graph API outage delays a reply, never loses or doubles it).

Meta lets a business write freely only within 24 hours of the customer's last message (the customer
service window); after it, only an approved template may be sent. A reply outside the window is
refused with that reason, and the agent is offered the queue's template instead.
Send shapes: https://developers.facebook.com/docs/whatsapp/cloud-api/reference/messages
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from flask import Flask
from flask_babel import gettext as _
from sqlalchemy import func, select

from helpdesk.blobs import blob_store
from helpdesk.dbtypes import utcnow
from helpdesk.extensions import db
from helpdesk.tickets.errors import DomainError
from helpdesk.tickets.models import Channel, Message, MessageKind, Ticket
from helpdesk.whatsapp import graph
from helpdesk.whatsapp.models import OutboxStatus, WhatsAppAccount, WhatsAppOutbound
from helpdesk.worker import jobtable
from helpdesk.worker.runner import register_job

log = logging.getLogger("helpdesk.whatsapp.outbound")

WINDOW = timedelta(hours=24)
MAX_TEXT_CHARS = 4096  # the Cloud API's limit for a text message body
MAX_ATTEMPTS = 10
FIRST_RETRY = timedelta(seconds=30)
LONGEST_RETRY = timedelta(hours=2)
CLAIM_LEASE = timedelta(minutes=2)


class CannotSend(DomainError):
    """The reply cannot go out on WhatsApp as written (window closed, too long, no number)."""


@dataclass(frozen=True)
class Window:
    """The customer service window of a WhatsApp ticket, for the reply box."""

    account: WhatsAppAccount | None
    last_customer_message_at: datetime | None

    @property
    def closes_at(self) -> datetime | None:
        return self.last_customer_message_at + WINDOW if self.last_customer_message_at else None

    @property
    def is_open(self) -> bool:
        return self.closes_at is not None and utcnow() < self.closes_at


def account_for(ticket: Ticket) -> WhatsAppAccount | None:
    if ticket.queue_id is None:
        return None
    return db.session.scalar(select(WhatsAppAccount).where(WhatsAppAccount.queue_id == ticket.queue_id))


def window_of(ticket: Ticket) -> Window:
    last = db.session.scalar(
        select(func.max(Message.created_at)).where(
            Message.author_customer_id == ticket.customer_id,
            Message.channel == Channel.WHATSAPP,
            Message.kind == MessageKind.REPLY,
        )
    )
    return Window(account_for(ticket), last)


def send_staff_reply(ticket: Ticket, *, message: Message, notify: bool = True, **_details: object) -> None:
    """Receiver of ``message_added``: a staff reply on a WhatsApp ticket goes to the customer's phone
    (text, then each attachment as media); refused when it cannot be delivered as written."""
    if not (notify and ticket.channel == Channel.WHATSAPP):
        return
    if message.kind != MessageKind.REPLY or message.author_staff is None:
        return
    window = window_of(ticket)
    if window.account is None:
        raise CannotSend(_("No WhatsApp number is connected to this ticket's queue."))
    if not ticket.customer.phone:
        raise CannotSend(_("The customer has no phone number to send the WhatsApp reply to."))
    if not window.is_open:
        raise CannotSend(
            _(
                "More than 24 hours have passed since the customer's last WhatsApp message: "
                "WhatsApp only accepts an approved template now. Send the template instead."
            )
        )
    text = (message.body_text or "").strip()
    if len(text) > MAX_TEXT_CHARS:
        raise CannotSend(
            _(
                "A WhatsApp message holds at most %(limit)s characters; this reply has %(count)s. "
                "Shorten it or send it in parts.",
                limit=MAX_TEXT_CHARS,
                count=len(text),
            )
        )
    if text:
        _queue(window.account, ticket, message, "text", {"type": "text", "text": {"body": text}})
    for attachment in message.attachments:
        media = {"sha256": attachment.sha256, "filename": attachment.filename}
        _queue(window.account, ticket, message, "media", media | {"content_type": attachment.content_type})


def queue_template(ticket: Ticket, message: Message, language: str) -> WhatsAppOutbound:
    """The account's approved template, with the ticket number as its one body parameter."""
    account = account_for(ticket)
    if account is None or not account.template_name:
        raise CannotSend(_("No approved WhatsApp template is configured for this queue."))
    if language not in account.languages:
        raise CannotSend(_("The template is not approved in that language."))
    payload = {
        "type": "template",
        "template": {
            "name": account.template_name,
            "language": {"code": language},
            "components": [{"type": "body", "parameters": [{"type": "text", "text": ticket.number}]}],
        },
    }
    return _queue(account, ticket, message, "template", payload)


def _queue(account, ticket: Ticket, message: Message, kind: str, payload: dict) -> WhatsAppOutbound:
    db.session.flush()  # the ids of a ticket or message written in this transaction
    row = WhatsAppOutbound(
        account_id=account.id,
        ticket_id=ticket.id,
        ticket_message_id=message.id,
        to=ticket.customer.phone.lstrip("+"),
        kind=kind,
        payload=payload,
        next_attempt_at=utcnow(),
    )
    db.session.add(row)
    return row


def _payload(row: WhatsAppOutbound) -> dict:
    if row.kind != "media":
        return {"to": row.to, **row.payload}
    content_type = row.payload["content_type"]
    with blob_store().open(row.payload["sha256"]) as reader:
        data = reader.read()  # the Graph API takes the file in one upload (media is at most 100 MB)
    media_id = graph.upload_media(row.account, row.payload["filename"], content_type, data)
    kind = next((k for k in ("image", "audio", "video") if content_type.startswith(k + "/")), "document")
    media: dict = {"id": media_id}
    if kind == "document":
        media["filename"] = row.payload["filename"]
    return {"to": row.to, "type": kind, kind: media}


def send_due(limit: int = 500) -> dict[str, int]:
    """Send what is due, oldest first. A rate limit or an unreachable API ends the pass: the rest keep
    their place and are sent, once each, when it answers again."""
    sent = failed = 0
    for row_id, attempts in jobtable.due_jobs(WhatsAppOutbound, OutboxStatus.QUEUED, limit=limit):
        if not jobtable.claim(WhatsAppOutbound, row_id, attempts, OutboxStatus.QUEUED, lease=CLAIM_LEASE):
            continue
        row = db.session.get(WhatsAppOutbound, row_id)
        try:
            row.wamid = graph.send_message(row.account, _payload(row))
        except (graph.GraphError, OSError) as error:
            failed += 1
            retry = getattr(error, "retry", False)
            row.last_error = str(error)[:2000]
            row.error_code = getattr(error, "code", None)
            if not retry or row.attempts >= MAX_ATTEMPTS:
                row.status, row.delivery = OutboxStatus.FAILED, "failed"
            else:
                delay = jobtable.retry_delay(row.attempts, first=FIRST_RETRY, longest=LONGEST_RETRY)
                row.next_attempt_at = utcnow() + delay
            db.session.commit()
            if retry:
                log.warning("WhatsApp send %s waits (attempt %s): %s", row_id, row.attempts, error)
                break
            continue
        row.status, row.sent_at, row.last_error, row.error_code = OutboxStatus.SENT, utcnow(), None, None
        db.session.commit()
        sent += 1
    return {"sent": sent, "failed": failed}


@register_job("whatsapp.send_outbox", every_seconds=2)
def send_outbox(app: Flask) -> dict[str, int]:
    return send_due()


def statuses_of(ticket: Ticket) -> dict[int, list[WhatsAppOutbound]]:
    """The sends of each of the ticket's messages (message id → rows), for the timeline."""
    shown: dict[int, list[WhatsAppOutbound]] = {}
    rows = db.session.scalars(
        select(WhatsAppOutbound).where(WhatsAppOutbound.ticket_id == ticket.id).order_by(WhatsAppOutbound.id)
    )
    for row in rows:
        shown.setdefault(row.ticket_message_id, []).append(row)
    return shown
