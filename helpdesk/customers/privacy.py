"""A customer's right to their data: export everything we hold about them, or erase them.

Erasure keeps the tickets (reports, SLA figures and the team's work stay true) but removes the
person: their profile and email identities, everything they wrote (ticket subjects, message bodies,
CSAT and article comments, what they typed into searches, guest-case drafts, the raw emails they
sent), the attachments they sent (the file too, unless another message shares it), their mirrored
orders, the mail we sent them, and their name, addresses and phone number wherever staff wrote them
on their tickets, in audit events or in webhook payloads. Sessions and emailed links stop working.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Text, cast, delete, func, or_, select
from sqlalchemy.orm import selectinload

from helpdesk.api.models import WebhookDelivery
from helpdesk.audit import service as audit
from helpdesk.audit.models import AuditEvent
from helpdesk.auth.models import EmailToken, RecoveryCode, StaffUser
from helpdesk.blobs import blob_store
from helpdesk.customers.models import Customer, CustomerEmail, Order
from helpdesk.extensions import db
from helpdesk.kb.models import ArticleFeedback, ArticleView, Deflection, SearchEvent
from helpdesk.mail.models import InboundMessage, OutboundEmail
from helpdesk.tickets.export import ticket_record
from helpdesk.tickets.models import Attachment, CsatRating, Message, Ticket
from helpdesk.tickets.search_index import queue_ticket_index

EXPORT_FORMAT = 1
REDACTED = "[erased]"
# Names shorter than this are not searched for in staff-written text: "Al" would hit every word.
MIN_NEEDLE = 3


class CustomerNotFound(LookupError):
    pass


def find_customer(ref: str) -> Customer:
    """A customer by id (``42``) or by any of their email addresses."""
    ref = ref.strip()
    if ref.isdigit():
        customer = db.session.get(Customer, int(ref))
    else:
        customer = db.session.scalar(
            select(Customer).join(CustomerEmail).where(CustomerEmail.email == ref.lower())
        )
    if customer is None:
        raise CustomerNotFound(f"No customer {ref!r}.")
    return customer


def erased_name(customer_id: int) -> str:
    return f"Erased customer #{customer_id}"


def is_erased(customer: Customer) -> bool:
    return customer.name == erased_name(customer.id) and not customer.emails


def _iso(value) -> str | None:
    return value.isoformat() if value is not None else None


def _about_customer(customer: Customer, emails: list[str]):
    """Audit events whose actor or target is this customer, or that name one of their addresses."""
    conditions = [AuditEvent.actor == customer.get_id(), AuditEvent.target == f"customer:{customer.id}"]
    if emails:
        conditions.append(func.lower(AuditEvent.actor_label).in_(emails))
        conditions += [
            func.lower(cast(AuditEvent.details, Text)).contains(e, autoescape=True) for e in emails
        ]
    return or_(*conditions)


def export_customer(customer: Customer, *, actor: StaffUser | None, ip: str | None = None) -> dict[str, Any]:
    """Everything we hold about one customer, as JSON-ready data (a subject access request); audited."""
    data = _customer_data(customer)
    audit.record("customer.exported", actor=actor, target=f"customer:{customer.id}", ip=ip)
    return data


def _customer_data(customer: Customer) -> dict[str, Any]:
    emails = [e.email for e in customer.emails]
    tickets = db.session.scalars(
        select(Ticket)
        .where(Ticket.customer_id == customer.id)
        .order_by(Ticket.id)
        .options(selectinload(Ticket.messages).selectinload(Message.attachments))
    ).all()
    ratings = db.session.scalars(select(CsatRating).where(CsatRating.customer_id == customer.id)).all()
    events = db.session.scalars(
        select(AuditEvent).where(_about_customer(customer, emails)).order_by(AuditEvent.id)
    ).all()
    return {
        "format": EXPORT_FORMAT,
        "profile": {
            "id": customer.id,
            "name": customer.name,
            "phone": customer.phone,
            "language": customer.language,
            "tier": customer.tier.value,
            "notes": customer.notes,
            "addresses": customer.addresses,
            "is_active": customer.is_active,
            "created_at": _iso(customer.created_at),
            "last_login_at": _iso(customer.last_login_at),
        },
        "emails": [
            {"email": e.email, "is_primary": e.is_primary, "verified_at": _iso(e.verified_at)}
            for e in customer.emails
        ],
        "tickets": [_ticket_record(t) for t in tickets],
        "orders": [_order_record(o) for o in customer.orders],
        "csat": [
            {
                "ticket": r.ticket.number,
                "score": r.score,
                "comment": r.comment,
                "created_at": _iso(r.created_at),
            }
            for r in ratings
        ],
        "kb_feedback": [
            {
                "article": f.article_id,
                "helpful": f.helpful,
                "comment": f.comment,
                "created_at": _iso(f.created_at),
            }
            for f in _rows(ArticleFeedback, customer)
        ],
        "kb_deflections": [
            {"article": d.article_id, "query": d.query, "created_at": _iso(d.created_at)}
            for d in _rows(Deflection, customer)
        ],
        "kb_searches": [
            {"query": s.query, "results": s.result_count, "created_at": _iso(s.created_at)}
            for s in _rows(SearchEvent, customer)
        ],
        "emails_received": [
            {"subject": m.subject, "sender": m.sender, "received_at": _iso(m.received_at), "size": m.size}
            for m in db.session.scalars(select(InboundMessage).where(_inbound_from(customer, emails)))
        ],
        "emails_sent": [
            {"to": m.to, "subject": m.subject, "kind": m.kind, "created_at": _iso(m.created_at)}
            for m in db.session.scalars(select(OutboundEmail).where(_outbound_to(customer, emails)))
        ],
        "audit_events": [
            {
                "action": e.action,
                "actor": e.actor,
                "actor_label": e.actor_label,
                "target": e.target,
                "ip": e.ip,
                "details": e.details,
                "created_at": _iso(e.created_at),
            }
            for e in events
        ],
    }


def _rows(model, customer: Customer) -> list:
    return db.session.scalars(select(model).where(model.customer_id == customer.id).order_by(model.id)).all()


def _ticket_record(ticket: Ticket) -> dict[str, Any]:
    """The JSON-lines export's record, with when it was solved and each file's SHA-256."""
    record = ticket_record(ticket)
    record["solved_at"] = _iso(ticket.solved_at)
    for message, out in zip(ticket.messages, record["messages"], strict=True):
        for attachment, meta in zip(message.attachments, out["attachments"], strict=True):
            meta["sha256"] = attachment.sha256
    return record


def _order_record(order: Order) -> dict[str, Any]:
    return {
        "number": order.number,
        "source": order.source,
        "status": order.status,
        "total": str(order.total),
        "currency": order.currency,
        "items": order.items,
        "carrier": order.carrier,
        "tracking_number": order.tracking_number,
        "ordered_at": _iso(order.ordered_at),
    }


def _inbound_from(customer: Customer, emails: list[str]):
    authored = select(Message.id).where(Message.author_customer_id == customer.id)
    return or_(
        InboundMessage.ticket_message_id.in_(authored),
        *[func.lower(InboundMessage.sender).contains(e, autoescape=True) for e in emails],
    )


def _outbound_to(customer: Customer, emails: list[str]):
    tickets = select(Ticket.id).where(Ticket.customer_id == customer.id)
    return or_(
        OutboundEmail.ticket_id.in_(tickets),
        *[func.lower(OutboundEmail.to).contains(e, autoescape=True) for e in emails],
    )


# --- erasure ---------------------------------------------------------------------------------


@dataclass
class Erasure:
    """What an erasure removed (counts only: the audit event must not hold personal data)."""

    tickets: int = 0
    messages_redacted: int = 0
    attachments_deleted: int = 0
    files_deleted: int = 0
    orders_deleted: int = 0
    emails_deleted: int = 0
    _files: list[str] = field(default_factory=list, repr=False)

    def counts(self) -> dict[str, int]:
        return {k: v for k, v in vars(self).items() if not k.startswith("_")}


class _Scrubber:
    """Replaces a person's identifiers (name, addresses, phone) in free text and JSON values."""

    def __init__(self, needles: list[str]) -> None:
        needles = sorted(
            {n.strip() for n in needles if n and len(n.strip()) >= MIN_NEEDLE}, key=len, reverse=True
        )
        self.pattern = re.compile("|".join(re.escape(n) for n in needles), re.IGNORECASE) if needles else None

    def text(self, value: str | None) -> str | None:
        if value is None or self.pattern is None:
            return value
        return self.pattern.sub(REDACTED, value)

    def json(self, value: Any) -> Any:
        if isinstance(value, str):
            return self.text(value)
        if isinstance(value, list):
            return [self.json(v) for v in value]
        if isinstance(value, dict):
            return {k: self.json(v) for k, v in value.items()}
        return value


