"""Realistic bilingual demo data: queues, staff, customers with orders, tickets over 90 days, KB articles.

Everything goes through the same services the app uses, so the data obeys the same rules
(ticket numbers, first-response times, status timestamps). Fixed sign-ins for people trying it.
"""

from __future__ import annotations

import json
import random
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

from sqlalchemy import func, inspect, select

from helpdesk.auth.models import Role, StaffUser
from helpdesk.auth.passwords import hash_password
from helpdesk.customers.models import Customer, CustomerEmail, Order, Tier
from helpdesk.dbtypes import utcnow
from helpdesk.demo import companies as demo_companies
from helpdesk.demo import fields as demo_fields
from helpdesk.demo.shops import create_shops
from helpdesk.demo.whatsapp import create_whatsapp_demo
from helpdesk.extensions import db
from helpdesk.kb.models import Article, ArticleStatus, Category
from helpdesk.tickets import service
from helpdesk.tickets.models import Channel, CsatRating, Macro, MessageKind, Priority, Queue, Status, Ticket

CONTENT = Path(__file__).parent / "content"
DEMO_PASSWORD = "demo1234"
AGENT_COUNT = 6
CUSTOMER_COUNT = 300
DAYS = 90

QUEUES = [
    ("orders", "Orders & delivery", "الطلبات والتوصيل", "orders@demo.test"),
    ("billing", "Payments & refunds", "المدفوعات والاسترداد", "billing@demo.test"),
    ("returns", "Returns & warranty", "الاسترجاع والضمان", "returns@demo.test"),
]
# Share of tickets in each final status; every status appears.
STATUS_WEIGHTS = {
    Status.NEW: 8,
    Status.OPEN: 14,
    Status.PENDING: 8,
    Status.ON_HOLD: 4,
    Status.SOLVED: 26,
    Status.CLOSED: 40,
}
CHANNEL_WEIGHTS = {Channel.EMAIL: 45, Channel.PORTAL: 40, Channel.AGENT: 10, Channel.API: 5}
ORDER_STATUSES = [
    "processing",
    "shipped",
    "out_for_delivery",
    "delivered",
    "delivered",
    "delivered",
    "cancelled",
]


class DemoAlreadyLoaded(Exception):
    pass


@dataclass
class _Content:
    categories: list[dict[str, Any]]
    articles: list[dict[str, Any]]
    scenarios: list[dict[str, Any]]
    internal_notes: dict[str, list[str]]
    csat_comments: dict[str, list[str]]
    people: dict[str, Any]


def _read_content() -> _Content:
    tickets = json.loads((CONTENT / "tickets.json").read_text(encoding="utf-8"))
    return _Content(
        categories=json.loads((CONTENT / "categories.json").read_text(encoding="utf-8")),
        articles=[
            json.loads(line)
            for line in (CONTENT / "kb_articles.jsonl").read_text(encoding="utf-8").splitlines()
            if line.strip()
        ],
        scenarios=tickets["scenarios"],
        internal_notes=tickets["internal_notes"],
        csat_comments=tickets["csat_comments"],
        people=json.loads((CONTENT / "people.json").read_text(encoding="utf-8")),
    )


def demo_logins() -> list[tuple[str, str]]:
    """The fixed demo sign-ins, if the demo data is loaded."""
    if db.session.scalar(select(StaffUser.id).where(StaffUser.email == "admin@demo.test")) is None:
        return []
    logins = [("admin", "admin@demo.test"), ("supervisor", "supervisor@demo.test")]
    logins += [(f"agent {i}", f"agent{i}@demo.test") for i in range(1, AGENT_COUNT + 1)]
    logins += [("customer", "customer1@demo.test … customer300@demo.test")]
    return logins


