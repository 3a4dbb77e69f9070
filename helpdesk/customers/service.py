"""Customer records: finding the customer behind an address, creating one on first contact."""

from __future__ import annotations

from sqlalchemy import bindparam, select
from sqlalchemy.exc import IntegrityError

from helpdesk.batching import write_first_if
from helpdesk.customers.models import Customer, CustomerEmail
from helpdesk.extensions import db

CUSTOMER_OF_ADDRESS = (
    select(Customer).join(CustomerEmail).where(CustomerEmail.email == bindparam("address")).limit(1)
)


def find_or_create_customer(address: str, name: str, language: str) -> Customer:
    """The customer who owns this address (any of their addresses, case-insensitive), or a new one."""
    address = address.strip().lower()
    write_first_if(CustomerEmail, lambda e: e.email == address)
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
