"""Test data factories and query counting, imported by tests (pytest advises against importing
``conftest``). Each factory commits, as a request would, so what it made is visible to the client."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from functools import cache

from sqlalchemy import event

from helpdesk.auth.models import Role, StaffUser
from helpdesk.auth.passwords import hash_password
from helpdesk.customers.models import Customer, CustomerEmail, Order
from helpdesk.extensions import db
from helpdesk.kb import service as kb_service
from helpdesk.kb.models import Article, ArticleStatus
from helpdesk.tickets import service as ticket_service
from helpdesk.tickets.models import Channel, Queue, Ticket

PASSWORD = "correct horse battery"


def _postgres_url() -> str | None:
    """The suite runs on PostgreSQL when ``HELPDESK_TEST_DATABASE_URL`` is set; each pytest-xdist
    worker then uses its own database beside it (``<name>_gw0`` …, created by the first fixture)."""
    url = os.environ.get("HELPDESK_TEST_DATABASE_URL")
    worker = os.environ.get("PYTEST_XDIST_WORKER")
    return f"{url}_{worker}" if url and worker else url


POSTGRES_URL = _postgres_url()
REDIS_URL = os.environ.get("HELPDESK_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")


@cache
def password_hash() -> str:
    """Hashing is deliberately slow; factories reuse one hash of ``PASSWORD``."""
    return hash_password(PASSWORD)


_counter = iter(range(1, 10**9))


def make_staff(role: Role = Role.AGENT, email: str | None = None, **fields) -> StaffUser:
    n = next(_counter)
    user = StaffUser(
        email=email or f"{role.value}{n}@staff.test",
        name=fields.pop("name", f"{role.value.title()} {n}"),
        role=role,
        password_hash=password_hash(),
        **fields,
    )
    db.session.add(user)
    db.session.commit()
    return user


def make_customer(email: str | None = None, **fields) -> Customer:
    n = next(_counter)
    customer = Customer(
        name=fields.pop("name", f"Customer {n}"),
        password_hash=fields.pop("password_hash", password_hash()),
        **fields,
    )
    customer.emails.append(
        CustomerEmail(email=(email or f"customer{n}@example.test").lower(), is_primary=True)
    )
    db.session.add(customer)
    db.session.commit()
    return customer


def make_default_sla():
    """The default calendar and SLA policies, committed, as ``helpdesk init`` leaves them."""
    from helpdesk.sla.service import ensure_default_setup

    calendar = ensure_default_setup()
    db.session.commit()
    return calendar


def make_queue(slug: str = "general", **fields) -> Queue:
    queue = Queue(
        slug=slug, name_en=fields.pop("name_en", slug.title()), name_ar=fields.pop("name_ar", slug), **fields
    )
    db.session.add(queue)
    db.session.commit()
    return queue


def make_ticket(
    customer: Customer | None = None,
    subject: str = "Where is my order?",
    body: str = "It has not arrived.",
    status=None,
    **fields,
) -> Ticket:
    ticket = ticket_service.open_ticket(
        customer=customer or make_customer(),
        subject=subject,
        body=body,
        channel=fields.pop("channel", Channel.PORTAL),
        **fields,
    )
    if status is not None and status != ticket.status:
        ticket_service.change_status(ticket, status, actor=None)
    db.session.commit()
    return ticket


@contextmanager
def count_queries() -> Iterator[list[str]]:
    """Collect the SQL statements run inside the block (for query budgets)."""
    statements: list[str] = []

    def before_execute(conn, cursor, statement, parameters, context, executemany):
        statements.append(statement)

    engine = db.engine
    event.listen(engine, "before_cursor_execute", before_execute)
    try:
        yield statements
    finally:
        event.remove(engine, "before_cursor_execute", before_execute)


def database_tables() -> list:
    """The model tables this database has (the search backend's exist only on PostgreSQL)."""
    postgres = db.engine.dialect.name == "postgresql"
    return [t for t in db.metadata.sorted_tables if postgres or not t.info.get("postgresql_only")]


SEARCH_MARKERS = ("search_documents", "search_words", "search_passages", "pg_trgm")


def search_statements(statements: list[str]) -> list[str]:
    """The statements of the PostgreSQL search backend, whose index is in the database (a page's
    budget counts them apart: on Whoosh the same searches cost no statement)."""
    return [s for s in statements if any(marker in s for marker in SEARCH_MARKERS)]


def other_statements(statements: list[str]) -> list[str]:
    return [s for s in statements if not any(marker in s for marker in SEARCH_MARKERS)]


def make_order(
    customer: Customer,
    *,
    number: str = "100138-SO",
    status: str = "shipped",
    total: str = "10",
    days_ago: int = 0,
) -> Order:
    """One of the customer's shop orders (the number has the mixed form shops use: digits and letters)."""
    order = Order(
        customer=customer,
        external_id=number,
        number=number,
        status=status,
        total=Decimal(total),
        ordered_at=datetime.now(UTC) - timedelta(days=days_ago),
    )
    db.session.add(order)
    db.session.commit()
    return order


def make_automation(
    *,
    name: str = "Rule",
    kind: str = "trigger",
    events: list[str] | None = None,
    conditions: dict | None = None,
    actions: list[dict] | None = None,
    once_per_ticket: bool = False,
    safety: bool = True,
    **fields,
):
    """An active rule saved through the service (``safety=False`` skips the automation safety check,
    to build the unsafe rules the ledger must still stop)."""
    from unittest import mock

    from helpdesk.automations import service as automations

    with mock.patch.object(automations, "check_safety", lambda *a: None) if not safety else _nothing():
        rule = automations.save_rule(
            None,
            actor=None,
            name=name,
            kind=kind,
            events=events if events is not None else (["created"] if kind == "trigger" else []),
            conditions=conditions or {"all": []},
            actions=actions or [],
            once_per_ticket=once_per_ticket,
            **fields,
        )
    db.session.commit()
    return rule


@contextmanager
def _nothing() -> Iterator[None]:
    yield


# The article editor's form, filled in for a new published article.
NEW_ARTICLE_FORM = {
    "title": "Gift wrap",
    "slug": "gift-wrap",
    "locale": "en",
    "category": "0",
    "translation_of": "",
    "tags": "gift, wrap",
    "body": "We wrap.",
    "status": "published",
}


def make_article(
    slug: str, title: str, body: str = "", locale: str = "en", status: str = "published", **fields
) -> Article:
    """A knowledge-base article saved through the service (so it is queued for the search index)."""
    article = kb_service.save_article(
        None,
        slug=slug,
        locale=locale,
        title=title,
        body=body,
        category=fields.pop("category", None),
        tags=list(fields.pop("tags", [])),
        translation_of=fields.pop("translation_of", None),
        status=ArticleStatus(status),
        phrasings=fields.pop("phrasings", None),
    )
    db.session.commit()
    return article