def load_demo(
    *, seed: int = 42, ticket_count: int = 2000, progress: Callable | None = None, now: datetime | None = None
) -> dict[str, int]:
    if db.session.scalar(select(func.count(Ticket.id))) or db.session.scalar(
        select(func.count(StaffUser.id))
    ):
        raise DemoAlreadyLoaded("The database already has data; demo data is only loaded into an empty one.")
    rng = random.Random(seed)
    now = now or utcnow()
    content = _read_content()
    password_hash = hash_password(DEMO_PASSWORD)  # one slow hash, shared by every demo account

    staff = _create_staff(content, password_hash)
    queues = _create_queues(staff)
    customers = _create_customers(rng, content, password_hash, now)
    orders = _create_orders(rng, content, customers, now)
    shop_orders = create_shops(seed, customers, content.people, now)
    articles = _create_kb(content)
    macros = _create_macros(staff)
    db.session.commit()

    admin = next(s for s in staff if s.role == Role.ADMIN)
    request_types = demo_fields.create_fields_and_types(admin)
    companies = demo_companies.create_companies(admin, customers)
    field_uses = demo_fields.create_field_uses(next((s for s in staff if s.role == Role.SUPERVISOR), None))
    db.session.commit()

    agents = [s for s in staff if s.role == Role.AGENT]
    made: list[Ticket] = []
    track = progress or _no_progress
    with track(range(ticket_count), label="Demo tickets") as steps:
        for i in steps:
            ticket = _create_ticket(rng, content, i, ticket_count, customers, orders, queues, agents, now)
            made.append(ticket)
            if i % 200 == 199:
                db.session.commit()
    db.session.commit()
    whatsapp_tickets = create_whatsapp_demo(queues[0], customers, agents, now)
    db.session.commit()
    # Identities, not attributes: reading ``id`` of 2,000 expired tickets would load each one.
    scenario_of = {inspect(t).identity[0]: t.__dict__["demo_scenario"] for t in made}
    demo_fields.fill_demo_tickets(rng, scenario_of, request_types)
    db.session.commit()
    from helpdesk.sla.service import ensure_default_setup, recompute_all_open

    ensure_default_setup()
    db.session.commit()
    recompute_all_open(include_done=True)
    from helpdesk.automations.defaults import install_default_rules

    rules = len(install_default_rules())  # after the tickets: the demo's history is not re-routed
    db.session.commit()
    return {
        "queues": len(queues),
        "staff": len(staff),
        "customers": len(customers),
        "orders": len(orders),
        "Salla and Zid orders": shop_orders,
        "tickets": ticket_count,
        "WhatsApp tickets": whatsapp_tickets,
        "articles": articles,
        "macros": macros + field_uses["macros"],
        "saved views": field_uses["saved views"],
        "request types": len(request_types),
        "companies": companies,
        "automation rules": rules,
    }


class _no_progress:
    def __init__(self, iterable, label: str = "") -> None:
        self.iterable = iterable

    def __enter__(self):
        return self.iterable

    def __exit__(self, *exc) -> None:
        return None


def _create_staff(content: _Content, password_hash: str) -> list[StaffUser]:
    names = content.people["staff"]
    people = [("admin@demo.test", Role.ADMIN), ("supervisor@demo.test", Role.SUPERVISOR)]
    people += [(f"agent{i}@demo.test", Role.AGENT) for i in range(1, AGENT_COUNT + 1)]
    staff = []
    for (email, role), name in zip(people, names, strict=False):
        language = "ar" if len(staff) % 3 else "en"
        user = StaffUser(
            email=email,
            name=name["name_ar"] if language == "ar" else name["name_en"],
            role=role,
            password_hash=password_hash,
            language=language,
        )
        db.session.add(user)
        staff.append(user)
    return staff


