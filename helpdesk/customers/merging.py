"""Two customer records that are one person (they wrote by email and on WhatsApp, or from two
addresses): an agent finds the other record and merges it into one.

Everything the merged record held moves to the kept one: tickets and the messages they wrote,
email addresses, orders, custom field values (the kept record's own value wins where both have
one), company membership, ratings and help-centre history. The kept record takes a phone, a
portal password, addresses and notes it lacked; the merged record's browser sessions end (the
person signs in again with any of the addresses, now all the kept record's) and the record itself
is deleted. The merge is audited with what moved.
"""

from __future__ import annotations

import unicodedata

from flask_babel import gettext as _
from sqlalchemy import delete, func, or_, select, update
from sqlalchemy.orm import selectinload

from helpdesk.audit import service as audit
from helpdesk.auth import sessions
from helpdesk.companies.models import CompanyMember
from helpdesk.custom_fields.models import CustomerFieldValue
from helpdesk.customers.models import Customer, CustomerEmail, Order, Tier
from helpdesk.extensions import db
from helpdesk.integrations.mapping import e164
from helpdesk.kb.models import ArticleFeedback, ArticleView, Deflection, SearchEvent
from helpdesk.live.models import LiveEvent
from helpdesk.tickets.errors import DomainError
from helpdesk.tickets.models import CsatRating, Message, Ticket
from helpdesk.tickets.search_index import queue_ticket_index

TIER_RANK = {Tier.STANDARD: 0, Tier.SILVER: 1, Tier.GOLD: 2, Tier.VIP: 3}
SEARCH_LIMIT = 10


class CannotMerge(DomainError):
    """The two records cannot be merged as asked."""


def find_customers(text: str, *, besides: Customer | None = None) -> list[Customer]:
    """Customers whose name, email address or phone number holds ``text`` (a phone in any of the
    forms ``e164`` reads, Arabic-Indic digits too), oldest first; at most ``SEARCH_LIMIT``."""
    text = (text or "").strip()
    if len(text) < 2:
        return []
    needle = text.lower()
    conditions = [
        func.lower(Customer.name).contains(needle, autoescape=True),
        Customer.id.in_(
            select(CustomerEmail.customer_id).where(CustomerEmail.email.contains(needle, autoescape=True))
        ),
    ]
    phone = e164(text)
    if phone:
        conditions.append(Customer.phone == phone)
    digits = "".join(str(unicodedata.digit(ch, "")) for ch in text if ch.isdigit()).lstrip("0")
    if len(digits) >= 4:  # part of a number: 0551234 finds +966551234567
        conditions.append(Customer.phone.contains(digits))
    query = (
        select(Customer)
        .options(selectinload(Customer.emails))
        .where(or_(*conditions), Customer.is_active)
        .order_by(Customer.id)
        .limit(SEARCH_LIMIT)
    )
    if besides is not None:
        query = query.where(Customer.id != besides.id)
    return list(db.session.scalars(query))


def merge_customers(
    source: Customer, target: Customer, *, actor, ip: str | None = None, phone: str | None = None
) -> Customer:
    """Merge ``source`` into ``target`` (flushes; ``source`` is deleted). ``phone``: which of the two
    numbers the kept record has when both have a different one (by default the target's)."""
    if source.id == target.id:
        raise CannotMerge(_("A customer cannot be merged with the same record."))
    if not (source.is_active and target.is_active):
        raise CannotMerge(_("An erased or deactivated customer cannot be merged."))
    if phone is not None and phone not in (source.phone, target.phone):
        raise CannotMerge(_("Choose the phone number of one of the two records."))
    db.session.flush()
    moved = {
        "tickets": _move(Ticket, Ticket.customer_id, source, target),
        "messages": _move(Message, Message.author_customer_id, source, target),
        "orders": _move(Order, Order.customer_id, source, target),
        "emails": _move_emails(source, target),
        "fields": _move_field_values(source, target),
    }
    for model in (CsatRating, SearchEvent, ArticleView, Deflection, ArticleFeedback, LiveEvent):
        _move(model, model.customer_id, source, target)
    if db.session.get(CompanyMember, target.id) is None:
        _move(CompanyMember, CompanyMember.customer_id, source, target)
    _take_profile(source, target, phone)
    ended = sessions.end_all(source, actor=actor, ip=ip, reason="customer_merged")
    audit.record(
        "customer.merged",
        actor=actor,
        target=f"customer:{target.id}",
        ip=ip,
        merged=f"customer:{source.id}",
        merged_name=source.name,
        sessions_ended=ended,
        **moved,
    )
    tickets = db.session.scalars(select(Ticket).where(Ticket.customer_id == target.id)).all()
    queue_ticket_index(*tickets)  # the customer's name and addresses are part of each ticket's text
    db.session.flush()
    # Rows were moved in the database: what the session holds of them (a ticket's customer) is stale.
    db.session.expire_all()
    db.session.delete(db.session.get(Customer, source.id))
    db.session.flush()
    return db.session.get(Customer, target.id)


def _move(model, column, source: Customer, target: Customer) -> int:
    result = db.session.execute(
        update(model)
        .where(column == source.id)
        .values({column.key: target.id})
        .execution_options(synchronize_session=False)
    )
    return result.rowcount or 0


def _move_emails(source: Customer, target: Customer) -> int:
    """The source's addresses join the target's; the target's primary address stays primary."""
    has_primary = any(e.is_primary for e in target.emails)
    for address in list(source.emails):
        address.customer_id = target.id
        address.is_primary = address.is_primary and not has_primary
        has_primary = has_primary or address.is_primary
    count = len(source.emails)
    db.session.flush()
    db.session.expire(source, ["emails"])
    db.session.expire(target, ["emails"])
    return count


def _move_field_values(source: Customer, target: Customer) -> int:
    """The source's custom field values for fields the target has no value of; the rest go."""
    taken = select(CustomerFieldValue.field_id).where(CustomerFieldValue.customer_id == target.id)
    moved = db.session.execute(
        update(CustomerFieldValue)
        .where(CustomerFieldValue.customer_id == source.id, CustomerFieldValue.field_id.not_in(taken))
        .values(customer_id=target.id)
        .execution_options(synchronize_session=False)
    ).rowcount
    db.session.execute(delete(CustomerFieldValue).where(CustomerFieldValue.customer_id == source.id))
    return moved or 0


def _take_profile(source: Customer, target: Customer, phone: str | None) -> None:
    """What the kept record lacks, from the merged one."""
    kept = phone or target.phone or source.phone
    dropped = next((p for p in (target.phone, source.phone) if p and p != kept), None)
    target.phone = kept
    if dropped:  # one number per record: the other is kept where an agent reads it
        note = _("Other phone number (merged record): %(phone)s", phone=dropped)
        target.notes = "\n".join(filter(None, [target.notes, note]))
    if source.notes:
        target.notes = "\n".join(filter(None, [target.notes, source.notes]))
    target.addresses = list(target.addresses or []) + [
        a for a in source.addresses or [] if a not in (target.addresses or [])
    ]
    if not target.password_hash and source.password_hash:
        target.password_hash = source.password_hash  # the portal password they set still works
    target.language = target.language or source.language
    if TIER_RANK.get(source.tier, 0) > TIER_RANK.get(target.tier, 0):
        target.tier = source.tier
    if source.last_login_at and (target.last_login_at is None or source.last_login_at > target.last_login_at):
        target.last_login_at = source.last_login_at
    if source.created_at and target.created_at and source.created_at < target.created_at:
        target.created_at = source.created_at