def erase_customer(customer: Customer, *, actor: StaffUser | None, ip: str | None = None) -> Erasure:
    """Anonymise the customer and remove what they wrote, with the files nothing else refers to, in
    the caller's transaction (a rollback keeps everything). Safe to run again."""
    emails = [e.email for e in customer.emails]
    identifiers = [customer.name, customer.phone or "", *emails]
    tickets = db.session.scalars(
        select(Ticket)
        .where(Ticket.customer_id == customer.id)
        .options(selectinload(Ticket.messages).selectinload(Message.attachments))
    ).all()
    authored = db.session.scalars(
        select(Message)
        .where(Message.author_customer_id == customer.id)
        .options(selectinload(Message.attachments))
    ).all()
    # Copies of what they wrote (webhook payloads) go too, matched by the text itself.
    written = (
        [t.subject for t in tickets] + [m.body_text for m in authored] + [m.display_text for m in authored]
    )
    result = Erasure(tickets=len(tickets))

    _erase_ticket_content(customer, tickets, authored, _Scrubber(identifiers), result)
    _erase_mail(customer, emails, _Scrubber(identifiers), result)
    _erase_kb_traces(customer)
    for rating in db.session.scalars(select(CsatRating).where(CsatRating.customer_id == customer.id)):
        rating.comment = None
    scrub = _Scrubber(identifiers + [w for w in written if w and w != REDACTED])
    for event in db.session.scalars(select(AuditEvent).where(_about_customer(customer, emails))):
        if event.actor_label and event.actor_label.lower() in emails:
            event.actor_label = None
        event.details = scrub.json(event.details)
    mentions = [t.number for t in tickets] + emails
    if mentions:
        payload = cast(WebhookDelivery.payload, Text)
        for delivery in db.session.scalars(
            select(WebhookDelivery).where(or_(*[payload.contains(m, autoescape=True) for m in mentions]))
        ):
            delivery.payload = scrub.json(delivery.payload)
    if emails:
        db.session.execute(delete(EmailToken).where(EmailToken.email.in_(emails)))
    for order in list(customer.orders):
        for ticket in tickets:
            if ticket.order_id == order.id:
                ticket.order_id = None
        db.session.delete(order)
        result.orders_deleted += 1

    customer.emails.clear()  # delete-orphan: the addresses are gone, so no mail can reach or match them
    customer.name = erased_name(customer.id)
    customer.phone = None
    customer.notes = None
    customer.addresses = []
    customer.password_hash = None
    customer.totp_secret = customer.totp_confirmed_at = customer.totp_last_step = None
    db.session.execute(delete(RecoveryCode).where(RecoveryCode.customer_id == customer.id))
    customer.is_active = False  # the session loader refuses inactive users: signed out everywhere
    customer.last_login_at = None
    db.session.flush()
    result.files_deleted = _discard_unshared_files(result._files)
    audit.record("customer.erased", actor=actor, target=f"customer:{customer.id}", ip=ip, **result.counts())
    return result