def _create_queues(staff: list[StaffUser]) -> list[Queue]:
    supervisor = next(s for s in staff if s.role == Role.SUPERVISOR)
    agents = [s for s in staff if s.role == Role.AGENT]
    queues = []
    for index, (slug, name_en, name_ar, address) in enumerate(QUEUES):
        queue = Queue(
            slug=slug, name_en=name_en, name_ar=name_ar, email_address=address, supervisor=supervisor
        )
        # Every agent works two of the three queues.
        queue.members = [a for n, a in enumerate(agents) if n % 3 != index]
        db.session.add(queue)
        queues.append(queue)
    return queues


def _create_customers(
    rng: random.Random, content: _Content, password_hash: str, now: datetime
) -> list[Customer]:
    people = content.people
    customers = []
    for n in range(1, CUSTOMER_COUNT + 1):
        language = "ar" if rng.random() < 0.7 else "en"
        names = people["customers"][language]
        city = rng.choice(people["cities"])
        street = rng.choice(people["streets"][language])
        customer = Customer(
            name=f"{rng.choice(names['first'])} {rng.choice(names['last'])}",
            phone=f"+9665{rng.randrange(10_000_000, 99_999_999)}",
            language=language,
            tier=rng.choices(list(Tier), weights=[70, 18, 9, 3])[0],
            addresses=[
                {
                    "label": "home",
                    "street": f"{street} {rng.randrange(1, 400)}",
                    "city": city[language],
                    "country": city["country"],
                    "postcode": f"{city['postcode_prefix']}{rng.randrange(100, 999)}",
                }
            ],
            password_hash=password_hash,
            created_at=now - timedelta(days=rng.randrange(DAYS, 3 * 365)),
        )
        customer.emails.append(
            CustomerEmail(email=f"customer{n}@demo.test", is_primary=True, verified_at=now)
        )
        if n % 10 == 0:
            customer.emails.append(CustomerEmail(email=f"customer{n}.work@demo.test"))
        db.session.add(customer)
        customers.append(customer)
    return customers


def _create_orders(
    rng: random.Random, content: _Content, customers: list[Customer], now: datetime
) -> list[Order]:
    products = content.people["products"]
    carriers = content.people["carriers"]
    orders = []
    number = 100_000
    for customer in customers:
        for _ in range(rng.choice([1, 1, 2, 3, 4, 6])):
            number += rng.randrange(1, 40)
            items = []
            for product in rng.sample(products, rng.choice([1, 1, 2, 3])):
                items.append(
                    {
                        "sku": product["sku"],
                        "name_en": product["name_en"],
                        "name_ar": product["name_ar"],
                        "quantity": rng.choice([1, 1, 1, 2]),
                        "price": product["price"],
                    }
                )
            status = rng.choice(ORDER_STATUSES)
            shipped = status in {"shipped", "out_for_delivery", "delivered"}
            order = Order(
                customer=customer,
                source="demo-shop",
                external_id=str(number),
                number=f"SO-{number}",
                status=status,
                total=Decimal(str(round(sum(i["price"] * i["quantity"] for i in items), 2))),
                currency="SAR",
                items=items,
                carrier=rng.choice(carriers) if shipped else None,
                tracking_number=f"{rng.randrange(10**11, 10**12)}" if shipped else None,
                ordered_at=now - timedelta(days=rng.randrange(1, 200), minutes=rng.randrange(0, 1440)),
            )
            db.session.add(order)
            orders.append(order)
    return orders


def _create_kb(content: _Content) -> int:
    categories = {}
    for position, data in enumerate(content.categories):
        category = Category(position=position, **data)
        db.session.add(category)
        categories[data["slug"]] = category
    by_slug: dict[str, Article] = {}
    for data in content.articles:
        article = Article(
            slug=data["slug"],
            locale=data["locale"],
            title=data["title"],
            body_md=data["body"],
            status=ArticleStatus(data["status"]),
            category=categories.get(data["category"]),
            tags=data.get("tags", []),
            phrasings=data.get("phrasings", []),
            translation_of=by_slug.get(data["translation_of"]) if data.get("translation_of") else None,
            published_at=utcnow() if data["status"] == "published" else None,
        )
        db.session.add(article)
        by_slug[article.slug] = article
    return len(by_slug)


