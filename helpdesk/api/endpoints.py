"""Admin operations on webhook endpoints (each one audited)."""

from __future__ import annotations

import secrets

from sqlalchemy import update

from helpdesk.api.models import DeliveryStatus, WebhookDelivery, WebhookEndpoint
from helpdesk.audit import service as audit
from helpdesk.auth.models import StaffUser
from helpdesk.dbtypes import utcnow
from helpdesk.extensions import db


def new_secret() -> str:
    return "whsec_" + secrets.token_urlsafe(32)


def save_endpoint(
    endpoint: WebhookEndpoint | None,
    *,
    actor: StaffUser,
    url: str,
    description: str | None,
    events: list[str],
    is_active: bool,
    ip: str | None = None,
) -> WebhookEndpoint:
    if endpoint is None:
        endpoint = WebhookEndpoint(secret=new_secret())
        db.session.add(endpoint)
    endpoint.url = url.strip()
    endpoint.description = (description or "").strip() or None
    endpoint.events = sorted(set(events))
    endpoint.is_active = is_active
    db.session.flush()
    audit.record(
        "webhook.saved",
        actor=actor,
        target=f"webhook:{endpoint.id}",
        ip=ip,
        url=endpoint.url,
        events=endpoint.events,
        active=is_active,
    )
    return endpoint


def rotate_secret(endpoint: WebhookEndpoint, *, actor: StaffUser, ip: str | None = None) -> None:
    endpoint.secret = new_secret()
    audit.record("webhook.secret_rotated", actor=actor, target=f"webhook:{endpoint.id}", ip=ip)


def retry_delivery(delivery: WebhookDelivery, *, actor: StaffUser, ip: str | None = None) -> None:
    """Send a failed delivery again now (the attempt count goes on from where it stopped)."""
    db.session.execute(
        update(WebhookDelivery)
        .where(WebhookDelivery.id == delivery.id, WebhookDelivery.status == DeliveryStatus.FAILED)
        .values(status=DeliveryStatus.QUEUED, next_attempt_at=utcnow(), attempts=0)
    )
    audit.record("webhook.retried", actor=actor, target=f"webhook_delivery:{delivery.id}", ip=ip)
