"""Outbound webhooks: the domain events of a transaction become delivery rows just before it commits;
the worker posts them, signed, with retries and backoff.

The rows are written by ``write_deliveries``, the receiver of ``events.committing``: so the body shows
the committed state, several changes to a ticket in one transaction become one ``ticket.updated``
(with every change listed), and a rolled-back transaction sends nothing (see ``helpdesk.events``).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import time
import uuid
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from flask import Flask, current_app
from sqlalchemy import select
from sqlalchemy.orm import Session

from helpdesk import events
from helpdesk.api.models import DeliveryStatus, WebhookAttempt, WebhookDelivery, WebhookEndpoint
from helpdesk.dbtypes import utcnow
from helpdesk.extensions import db
from helpdesk.worker import jobtable
from helpdesk.worker.runner import register_job

if TYPE_CHECKING:
    import httpx

log = logging.getLogger("helpdesk.api.webhooks")

EVENTS = ("ticket.created", "ticket.updated", "message.created", "sla.breached", "automation.applied")
MAX_ATTEMPTS = 12
FIRST_RETRY = timedelta(seconds=30)
LONGEST_RETRY = timedelta(hours=6)
CLAIM_LEASE = timedelta(minutes=2)
SIGNATURE_HEADER = "X-Helpdesk-Signature"

# The public names of the domain events, as endpoints subscribe to them.
PUBLIC_NAMES = {
    events.ticket_opened: "ticket.created",
    events.ticket_changed: "ticket.updated",
    events.message_added: "message.created",
    events.sla_breached: "sla.breached",
    events.automation_applied: "automation.applied",
}


def write_deliveries(session: Session, published: list[events.Event]) -> None:
    """Receiver of ``events.committing``: one delivery row per subscribed endpoint and event, with the
    ticket as it is at that moment."""
    named = [(PUBLIC_NAMES[e.signal], e) for e in published if e.signal in PUBLIC_NAMES]
    if not named:
        return
    endpoints = session.scalars(select(WebhookEndpoint).where(WebhookEndpoint.is_active)).all()
    wanted = [(name, e, [t for t in endpoints if name in (t.events or [])]) for name, e in named]
    if not any(targets for _name, _e, targets in wanted):
        return
    session.flush()  # ids and the final state of what the events describe
    for name, item, targets in wanted:
        if not targets:
            continue
        body = {
            "id": str(uuid.uuid4()),
            "event": name,
            "occurred_at": item.occurred_at.isoformat(),
            "data": _data(item),
        }
        for endpoint in targets:
            session.add(
                WebhookDelivery(
                    uuid=str(uuid.uuid4()),
                    endpoint_id=endpoint.id,
                    event=name,
                    payload=body,
                    next_attempt_at=utcnow(),
                )
            )


def _data(item: events.Event) -> dict[str, Any]:
    from helpdesk.api.schemas import MessageSchema, TicketSchema

    data: dict[str, Any] = {"ticket": TicketSchema().dump(item.ticket)}
    if item.message is not None:
        data["message"] = MessageSchema().dump(item.message)
    if item.changes:
        data["changes"] = item.changes
    if item.signal is events.automation_applied:
        data["automation"] = {"id": item.details["rule_id"], "name": item.details["rule_name"]}
    if item.signal is events.sla_breached:
        data["breach"] = {
            "metric": item.details["metric"].value,
            "due_at": item.details["due_at"].isoformat(),
            "policy_id": item.details.get("policy_id"),
        }
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
