"""Generate the benchmark dataset once: 100,000 tickets, 20,000 customers, 300,000 messages,
50,000 orders, 2,000 KB articles (Arabic and English) and a set of `.eml` files for the ingest run.

Rows go in with SQLAlchemy Core executemany in large batches (no ORM objects), with explicit ids so
that rows can reference each other without a round trip. A stamp file next to the data records the
parameters; a later run with the same parameters and database reuses the data.

    python -m bench.generate                       # SQLite file under bench/data/
    python -m bench.generate --database-url postgresql+psycopg://postgres@127.0.0.1/hd_bench
    python -m bench.generate --tickets 2000 ...   # another scale (the stamp tells them apart)
"""

from __future__ import annotations

import hashlib
import json
import random
import sys
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import asdict, dataclass, replace
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from email.message import EmailMessage
from email.utils import format_datetime
from itertools import islice
from pathlib import Path
from typing import Any

import click
from flask import Flask
from sqlalchemy import Table, func, insert, select, text

from bench import words

DATA_DIR = Path(__file__).resolve().parent / "data"
GENERATOR_VERSION = 1
PASSWORD = "bench1234"
BATCH = 5000
BIG_CUSTOMER_EMAIL = "customer1@bench.test"  # the ticket-page case: 50 earlier tickets, 100 orders
AGENT_EMAIL = "agent1@bench.test"
ADMIN_EMAIL = "admin@bench.test"
FIRST_NAMES = {
    "en": [
        "James",
        "Sarah",
        "Omar",
        "Lina",
        "David",
        "Emma",
        "Yusuf",
        "Maria",
        "Adam",
        "Noor",
        "John",
        "Aisha",
    ],
    "ar": ["محمد", "فاطمة", "عبدالله", "نورة", "خالد", "سارة", "فهد", "ريم", "سلطان", "هيا", "ناصر", "لمى"],
}
LAST_NAMES = {
    "en": ["Smith", "Khan", "Brown", "Haddad", "Wilson", "Saleh", "Taylor", "Nasser", "Clark", "Awad"],
    "ar": ["العتيبي", "القحطاني", "الشهري", "الغامدي", "الدوسري", "الحربي", "الزهراني", "المطيري"],
}
QUEUES = [
    ("orders", "Orders & delivery", "الطلبات والتوصيل"),
    ("billing", "Payments & refunds", "المدفوعات والاسترداد"),
    ("returns", "Returns & warranty", "الاسترجاع والضمان"),
    ("accounts", "Accounts", "الحسابات"),
]
TAGS = ["vip", "delivery", "refund", "damaged", "duplicate-charge", "wrong-item", "urgent", "callback"]
ORDER_STATUSES = ["processing", "shipped", "out_for_delivery", "delivered", "delivered", "cancelled"]
CARRIERS = ["SMSA", "Aramex", "SPL", "DHL", "Naqel"]


@dataclass(frozen=True)
class Scale:
    tickets: int = 100_000
    customers: int = 20_000
    messages: int = 300_000
    orders: int = 50_000
    articles: int = 2_000
    big_customer_tickets: int = 51  # the one the page shows + 50 earlier ones
    big_customer_orders: int = 100
    emails: int = 500
    agents: int = 20
    days: int = 365
    seed: int = 8
    # None: the first mix (a share of each age band still open, about 9 % of 100,000). A number: a
    # settled shop, every old ticket solved or closed and about this many open among the newest.
    open_tickets: int | None = None

    def check(self) -> None:
        if self.customers < 2 or self.tickets < self.big_customer_tickets + 1:
            raise click.ClickException("Need at least 2 customers and more tickets than the big customer's.")
        if self.messages < self.tickets:
            raise click.ClickException("Every ticket has at least one message: --messages >= --tickets.")
        if self.orders < self.big_customer_orders:
            raise click.ClickException("--orders must be at least the big customer's 100 orders.")
        if self.open_tickets is not None and not 0 <= self.open_tickets <= self.tickets // 2:
            raise click.ClickException("--open-tickets must be between 0 and half the tickets.")


def default_database_url(data_dir: Path = DATA_DIR) -> str:
    return f"sqlite:///{data_dir / 'helpdesk.db'}"


