"""Outbound webhooks: events from the service layer become delivery rows in the same transaction;
the worker posts them, signed, with retries and backoff.

``emit()`` only notes the event on the session. Just before the transaction commits, each noted
event is turned into one ``WebhookDelivery`` per subscribed endpoint, with the ticket as it is at
that moment: so the body shows the committed state, several changes to a ticket in one transaction
become one ``ticket.updated`` (with every change listed), and a rolled-back transaction sends nothing.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import time
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from flask import Flask, current_app
from sqlalchemy import event as sa_event
from sqlalchemy import select
from sqlalchemy.orm import Session

from helpdesk.api.models import DeliveryStatus, WebhookAttempt, WebhookDelivery, WebhookEndpoint
from helpdesk.dbtypes import utcnow
from helpdesk.extensions import db
from helpdesk.worker import jobtable
from helpdesk.worker.runner import register_job

if TYPE_CHECKING:
    import httpx

log = logging.getLogger("helpdesk.api.webhooks")

EVENTS = ("ticket.created", "ticket.updated", "message.created", "sla.breached")
MAX_ATTEMPTS = 12
FIRST_RETRY = timedelta(seconds=30)
LONGEST_RETRY = timedelta(hours=6)
CLAIM_LEASE = timedelta(minutes=2)
SIGNATURE_HEADER = "X-Helpdesk-Signature"

_PENDING = "webhook_events"
_SAVEPOINT_MARKS = "webhook_savepoints"


@dataclass
class PendingEvent:
    name: str
    ticket: Any
    message: Any = None
    changes: dict[str, dict[str, Any]] = field(default_factory=dict)
    details: dict[str, Any] = field(default_factory=dict)
    occurred_at: datetime = field(default_factory=utcnow)


def emit(
    name: str,
    *,
    ticket,
    message=None,
    changes: dict[str, tuple[Any, Any]] | None = None,
    details: dict[str, Any] | None = None,
) -> None:
    """Note an event of the current transaction (``changes``: field → (old, new))."""
    pending: list[PendingEvent] = db.session.info.setdefault(_PENDING, [])
    if name == "ticket.updated":
        if any(p.name == "ticket.created" and p.ticket is ticket for p in pending):
            return  # opened in this transaction: ticket.created already carries the final state
        same = next((p for p in pending if p.name == name and p.ticket is ticket), None)
        if same is not None:
            for key, (old, new) in (changes or {}).items():
                same.changes.setdefault(key, {"from": _plain(old)})["to"] = _plain(new)
            return
    pending.append(
        PendingEvent(
            name=name,
            ticket=ticket,
            message=message,
            changes={
                k: {"from": _plain(old), "to": _plain(new)} for k, (old, new) in (changes or {}).items()
            },
            details=dict(details or {}),
        )
    )


def _plain(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat()
    return getattr(value, "value", value)


@sa_event.listens_for(Session, "before_commit")
def _write_deliveries(session: Session) -> None:
    pending: list[PendingEvent] = session.info.pop(_PENDING, [])
    if not pending:
        return
    endpoints = session.scalars(select(WebhookEndpoint).where(WebhookEndpoint.is_active)).all()
    wanted = [(p, [e for e in endpoints if p.name in (e.events or [])]) for p in pending]
    if not any(targets for _p, targets in wanted):
        return
    session.flush()  # ids and the final state of what the events describe
    for item, targets in wanted:
        if not targets:
            continue
        body = {
            "id": str(uuid.uuid4()),
            "event": item.name,
            "occurred_at": item.occurred_at.isoformat(),
            "data": _data(item),
        }
        for endpoint in targets:
            session.add(
                WebhookDelivery(
                    uuid=str(uuid.uuid4()),
                    endpoint_id=endpoint.id,
                    event=item.name,
                    payload=body,
                    next_attempt_at=utcnow(),
                )
            )


@sa_event.listens_for(Session, "after_transaction_create")
def _mark_savepoint(session: Session, transaction) -> None:
    """Remember how many events a savepoint started with, so rolling it back forgets only its own."""
    if transaction.nested:
        session.info.setdefault(_SAVEPOINT_MARKS, {})[transaction] = len(session.info.get(_PENDING, []))


@sa_event.listens_for(Session, "after_soft_rollback")
def _forget_events(session: Session, previous_transaction) -> None:
    """A rolled-back transaction sends nothing; a rolled-back savepoint drops only what it added."""
    if previous_transaction.nested:
        start = session.info.get(_SAVEPOINT_MARKS, {}).pop(previous_transaction, 0)
        del session.info.get(_PENDING, [])[start:]
    else:
        session.info.pop(_PENDING, None)


@sa_event.listens_for(Session, "after_transaction_end")
def _forget_marks(session: Session, transaction) -> None:
    if transaction.parent is None:
        session.info.pop(_SAVEPOINT_MARKS, None)


def _data(item: PendingEvent) -> dict[str, Any]:
    from helpdesk.api.schemas import MessageSchema, TicketSchema

    data: dict[str, Any] = {"ticket": TicketSchema().dump(item.ticket)}
    if item.message is not None:
        data["message"] = MessageSchema().dump(item.message)
    if item.changes:
        data["changes"] = item.changes
    data.update(item.details)
    return data


# --- delivery ---------------------------------------------------------------------------------


def sign(secret: str, timestamp: str, body: bytes) -> str:
    """``sha256=<hex>`` of HMAC-SHA256 over ``<timestamp>.<body>`` (the timestamp stops replays)."""
    mac = hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256)
    return "sha256=" + mac.hexdigest()


def retry_delay(attempts: int) -> timedelta:
    """30 s, 1, 2, 4 … minutes, at most six hours."""
    return jobtable.retry_delay(attempts, first=FIRST_RETRY, longest=LONGEST_RETRY)


def _post(delivery: WebhookDelivery, client: httpx.Client) -> tuple[int | None, str | None]:
    body = json.dumps(delivery.payload, ensure_ascii=False, separators=(",", ":")).encode()
    timestamp = str(int(time.time()))
    headers = {
        "Content-Type": "application/json",
        "User-Agent": "Helpdesk-Webhooks/1",
        "X-Helpdesk-Event": delivery.event,
        "X-Helpdesk-Delivery": delivery.uuid,
        "X-Helpdesk-Timestamp": timestamp,
        SIGNATURE_HEADER: sign(delivery.endpoint.secret, timestamp, body),
    }
    import httpx

    try:
        response = client.post(delivery.endpoint.url, content=body, headers=headers)
    except httpx.HTTPError as exc:
        return None, f"{type(exc).__name__}: {exc}"[:2000]
    if 200 <= response.status_code < 300:
        return response.status_code, None
    return response.status_code, f"HTTP {response.status_code}: {response.text[:500]}"


def deliver_due(limit: int = 100) -> dict[str, int]:
    """Post what is due; returns counts of delivered and failed attempts."""
    import httpx  # here, not at the top: web processes never post, and httpx with its CLI costs ~10 MB

    delivered = failed = 0
    timeout = current_app.config["WEBHOOK_TIMEOUT_SECONDS"]
    with httpx.Client(timeout=timeout, follow_redirects=False) as client:
        for delivery_id, attempts in jobtable.due_jobs(WebhookDelivery, DeliveryStatus.QUEUED, limit=limit):
            if not jobtable.claim(
                WebhookDelivery, delivery_id, attempts, DeliveryStatus.QUEUED, lease=CLAIM_LEASE
            ):
                continue
            delivery = db.session.get(WebhookDelivery, delivery_id)
            started = time.monotonic()
            status_code, error = _post(delivery, client)
            now = utcnow()
            delivery.attempt_log.append(
                WebhookAttempt(
                    attempted_at=now,
                    status_code=status_code,
                    error=error,
                    duration_ms=int((time.monotonic() - started) * 1000),
                )
            )
            delivery.last_status_code = status_code
            delivery.last_error = error
            if error is None:
                delivered += 1
                delivery.status = DeliveryStatus.DELIVERED
                delivery.delivered_at = now
            else:
                failed += 1
                if delivery.attempts >= MAX_ATTEMPTS:
                    delivery.status = DeliveryStatus.FAILED
                else:
                    delivery.next_attempt_at = now + retry_delay(delivery.attempts)
                log.warning(
                    "webhook delivery %s failed (attempt %s): %s", delivery.id, delivery.attempts, error
                )
            db.session.commit()
    return {"delivered": delivered, "failed": failed}


@register_job("api.deliver_webhooks", every_seconds=5)
def deliver_webhooks(app: Flask) -> dict[str, int]:
    return deliver_due()