def _create_ticket(
    rng: random.Random,
    content: _Content,
    index: int,
    total: int,
    customers: list[Customer],
    orders: list[Order],
    queues: list[Queue],
    agents: list[StaffUser],
    now: datetime,
) -> Ticket:
    customer = rng.choice(customers)
    language = customer.language or "ar"
    scenario = rng.choice(content.scenarios)
    text = scenario[language]
    own_orders = [o for o in customer.orders]
    order = rng.choice(own_orders) if own_orders else None
    fill = {"customer_name": customer.name.split()[0], "order_number": order.number if order else "—"}
    # Spread over the last 90 days, newer tickets more likely still open.
    age = timedelta(days=DAYS * (1 - index / total), minutes=rng.randrange(0, 600))
    created = now - age
    status = _status_for(rng, age)
    queue = next((q for q in queues if q.slug == scenario["queue"]), queues[0])
    agent = rng.choice([a for a in agents if a in queue.members] or agents)
    channel = rng.choices(list(CHANNEL_WEIGHTS), weights=list(CHANNEL_WEIGHTS.values()))[0]

    ticket = service.open_ticket(
        customer=customer,
        subject=text["subject"].format(**fill),
        body=text["body"].format(**fill),
        channel=channel,
        queue=queue,
        priority=Priority(scenario.get("priority", "normal")),
        order=order,
        author=agent if channel == Channel.AGENT else customer,
        created_at=created,
    )
    ticket.demo_scenario = scenario["key"]  # not a column: which request type the demo gives it
    if status == Status.NEW:
        return ticket
    ticket.assignee = agent
    step = created
    if rng.random() < 0.3:
        step += timedelta(minutes=rng.randrange(5, 120))
        service.add_message(
            ticket,
            author=agent,
            body=rng.choice(content.internal_notes[language]),
            kind=MessageKind.NOTE,
            created_at=step,
        )
    step += timedelta(minutes=rng.randrange(10, 60 * 30))
    service.add_message(
        ticket,
        author=agent,
        body=text["agent_reply"].format(**fill),
        created_at=min(step, now),
        notify=False,
    )
    if status in (Status.SOLVED, Status.CLOSED, Status.OPEN) and rng.random() < 0.5:
        step += timedelta(minutes=rng.randrange(30, 60 * 24))
        service.add_message(
            ticket,
            author=customer,
            body=text["customer_followup"].format(**fill),
            created_at=min(step, now),
        )
    if status != Status.OPEN:
        service.change_status(ticket, status, actor=agent)
    step = min(step + timedelta(minutes=rng.randrange(20, 60 * 48)), now)
    ticket.updated_at = step
    if status in (Status.SOLVED, Status.CLOSED):
        ticket.solved_at = step
        if status == Status.CLOSED:
            ticket.closed_at = min(step + timedelta(days=4), now)
        if rng.random() < 0.45:
            score = rng.choices([1, 2, 3, 4, 5], weights=[4, 5, 10, 30, 51])[0]
            db.session.add(
                CsatRating(
                    ticket=ticket,
                    customer_id=customer.id,
                    agent_id=agent.id,
                    score=score,
                    comment=rng.choice(content.csat_comments[language]) if rng.random() < 0.4 else None,
                    created_at=min(step + timedelta(hours=rng.randrange(1, 30)), now),
                )
            )
    for message in ticket.messages:
        if message.kind == MessageKind.EVENT:
            message.created_at = step
    return ticket


def _status_for(rng: random.Random, age: timedelta) -> Status:
    """Old tickets are mostly solved or closed; recent ones are often still being worked."""
    weights = dict(STATUS_WEIGHTS)
    if age > timedelta(days=14):
        weights.update({Status.NEW: 0.3, Status.OPEN: 1, Status.PENDING: 1, Status.ON_HOLD: 0.5})
    else:
        weights.update({Status.CLOSED: 2})
    return rng.choices(list(weights), weights=list(weights.values()))[0]