def bench_app(database_url: str, data_dir: Path = DATA_DIR) -> Flask:
    """The app pointed at the benchmark database (instance folder under the data dir)."""
    from helpdesk import create_app

    instance = data_dir / "instance"
    instance.mkdir(parents=True, exist_ok=True)
    return create_app({"INSTANCE_PATH": str(instance), "SQLALCHEMY_DATABASE_URI": database_url})


def stamp_path(database_url: str, data_dir: Path = DATA_DIR) -> Path:
    return data_dir / f"stamp-{hashlib.sha256(database_url.encode()).hexdigest()[:10]}.json"


def read_stamp(database_url: str, data_dir: Path = DATA_DIR) -> dict | None:
    path = stamp_path(database_url, data_dir)
    return json.loads(path.read_text()) if path.exists() else None


def _batched(rows: Iterable[dict], size: int = BATCH) -> Iterator[list[dict]]:
    iterator = iter(rows)
    while chunk := list(islice(iterator, size)):
        yield chunk


class Loader:
    """Bulk inserts into one connection, with a progress bar per table."""

    def __init__(self, progress: bool) -> None:
        from helpdesk.extensions import db

        self.db = db
        self.progress = progress

    def insert(self, table: Table, rows: Iterable[dict], count: int, label: str) -> None:
        bar = click.progressbar(length=count, label=f"{label:<16}", file=None if self.progress else _Null())
        with bar:
            for chunk in _batched(rows):
                self.write(table, chunk)
                bar.update(len(chunk))
        self.db.session.commit()

    def write(self, table: Table, rows: list[dict]) -> None:
        """On PostgreSQL with COPY (several times faster than INSERT at a million tickets), the
        values converted by the columns' own types and the Python-side defaults filled in, as
        an INSERT would; elsewhere an executemany INSERT."""
        if not rows:
            return
        connection = self.db.session.connection()
        if connection.dialect.name != "postgresql":
            connection.execute(insert(table), rows)
            return
        given = list(rows[0])
        defaults = {
            c.name: c.default
            for c in table.c
            if c.name not in given and c.default is not None and not c.default.is_sequence
        }
        names = given + list(defaults)
        convert = [table.c[n].type._cached_bind_processor(connection.dialect) for n in names]
        quote = connection.dialect.identifier_preparer.quote
        raw = connection.connection.driver_connection
        copy_sql = f"COPY {quote(table.name)} ({', '.join(quote(n) for n in names)}) FROM STDIN"
        with raw.cursor() as cursor, cursor.copy(copy_sql) as copy:
            for row in rows:
                values = [row[n] for n in given]
                values += [d.arg if d.is_scalar else d.arg(None) for d in defaults.values()]
                pairs = zip(convert, values, strict=True)
                copy.write_row([f(v) if f and v is not None else v for f, v in pairs])

    def insert_pairs(
        self, first: Table, second: Table, pairs: Iterable[tuple[dict, list[dict]]], count: int, label: str
    ):
        """Rows of ``first`` each with their child rows of ``second``, inserted parents first per batch."""
        bar = click.progressbar(length=count, label=f"{label:<16}", file=None if self.progress else _Null())
        with bar:
            iterator = iter(pairs)
            while chunk := list(islice(iterator, BATCH)):
                self.write(first, [parent for parent, _children in chunk])
                children = [child for _parent, kids in chunk for child in kids]
                for part in _batched(children, BATCH * 2):
                    self.write(second, part)
                bar.update(len(chunk))
        self.db.session.commit()


class _Null:
    def write(self, _text: str) -> None:
        pass

    def flush(self) -> None:
        pass

    def isatty(self) -> bool:
        return False


