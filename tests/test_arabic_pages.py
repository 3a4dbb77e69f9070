"""Walks the main pages in Arabic and fails on English left from our catalog, on two digit systems in
one element and on ISO or UTC timestamps (what a reader on a Saudi support floor would notice)."""

import re
from html.parser import HTMLParser

from babel.messages.pofile import read_po

from helpdesk.auth.models import Role
from helpdesk.extensions import db
from helpdesk.tickets import service
from helpdesk.tickets.models import Message, MessageKind, Status
from tests.factories import PASSWORD, make_customer, make_order, make_queue, make_staff, make_ticket
from tests.kb.test_kb_pages import add
from tests.test_i18n import ROOT

LATIN_DIGIT, ARABIC_DIGIT = re.compile(r"[0-9]"), re.compile("[\u0660-\u0669\u06f0-\u06f9]")
TIMESTAMP = re.compile(r"\d{4}-\d{2}-\d{2}T\d|\bUTC\b")
SHOWN_ATTRIBUTES = ("placeholder", "title", "aria-label", "alt")


def _english_msgids() -> set[str]:
    """Catalog texts whose Arabic differs: seeing one of them on an Arabic page is a miss."""
    with open(ROOT / "translations/ar/LC_MESSAGES/messages.po", "rb") as f:
        catalog = read_po(f, locale="ar")
    found = set()
    for m in catalog:
        msgid = m.id if isinstance(m.id, str) else m.id[0]
        text = m.string if isinstance(m.string, str) else m.string[-1]
        if msgid and text and text != msgid and "%(" not in msgid and re.search("[A-Za-z]{3}", msgid):
            found.add(msgid.strip())
    return found


class _PageText(HTMLParser):
    """Each element's own text (and the attributes a reader sees), one entry per text run."""

    def __init__(self) -> None:
        super().__init__()
        self.runs: list[str] = []
        self.skipping = 0

    def handle_starttag(self, tag, attrs):
        if tag in ("script", "style", "code", "pre"):
            self.skipping += 1
        for name, value in attrs:
            if name in SHOWN_ATTRIBUTES and value:
                self.runs.append(value.strip())

    def handle_endtag(self, tag):
        if tag in ("script", "style", "code", "pre") and self.skipping:
            self.skipping -= 1

    def handle_data(self, data):
        if not self.skipping and data.strip():
            self.runs.append(" ".join(data.split()))


def problems_on(html: str, english: set[str]) -> list[str]:
    parser = _PageText()
    parser.feed(html)
    found = []
    for run in parser.runs:
        if run in english:
            found.append(f"English: {run!r}")
        if LATIN_DIGIT.search(run) and ARABIC_DIGIT.search(run):
            found.append(f"two digit systems: {run!r}")
        if TIMESTAMP.search(run):
            found.append(f"ISO/UTC time: {run!r}")
    return found


def _demo_data():
    queue = make_queue("orders", name_en="Orders & delivery", name_ar="الطلبات والتوصيل")
    agent = make_staff(name="سارة العلي", email="agent1@demo.test")
    customer = make_customer(
        name="عمر الزهراني",
        addresses=[{"label": "home", "street": "شارع العليا 12", "city": "الرياض", "country": "SA"}],
    )
    order = make_order(customer, total="12875.00", days_ago=2)
    ticket = make_ticket(customer=customer, subject="أين طلبي؟", order=order, queue=queue)
    service.assign(ticket, agent, actor=agent)
    service.change_status(ticket, Status.PENDING, actor=agent)
    db.session.add(
        Message(
            ticket=ticket,
            kind=MessageKind.EVENT,
            event="sla_breached",
            body_text="first_response · due 2026-11-26 08:00 UTC",
        )
    )
    db.session.commit()
    add("kb-ar", "كيف أتتبع طلبي", "تتبع طلبك من صفحة الطلبات.", locale="ar")
    return agent, customer, ticket


def test_main_pages_in_arabic_have_no_english_mixed_digits_or_utc_times(app, client, login):
    agent, customer, ticket = _demo_data()
    english = _english_msgids()
    seen: dict[str, list[str]] = {}

    def walk(browser, *urls):
        for url in urls:
            response = browser.get(url, headers={"Accept-Language": "ar"})
            assert response.status_code == 200, url
            seen[url] = problems_on(response.get_data(as_text=True), english)

    walk(client, "/", "/login", "/kb/kb-ar", "/kb/search?q=طلب")
    portal = app.test_client()
    assert portal.submit("/login", {"email": customer.email, "password": PASSWORD}).status_code == 302
    walk(portal, "/", "/portal/cases", f"/portal/cases/{ticket.number}", "/portal/cases/new")
    login(agent)
    walk(
        client,
        "/agent",
        "/agent?view=pending",
        f"/agent/tickets/{ticket.number}",
        "/agent/search?q=طلب",
    )
    admin = app.test_client()
    boss = make_staff(Role.ADMIN, name="نورة")
    assert admin.submit("/staff/login", {"email": boss.email, "password": PASSWORD}).status_code == 302
    walk(
        admin,
        "/admin",
        "/admin/queues",
        "/admin/customers",
        f"/admin/customers/{customer.id}",
        "/admin/calendars",
        "/admin/sla",
        "/admin/audit",
        "/account/api-tokens",
    )
    supervisor = app.test_client()
    lead = make_staff(Role.SUPERVISOR, name="خالد")
    assert supervisor.submit("/staff/login", {"email": lead.email, "password": PASSWORD}).status_code == 302
    walk(supervisor, "/reports", "/agent/macros", "/agent/kb")
    assert {url: found for url, found in seen.items() if found} == {}
