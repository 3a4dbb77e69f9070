"""Customer records created and edited by staff (the API; later an admin page)."""

from __future__ import annotations

from flask_babel import gettext as _
from sqlalchemy import select

from helpdesk.audit import service as audit
from helpdesk.auth.models import StaffUser
from helpdesk.customers.models import Customer, CustomerEmail, Tier
from helpdesk.extensions import db
from helpdesk.tickets.errors import DomainError


class EmailTaken(DomainError):
    pass


def _check_email_free(email: str, customer: Customer | None = None) -> None:
    owner = db.session.scalar(select(CustomerEmail.customer_id).where(CustomerEmail.email == email))
    if owner is not None and (customer is None or owner != customer.id):
        raise EmailTaken(_("Another customer already uses %(email)s.", email=email))


def create_customer(
    *,
    name: str,
    email: str,
    actor: StaffUser,
    phone: str | None = None,
    language: str | None = None,
    tier: Tier = Tier.STANDARD,
    notes: str | None = None,
) -> Customer:
    """A customer with one primary address (stored lower-cased); a taken address is refused."""
    email = email.strip().lower()
    _check_email_free(email)
    customer = Customer(name=name.strip(), phone=phone, language=language, tier=tier, notes=notes)
    customer.emails.append(CustomerEmail(email=email, is_primary=True))
    db.session.add(customer)
    db.session.flush()
    audit.record("customer.created", actor=actor, target=f"customer:{customer.id}", email=email)
    return customer


def update_customer(customer: Customer, *, actor: StaffUser, **changes) -> Customer:
    """Change the given fields; a new ``email`` becomes the primary address (old ones are kept, so
    mail from them still finds the customer)."""
    email = changes.pop("email", None)
    if email is not None:
        email = email.strip().lower()
        _check_email_free(email, customer)
        existing = next((e for e in customer.emails if e.email == email), None)
        for address in customer.emails:
            address.is_primary = False
        if existing is None:
            customer.emails.append(CustomerEmail(email=email, is_primary=True))
        else:
            existing.is_primary = True
    for field in ("name", "phone", "language", "tier", "notes"):
        if field in changes:
            value = changes[field]
            setattr(customer, field, value.strip() if field == "name" else value)
    audit.record(
        "customer.updated",
        actor=actor,
        target=f"customer:{customer.id}",
        fields=sorted([*changes, *(["email"] if email else [])]),
    )
    return customer