def generate(
    scale: Scale, *, data_dir: Path = DATA_DIR, progress: bool = True, now: datetime | None = None
) -> dict:
    """Fill the (migrated, empty) database of the current app context. Returns counts and timings."""
    from helpdesk.auth.models import StaffUser
    from helpdesk.auth.passwords import hash_password
    from helpdesk.customers.models import Customer
    from helpdesk.extensions import db
    from helpdesk.tickets.models import Ticket

    scale.check()
    if db.session.scalar(select(func.count(Ticket.id))) or db.session.scalar(
        select(func.count(StaffUser.id))
    ):
        raise click.ClickException("The database already has data; the generator only fills an empty one.")
    rng = random.Random(scale.seed)
    now = now or datetime.now(UTC).replace(microsecond=0)
    timings: dict[str, float] = {}
    started = time.perf_counter()
    load = Loader(progress)
    password_hash = hash_password(PASSWORD)

    _staff_and_queues(load, scale, password_hash, now)
    _customers(load, rng, scale, password_hash, now)
    orders_by_customer = _orders(load, rng, scale, now)
    sample = _tickets_and_messages(load, rng, scale, orders_by_customer, now)
    _kb(load, rng, scale, now)
    _finish_counters(db, scale)
    timings["insert_seconds"] = round(time.perf_counter() - started, 1)

    from helpdesk.sla.service import ensure_default_setup, recompute_all_open

    ensure_default_setup()
    db.session.commit()
    t0 = time.perf_counter()
    open_recomputed = recompute_all_open()
    timings["sla_recompute_open_seconds"] = round(time.perf_counter() - t0, 1)
    timings["sla_open_tickets"] = open_recomputed
    timings.update(_reindex_if_available())
    _write_emails(rng, scale, sample, data_dir / "mail", now)
    timings["total_seconds"] = round(time.perf_counter() - started, 1)
    big = db.session.scalar(select(Customer.id).where(Customer.id == 1))
    return {"big_customer_id": big, **timings}


def _staff_and_queues(load: Loader, scale: Scale, password_hash: str, now: datetime) -> None:
    from helpdesk.auth.models import Role, StaffUser
    from helpdesk.tickets.models import Queue, Tag, queue_members

    staff = [
        {"id": 1, "email": ADMIN_EMAIL, "name": "Admin", "role": Role.ADMIN},
        {"id": 2, "email": "supervisor@bench.test", "name": "Supervisor", "role": Role.SUPERVISOR},
    ]
    staff += [
        {"id": 2 + n, "email": f"agent{n}@bench.test", "name": f"Agent {n}", "role": Role.AGENT}
        for n in range(1, scale.agents + 1)
    ]
    for row in staff:
        row.update(password_hash=password_hash, language="en", is_active=True, created_at=now)
    load.insert(StaffUser.__table__, staff, len(staff), "staff")
    queues = [
        {
            "id": i,
            "slug": slug,
            "name_en": en,
            "name_ar": ar,
            "email_address": f"{slug}@bench.test",
            "supervisor_id": 2,
            "is_active": True,
        }
        for i, (slug, en, ar) in enumerate(QUEUES, 1)
    ]
    load.insert(Queue.__table__, queues, len(queues), "queues")
    members = [
        {"queue_id": q, "staff_id": 2 + n}
        for n in range(1, scale.agents + 1)
        for q in range(1, len(QUEUES) + 1)
        if (n + q) % 2 == 0 or n == 1
    ]
    load.insert(queue_members, members, len(members), "queue members")
    load.insert(Tag.__table__, [{"id": i, "name": t} for i, t in enumerate(TAGS, 1)], len(TAGS), "tags")


def _customers(load: Loader, rng: random.Random, scale: Scale, password_hash: str, now: datetime) -> None:
    from helpdesk.customers.models import Customer, CustomerEmail, Tier

    def people() -> Iterator[dict]:
        for n in range(1, scale.customers + 1):
            language = "ar" if rng.random() < 0.7 else "en"
            yield {
                "id": n,
                "name": f"{rng.choice(FIRST_NAMES[language])} {rng.choice(LAST_NAMES[language])}",
                "phone": f"+9665{rng.randrange(10_000_000, 99_999_999)}",
                "language": language,
                "tier": Tier.GOLD if n == 1 else rng.choices(list(Tier), weights=[70, 18, 9, 3])[0],
                "notes": None,
                "addresses": [
                    {"label": "home", "city": "Riyadh", "country": "SA", "street": f"{n} King Fahd Rd"}
                ],
                "password_hash": password_hash,
                "is_active": True,
                "created_at": now - timedelta(days=rng.randrange(scale.days, 4 * scale.days)),
            }

    load.insert(Customer.__table__, people(), scale.customers, "customers")
    emails = (
        {
            "id": n,
            "customer_id": n,
            "email": f"customer{n}@bench.test",
            "is_primary": True,
            "verified_at": now,
        }
        for n in range(1, scale.customers + 1)
    )
    load.insert(CustomerEmail.__table__, emails, scale.customers, "customer emails")