def _erase_ticket_content(
    customer: Customer, tickets: list[Ticket], authored: list[Message], scrub: _Scrubber, result: Erasure
) -> None:
    for ticket in tickets:
        ticket.subject = REDACTED
        for message in ticket.messages:
            if message.author_customer_id != customer.id:
                # Staff replies and notes stay (the team's record) without the person's identifiers.
                message.body_text = scrub.text(message.body_text) or ""
                message.display_text = scrub.text(message.display_text)
                message.body_html = scrub.text(message.body_html)
    for message in authored:
        message.body_text = REDACTED
        message.display_text = REDACTED
        message.body_html = None
        result.messages_redacted += 1
        for attachment in list(message.attachments):
            result._files.append(attachment.sha256)
            message.attachments.remove(attachment)
            result.attachments_deleted += 1
    queue_ticket_index(*tickets, *{m.ticket for m in authored})


def _erase_mail(customer: Customer, emails: list[str], scrub: _Scrubber, result: Erasure) -> None:
    for row in db.session.scalars(select(InboundMessage).where(_inbound_from(customer, emails))):
        row.raw = b""
        row.size = 0
        row.sender = None
        row.subject = None
        row.error = scrub.text(row.error)
    result.emails_deleted = db.session.execute(
        delete(OutboundEmail).where(_outbound_to(customer, emails))
    ).rowcount


def _erase_kb_traces(customer: Customer) -> None:
    """Keep the counts (deflection rate, helpfulness), drop the link to the person and their words."""
    for row in _rows(ArticleFeedback, customer):
        row.comment, row.customer_id = None, None
    for row in _rows(Deflection, customer):
        row.query, row.customer_id = None, None
    for row in _rows(SearchEvent, customer):
        row.query, row.customer_id = REDACTED, None
    for row in _rows(ArticleView, customer):
        row.customer_id = None


def _discard_unshared_files(digests: list[str]) -> int:
    """Remove the stored files no remaining attachment refers to, when the erasure commits."""
    if not digests:
        return 0
    shared = set(db.session.scalars(select(Attachment.sha256).where(Attachment.sha256.in_(set(digests)))))
    return blob_store().discard(set(digests) - shared)