# Canned replies agents apply from the ticket page; {{ placeholders }} are filled per ticket.
DEMO_MACROS = [
    (
        "ar",
        "تم شحن الطلب",
        "مرحبًا {{ customer_first_name }}،\n\nحالة طلبك {{ order_number }} الآن: {{ order_status }}. "
        "شركة الشحن: {{ carrier }}، رقم التتبع: {{ tracking_number }}.\n\nمع التحية،\n{{ agent_name }}",
        Status.PENDING,
        None,
        ["shipping"],
    ),
    (
        "ar",
        "طلب صورة المنتج",
        "مرحبًا {{ customer_first_name }}،\n\nنأسف لما حدث. نرجو إرسال صورة للمنتج ورقم الطلب "
        "{{ order_number }} لنكمل طلب الاسترجاع.\n\n{{ agent_name }}",
        Status.PENDING,
        None,
        ["returns"],
    ),
    (
        "ar",
        "تم الحل",
        "مرحبًا {{ customer_first_name }}، يسعدنا أن المشكلة حُلّت، وأصبح طلب الدعم {{ ticket_number }} محلولًا. "
        "وإن احتجت إلى أي مساعدة أخرى، فيكفي أن ترد على هذه الرسالة.\n\n{{ agent_name }}",
        Status.SOLVED,
        None,
        [],
    ),
    (
        "ar",
        "استرداد الخصم المكرر",
        "مرحبًا {{ customer_first_name }}،\n\nراجعنا مدفوعات الطلب {{ order_number }} "
        "ووجدنا أن المبلغ خُصم مرتين. ألغينا العملية المكررة، ويعود المبلغ إلى بطاقتك "
        "خلال 5 إلى 10 أيام عمل بحسب البنك.\n\n{{ agent_name }}",
        Status.PENDING,
        None,
        ["payment", "refund"],
    ),
    (
        "en",
        "Duplicate charge refunded",
        "Hi {{ customer_first_name }},\n\nWe checked the payments for order {{ order_number }}: you were "
        "charged twice. We have reversed the second charge; your bank shows the money back on your card "
        "within 5 to 10 working days.\n\n{{ agent_name }}",
        Status.PENDING,
        None,
        ["payment", "refund"],
    ),
    (
        "en",
        "Order shipped",
        "Hi {{ customer_first_name }},\n\nYour order {{ order_number }} is now {{ order_status }}. "
        "Carrier: {{ carrier }}, tracking number: {{ tracking_number }}.\n\nBest regards,\n{{ agent_name }}",
        Status.PENDING,
        None,
        ["shipping"],
    ),
    (
        "en",
        "Urgent: payment failed",
        "Hi {{ customer_first_name }},\n\nWe are looking into the payment for order {{ order_number }} "
        "right away and will write again within the hour.\n\n{{ agent_name }}",
        Status.OPEN,
        Priority.URGENT,
        ["payment"],
    ),
    (
        "en",
        "Solved",
        "Hi {{ customer_first_name }}, glad we could help. Ticket {{ ticket_number }} is solved; "
        "just reply if anything else comes up.\n\n{{ agent_name }}",
        Status.SOLVED,
        None,
        [],
    ),
]


def _create_macros(staff: list[StaffUser]) -> int:
    author = next((s for s in staff if s.role == Role.SUPERVISOR), None)
    db.session.flush()
    for locale, name, body, status, priority, tags in DEMO_MACROS:
        db.session.add(
            Macro(
                name=name,
                locale=locale,
                body=body,
                set_status=status,
                set_priority=priority,
                add_tags=tags,
                created_by_id=author.id if author else None,
            )
        )
    return len(DEMO_MACROS)