def _orders(
    load: Loader, rng: random.Random, scale: Scale, now: datetime
) -> dict[int, list[tuple[int, str]]]:
    from helpdesk.customers.models import Order

    by_customer: dict[int, list[tuple[int, str]]] = {}

    def rows() -> Iterator[dict]:
        for n in range(1, scale.orders + 1):
            customer = 1 if n <= scale.big_customer_orders else rng.randrange(2, scale.customers + 1)
            number = f"SO-{100_000 + n}"
            by_customer.setdefault(customer, []).append((n, number))
            status = rng.choice(ORDER_STATUSES)
            shipped = status in {"shipped", "out_for_delivery", "delivered"}
            price = Decimal(rng.randrange(2_000, 300_000)) / 100
            yield {
                "id": n,
                "customer_id": customer,
                "source": "bench-shop",
                "external_id": str(100_000 + n),
                "number": number,
                "status": status,
                "total": price,
                "currency": "SAR",
                "items": [{"sku": f"SKU-{rng.randrange(1000, 9999)}", "quantity": 1, "price": float(price)}],
                "carrier": rng.choice(CARRIERS) if shipped else None,
                "tracking_number": str(rng.randrange(10**11, 10**12)) if shipped else None,
                "ordered_at": now
                - timedelta(days=rng.randrange(1, scale.days + 30), minutes=rng.randrange(1440)),
                "updated_at": now,
            }

    load.insert(Order.__table__, rows(), scale.orders, "orders")
    return by_customer


def _message_counts(rng: random.Random, scale: Scale) -> list[int]:
    """One message per ticket plus the rest spread at random: exactly ``scale.messages`` in all."""
    counts = [1] * scale.tickets
    for index in rng.choices(range(scale.tickets), k=scale.messages - scale.tickets):
        counts[index] += 1
    return counts


def _tickets_and_messages(
    load: Loader, rng: random.Random, scale: Scale, orders_by_customer: dict, now: datetime
) -> list[tuple[str, int, str, str]]:
    """Tickets spread evenly over ``scale.days`` (numbers ascend with time), each with its thread.
    Returns a sample of (number, customer id, language, subject) for the ingest run's replies."""
    from helpdesk.tickets.models import Channel, Message, MessageKind, Priority, Status, Ticket, ticket_tags
    from helpdesk.tickets.service import FIRST_TICKET_NUMBER, TICKET_NUMBER_PREFIX

    counts = _message_counts(rng, scale)
    span = timedelta(days=scale.days)
    step = max(1, scale.tickets // scale.big_customer_tickets)
    big_indexes = {scale.tickets - 1 - k * step for k in range(scale.big_customer_tickets)}
    agents = list(range(3, 3 + scale.agents))
    # WhatsApp tickets need a connected number; the bench's mix stays as measured before it.
    channel_weights = {Channel.EMAIL: 45, Channel.PORTAL: 40, Channel.AGENT: 10, Channel.API: 5}
    priorities = list(Priority)
    sample: list[tuple[str, int, str, str]] = []
    sample_every = max(1, scale.tickets // max(1, scale.emails // 2))
    # With ``open_tickets``: half of the newest 2 × open_tickets tickets are still being worked on.
    settled_before = scale.tickets - 2 * scale.open_tickets if scale.open_tickets is not None else None
    message_id = 0

    def pairs() -> Iterator[tuple[dict, list[dict]]]:
        nonlocal message_id
        for i in range(scale.tickets):
            ticket_id = i + 1
            created = now - span + span * (i / scale.tickets) + timedelta(minutes=rng.randrange(0, 30))
            customer = 1 if i in big_indexes else rng.randrange(2, scale.customers + 1)
            language = "ar" if rng.random() < 0.65 else "en"
            own_orders = orders_by_customer.get(customer)
            order_id, order_number = rng.choice(own_orders) if own_orders else (None, "—")
            age = now - created
            if settled_before is not None:
                done_share = 1.0 if i < settled_before else 0.5
            else:
                done_share = 0.95 if age > timedelta(days=30) else 0.45 if age > timedelta(days=3) else 0.1
            if rng.random() < done_share:
                status = Status.CLOSED if age > timedelta(days=7) and rng.random() < 0.7 else Status.SOLVED
            else:
                status = rng.choices(
                    [Status.NEW, Status.OPEN, Status.PENDING, Status.ON_HOLD], weights=[25, 45, 20, 10]
                )[0]
            assignee = None if status == Status.NEW or rng.random() < 0.08 else rng.choice(agents)
            channel = rng.choices(list(channel_weights), weights=list(channel_weights.values()))[0]
            messages = []
            when = created
            first_response_at = None
            for m in range(counts[i]):
                message_id += 1
                from_staff = m % 2 == 1 and status != Status.NEW
                kind = MessageKind.NOTE if from_staff and rng.random() < 0.12 else MessageKind.REPLY
                if from_staff and kind == MessageKind.REPLY and first_response_at is None:
                    first_response_at = when
                body = words.paragraph(rng, language, rng.randrange(1, 5))
                messages.append(
                    {
                        "id": message_id,
                        "ticket_id": ticket_id,
                        "kind": kind,
                        "author_staff_id": (assignee or rng.choice(agents)) if from_staff else None,
                        "author_customer_id": None if from_staff else customer,
                        "channel": Channel.AGENT if from_staff else channel,
                        "body_text": body,
                        "display_text": body,
                        "created_at": when,
                    }
                )
                when = min(when + timedelta(minutes=rng.randrange(10, 2000)), now)
            solved_at = closed_at = None
            if status in (Status.SOLVED, Status.CLOSED):
                solved_at = when
                closed_at = min(when + timedelta(days=4), now) if status == Status.CLOSED else None
            number = f"{TICKET_NUMBER_PREFIX}{FIRST_TICKET_NUMBER + i}"
            subject = words.subject(rng, language, order_number)
            if i % sample_every == 0:
                sample.append((number, customer, language, subject))
            yield (
                {
                    "id": ticket_id,
                    "number": number,
                    "subject": subject,
                    "status": status,
                    "priority": rng.choices(priorities, weights=[15, 60, 20, 5])[0],
                    "channel": channel,
                    "queue_id": rng.randrange(1, len(QUEUES) + 1),
                    "assignee_id": assignee,
                    "customer_id": customer,
                    "order_id": order_id,
                    "language": language,
                    "created_at": created,
                    "updated_at": closed_at or when,
                    "first_response_at": first_response_at,
                    "solved_at": solved_at,
                    "closed_at": closed_at,
                    "articles_viewed_before": 0,
                    "version": 1,
                },
                messages,
            )

    load.insert_pairs(Ticket.__table__, Message.__table__, pairs(), scale.tickets, "tickets+messages")
    tagged = (
        {"ticket_id": t, "tag_id": rng.randrange(1, len(TAGS) + 1)} for t in range(1, scale.tickets + 1, 3)
    )
    load.insert(ticket_tags, tagged, len(range(1, scale.tickets + 1, 3)), "ticket tags")
    return sample


def _kb(load: Loader, rng: random.Random, scale: Scale, now: datetime) -> None:
    from helpdesk.kb.models import Article, ArticleStatus, Category

    topics = list(zip(words.EN_TOPICS, words.AR_TOPICS, strict=False))[:10]
    categories = [
        {
            "id": i,
            "slug": f"topic-{i}",
            "name_en": en.title(),
            "name_ar": ar,
            "position": i,
            "description_en": f"Help with {en}.",
            "description_ar": f"مساعدة في {ar}.",
        }
        for i, (en, ar) in enumerate(topics, 1)
    ]
    load.insert(Category.__table__, categories, len(categories), "kb categories")

    def rows() -> Iterator[dict]:
        for n in range(1, scale.articles + 1):
            language = "en" if n % 2 else "ar"
            title = words.title(rng, language)
            body = f"## {title}\n\n" + "\n\n".join(words.paragraph(rng, language, 4) for _ in range(3))
            published = rng.random() < 0.95
            yield {
                "id": n,
                "slug": f"article-{n}",
                "locale": language,
                "title": title,
                "body_md": body,
                "status": ArticleStatus.PUBLISHED if published else ArticleStatus.DRAFT,
                "category_id": rng.randrange(1, len(categories) + 1),
                "translation_of_id": None if language == "en" else n - 1,
                "tags": [rng.choice(TAGS)],
                "view_count": rng.randrange(0, 5000),
                "helpful_yes": rng.randrange(0, 200),
                "helpful_no": rng.randrange(0, 50),
                "author_id": 1,
                "created_at": now - timedelta(days=rng.randrange(1, 700)),
                "updated_at": now,
                "published_at": now if published else None,
            }

    load.insert(Article.__table__, rows(), scale.articles, "kb articles")


def _finish_counters(db, scale: Scale) -> None:
    """The ticket-number counter continues after the generated tickets; PostgreSQL sequences past
    the explicit ids."""
    from helpdesk.tickets.models import NamedCounter
    from helpdesk.tickets.service import FIRST_TICKET_NUMBER

    db.session.execute(
        insert(NamedCounter.__table__), [{"name": "ticket", "value": FIRST_TICKET_NUMBER + scale.tickets - 1}]
    )
    if db.engine.dialect.name == "postgresql":
        for table in db.metadata.sorted_tables:
            if "id" in table.c and table.c.id.autoincrement and table.c.id.primary_key:
                db.session.execute(
                    text(
                        f"SELECT setval(pg_get_serial_sequence('{table.name}', 'id'), "
                        f"COALESCE((SELECT MAX(id) FROM {table.name}), 1))"
                    )
                )
    db.session.commit()


def _reindex_if_available() -> dict[str, Any]:
    """Build the search index when the app has a `reindex` command (the KB search feature)."""
    from flask import current_app

    command = current_app.cli.commands.get("reindex")
    if command is None:
        return {"reindex": "not available"}
    t0 = time.perf_counter()
    # Embedding 100,000 tickets takes over an hour on the bench machine (about 20 a second), so the
    # tickets' vectors are left out here; bench/search_meaning.py measures similar tickets by
    # meaning over a vector file of that size. Articles are embedded as usual.
    from helpdesk.search import dense

    tickets_vectors = dense._SPECS.pop("tickets", None)
    try:
        result = current_app.test_cli_runner().invoke(args=["reindex"])
    finally:
        if tickets_vectors is not None:
            dense.register_dense(tickets_vectors)
    if result.exit_code != 0:
        raise click.ClickException(f"helpdesk reindex failed: {result.output}")
    return {"reindex_seconds": round(time.perf_counter() - t0, 1)}


def _write_emails(
    rng: random.Random, scale: Scale, sample: list[tuple[str, int, str, str]], folder: Path, now: datetime
) -> None:
    """The ingest run's mail: replies to existing tickets (subject token), new mail from known
    customers and from unknown senders; Arabic and English; some with an HTML part."""
    folder.mkdir(parents=True, exist_ok=True)
    for old in folder.glob("*.eml"):
        old.unlink()
    for n in range(1, scale.emails + 1):
        message = EmailMessage()
        language = "ar" if rng.random() < 0.65 else "en"
        if n % 2 == 0 and sample:
            number, customer, language, subject = sample[(n // 2) % len(sample)]
            message["Subject"] = f"Re: {subject} [#{number}]"
            sender = f"customer{customer}@bench.test"
        elif n % 5 == 1:
            message["Subject"] = words.subject(
                rng, language, f"SO-{rng.randrange(100_001, 100_000 + scale.orders)}"
            )
            sender = f"new{n}@example.test"
        else:
            message["Subject"] = words.subject(rng, language, "—")
            sender = f"customer{rng.randrange(2, scale.customers + 1)}@bench.test"
        message["From"] = sender
        message["To"] = "orders@bench.test"
        message["Date"] = format_datetime(now - timedelta(minutes=scale.emails - n))
        message["Message-ID"] = f"<bench-{n}@mail.bench.test>"
        body = "\n\n".join(words.paragraph(rng, language, 3) for _ in range(2))
        message.set_content(body)
        if n % 3 == 0:
            message.add_alternative(f"<p>{body.replace(chr(10) * 2, '</p><p>')}</p>", subtype="html")
        (folder / f"{n:05d}.eml").write_bytes(bytes(message))


def prepare_database(app: Flask, database_url: str, *, fresh: bool) -> None:
    """Bring the schema up to date; with `fresh`, drop everything first (the bench database only)."""
    from helpdesk.extensions import db
    from helpdesk.schema import upgrade_schema

    with app.app_context():
        if fresh:
            db.drop_all()
            with db.engine.begin() as conn:
                conn.execute(text("DROP TABLE IF EXISTS alembic_version"))
        upgrade_schema()
        db.engine.dispose()


def ensure_dataset(
    scale: Scale,
    database_url: str | None = None,
    *,
    data_dir: Path = DATA_DIR,
    force: bool = False,
    progress: bool = True,
    echo: Callable[[str], None] = click.echo,
) -> dict:
    """Generate unless a stamp says this database already holds this scale. Returns the stamp."""
    database_url = database_url or default_database_url(data_dir)
    data_dir.mkdir(parents=True, exist_ok=True)
    wanted = {"version": GENERATOR_VERSION, "scale": asdict(scale)}
    stamp = read_stamp(database_url, data_dir)
    if stamp and not force and {k: stamp.get(k) for k in wanted} == wanted:
        echo(f"Dataset already generated ({stamp['generated_at']}); reusing it.")
        return _catch_up(stamp, database_url, data_dir)
    sqlite_file = database_url.removeprefix("sqlite:///") if database_url.startswith("sqlite:///") else None
    if sqlite_file:
        for suffix in ("", "-wal", "-shm"):
            Path(sqlite_file + suffix).unlink(missing_ok=True)
    elif stamp is None and not force:
        app = bench_app(database_url, data_dir)
        with app.app_context():
            from helpdesk.extensions import db

            has_tables = bool(db.inspect(db.engine).get_table_names())
            db.engine.dispose()
        if has_tables:
            raise click.ClickException(
                f"{database_url} already has tables and no benchmark stamp; "
                "use an empty database or pass --force to drop and regenerate it."
            )
    stamp_path(database_url, data_dir).unlink(missing_ok=True)
    app = bench_app(database_url, data_dir)
    prepare_database(app, database_url, fresh=sqlite_file is None)
    echo(f"Generating {scale.tickets:,} tickets, {scale.messages:,} messages into {_safe_url(database_url)}")
    with app.app_context():
        from helpdesk.extensions import db

        summary = generate(scale, data_dir=data_dir, progress=progress)
        db.engine.dispose()
    stamp = {
        **wanted,
        "database_url": _safe_url(database_url),
        "generated_at": datetime.now(UTC).isoformat(timespec="seconds"),
        **summary,
    }
    stamp_path(database_url, data_dir).write_text(json.dumps(stamp, indent=2))
    echo(
        f"Done in {summary['total_seconds']} s (SLA recompute of open tickets: "
        f"{summary['sla_recompute_open_seconds']} s)."
    )
    return stamp


def _catch_up(stamp: dict, database_url: str, data_dir: Path) -> dict:
    """A reused dataset follows the code: new migrations are applied, and the search index is built
    once the app has a `reindex` command (a dataset generated before that feature merged has none)."""
    app = bench_app(database_url, data_dir)
    prepare_database(app, database_url, fresh=False)
    if "reindex_seconds" not in stamp:
        with app.app_context():
            from helpdesk.extensions import db

            result = _reindex_if_available()
            db.engine.dispose()
        if "reindex_seconds" in result:
            stamp = {**stamp, **result}
            stamp.pop("reindex", None)
            stamp_path(database_url, data_dir).write_text(json.dumps(stamp, indent=2))
    return stamp


def _safe_url(url: str) -> str:
    """The URL without a password, for logs and stamps."""
    from sqlalchemy.engine import make_url

    return make_url(url).render_as_string(hide_password=True)


@click.command()
@click.option("--database-url", default=None, help="SQLAlchemy URL (default: SQLite file in bench/data/).")
@click.option("--tickets", default=Scale.tickets, show_default=True)
@click.option("--customers", default=Scale.customers, show_default=True)
@click.option("--messages", default=Scale.messages, show_default=True)
@click.option("--orders", default=Scale.orders, show_default=True)
@click.option("--articles", default=Scale.articles, show_default=True)
@click.option("--emails", default=Scale.emails, show_default=True, help="`.eml` files for the ingest run.")
@click.option("--seed", default=Scale.seed, show_default=True)
@click.option("--force", is_flag=True, help="Regenerate even when the stamp matches (drops the data).")
def main(database_url, tickets, customers, messages, orders, articles, emails, seed, force) -> None:
    """Generate the benchmark dataset (once; later runs reuse it)."""
    scale = replace(
        Scale(),
        tickets=tickets,
        customers=customers,
        messages=messages,
        orders=orders,
        articles=articles,
        emails=emails,
        seed=seed,
    )
    ensure_dataset(scale, database_url, force=force)


if __name__ == "__main__":
    sys.exit(main())
