"""Export everything about one customer; erase a customer so nothing personal remains, tickets kept."""

from __future__ import annotations

import hashlib
import json
from datetime import date, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from helpdesk import search
from helpdesk.api.models import WebhookDelivery, WebhookEndpoint
from helpdesk.audit import service as audit
from helpdesk.audit.models import AuditEvent
from helpdesk.auth.models import EmailToken, Role, TokenPurpose
from helpdesk.blobs import blob_store
from helpdesk.customers.models import Customer, CustomerEmail, Order
from helpdesk.dbtypes import utcnow
from helpdesk.extensions import db
from helpdesk.kb.models import Article, ArticleFeedback, ArticleView, Deflection, SearchEvent
from helpdesk.mail.models import InboundMessage, OutboundEmail
from helpdesk.reports import service as reports
from helpdesk.tickets import service
from helpdesk.tickets.attachments import IncomingFile
from helpdesk.tickets.models import CsatRating, MessageKind, Status, Ticket
from tests.factories import database_tables, make_customer, make_staff, make_ticket

NAME = "Zubaida Qahtani"
EMAIL = "zubaida.q@example.test"
OTHER_EMAIL = "zq.shop@mail.example.test"
PHONE = "+966501234567"
WROTE = "my kettle exploded in the kitchen"
SUBJECT = "Kettle order 7788 for Zubaida"
SECRET_FILE = b"scan of my national id card"
SHARED_FILE = b"the public returns form pdf"
STAFF_FILE = b"our returns label"
PERSONAL = [
    NAME,
    "zubaida",
    "qahtani",
    EMAIL,
    OTHER_EMAIL,
    PHONE,
    WROTE,
    SUBJECT,
    "TRK-99-ZQ",
]


@pytest.fixture
def person(app):
    """A customer with something in every place personal data can end up."""
    customer = make_customer(
        EMAIL, name=NAME, phone=PHONE, notes="VIP, calls often", addresses=[{"city": "Riyadh"}]
    )
    customer.emails.append(CustomerEmail(email=OTHER_EMAIL))
    order = Order(
        customer=customer,
        external_id="x1",
        number="7788",
        status="shipped",
        total=Decimal("99.50"),
        tracking_number="TRK-99-ZQ",
    )
    db.session.add(order)
    db.session.commit()
    agent = make_staff()
    ticket = make_ticket(
        customer=customer,
        subject=SUBJECT,
        body=f"{WROTE}. Call me on {PHONE}",
        order=order,
        attachments=[IncomingFile("id.jpg", "image/jpeg", SECRET_FILE)],
    )
    service.add_message(
        ticket,
        author=agent,
        body=f"Hello {NAME}, sorry to hear that.",
        attachments=[IncomingFile("label.pdf", "application/pdf", STAFF_FILE)],
    )
    service.add_message(
        ticket, author=agent, body=f"Customer also writes from {OTHER_EMAIL}", kind=MessageKind.NOTE
    )
    reply = service.add_message(
        ticket,
        author=customer,
        body="Here is the form",
        attachments=[IncomingFile("form.pdf", "application/pdf", SHARED_FILE)],
    )
    other = make_ticket(
        subject="Someone else", attachments=[IncomingFile("form.pdf", "application/pdf", SHARED_FILE)]
    )
    service.change_status(ticket, Status.SOLVED, actor=agent)
    article = Article(slug="returns", locale="en", title="Returns", body_md="How to return")
    db.session.add(article)
    db.session.flush()
    db.session.add_all(
        [
            CsatRating(
                ticket_id=ticket.id,
                customer_id=customer.id,
                agent_id=agent.id,
                score=2,
                comment=f"{NAME} is not happy",
            ),
            ArticleFeedback(
                article_id=article.id,
                helpful=False,
                comment="useless for my kettle exploded in the kitchen",
                customer_id=customer.id,
            ),
            Deflection(article_id=article.id, customer_id=customer.id, query="kettle zubaida"),
            SearchEvent(query="zubaida kettle", customer_id=customer.id, result_count=1),
            ArticleView(article_id=article.id, customer_id=customer.id),
            EmailToken(
                token_hash="h" * 64,
                purpose=TokenPurpose.SIGN_IN,
                email=EMAIL,
                payload={"subject": WROTE},
                expires_at=utcnow() + timedelta(hours=1),
            ),
            InboundMessage(
                dedupe_key="k1",
                raw=f"From: {NAME} <{EMAIL}>\r\nSubject: {SUBJECT}\r\n\r\n{WROTE}".encode(),
                size=80,
                sender=f"{NAME} <{EMAIL}>",
                subject=SUBJECT,
                ticket_id=ticket.id,
                ticket_message_id=reply.id,
            ),
        ]
    )
    endpoint = WebhookEndpoint(url="https://hooks.example.test/x", secret="s", events=["ticket.created"])
    db.session.add(endpoint)
    db.session.flush()
    db.session.add(
        WebhookDelivery(
            uuid="u-1",
            endpoint_id=endpoint.id,
            event="ticket.created",
            payload={
                "ticket": {
                    "number": ticket.number,
                    "subject": SUBJECT,
                    "customer": {"name": NAME, "email": EMAIL},
                }
            },
        )
    )
    audit.record("auth.sign_in_failed", actor_label=EMAIL, ip="10.0.0.9", kind="customer")
    audit.record("customer.updated", actor=agent, target=f"customer:{customer.id}", email=EMAIL, name=NAME)
    db.session.commit()
    return customer, ticket, other


def _all_rows_text() -> str:
    """Every value of every row of every table, as one lower-cased text (bytes read as Latin-1)."""
    parts = []
    for table in database_tables():
        for row in db.session.execute(select(table)):
            for value in row:
                parts.append(
                    value.decode("latin-1")
                    if isinstance(value, bytes)
                    else json.dumps(value, ensure_ascii=False, default=str)
                )
    return "\n".join(parts).lower()


def test_export_holds_everything_about_the_customer(app, person, tmp_path):
    customer, ticket, _other = person
    out = tmp_path / "export.json"
    result = app.test_cli_runner().invoke(args=["customer", "export", EMAIL.upper(), "-o", str(out)])
    assert result.exit_code == 0, result.output
    data = json.loads(out.read_text())
    assert data["profile"]["name"] == NAME and data["profile"]["phone"] == PHONE
    assert data["profile"]["notes"] == "VIP, calls often" and data["profile"]["addresses"] == [
        {"city": "Riyadh"}
    ]
    assert sorted(e["email"] for e in data["emails"]) == sorted([EMAIL, OTHER_EMAIL])
    assert [t["number"] for t in data["tickets"]] == [ticket.number]  # not the other customer's
    messages = data["tickets"][0]["messages"]
    texts = [m["text"] for m in messages]
    assert f"{WROTE}. Call me on {PHONE}" in texts and f"Hello {NAME}, sorry to hear that." in texts
    files = {a["filename"]: a for m in messages for a in m["attachments"]}
    assert files["id.jpg"]["size"] == len(SECRET_FILE) and len(files["id.jpg"]["sha256"]) == 64
    assert set(files) == {"id.jpg", "label.pdf", "form.pdf"}
    assert data["orders"][0]["number"] == "7788" and data["orders"][0]["tracking_number"] == "TRK-99-ZQ"
    assert data["csat"] == [
        {
            "ticket": ticket.number,
            "score": 2,
            "comment": f"{NAME} is not happy",
            "created_at": data["csat"][0]["created_at"],
        }
    ]
    assert data["kb_feedback"][0]["comment"].startswith("useless")
    assert data["kb_deflections"][0]["query"] == "kettle zubaida"
    assert data["kb_searches"][0]["query"] == "zubaida kettle"
    assert data["emails_received"][0]["subject"] == SUBJECT
    assert {m["to"] for m in data["emails_sent"]} == {EMAIL}  # the agent's reply went out by email
    actions = {e["action"] for e in data["audit_events"]}
    assert {"auth.sign_in_failed", "customer.updated"} <= actions
    assert (
        db.session.scalars(select(AuditEvent).where(AuditEvent.action == "customer.exported")).one().target
        == f"customer:{customer.id}"
    )
    by_id = app.test_cli_runner().invoke(args=["customer", "export", str(customer.id)])
    assert json.loads(by_id.stdout)["profile"]["id"] == customer.id


def _report_figures() -> tuple:
    f = reports.ReportFilters(
        date.today() - timedelta(days=2), date.today() + timedelta(days=1), ZoneInfo("Asia/Riyadh")
    )
    return reports.volume_by_channel(f).rows, reports.csat_average(f), reports.deflection(f).rows


def test_erase_leaves_no_personal_data_and_keeps_the_tickets(app, person, client, login):
    customer, ticket, _other = person
    login(customer)
    assert client.get("/portal/cases").status_code == 200
    search.apply_pending_jobs()
    assert [h.fields["number"] for h in search.query("tickets", "Zubaida")] == [ticket.number]
    figures = _report_figures()
    ticket_count = db.session.query(Ticket).count()
    secret_file, shared_file, staff_file = (
        hashlib.sha256(b).hexdigest() for b in (SECRET_FILE, SHARED_FILE, STAFF_FILE)
    )
    assert blob_store().exists(secret_file)

    before = _all_rows_text()
    assert [needle for needle in PERSONAL if needle.lower() not in before] == []  # the search can find them
    result = app.test_cli_runner().invoke(args=["customer", "erase", EMAIL])
    assert result.exit_code != 0 and "--yes" in result.output  # nothing without confirmation
    assert db.session.get(Customer, customer.id).name == NAME
    result = app.test_cli_runner().invoke(args=["customer", "erase", EMAIL, "--yes"])
    assert result.exit_code == 0, result.output

    db.session.expire_all()
    text = _all_rows_text()
    left = [needle for needle in PERSONAL if needle.lower() in text]
    assert left == []
    erased = db.session.get(Customer, customer.id)
    assert erased.name == f"Erased customer #{customer.id}" and erased.emails == [] and not erased.is_active
    assert db.session.query(Ticket).count() == ticket_count
    assert _report_figures() == figures  # tickets, ratings and deflections still count
    assert db.session.scalars(select(CsatRating)).one().score == 2
    assert not blob_store().exists(secret_file)  # their file, used by nobody else
    assert blob_store().exists(shared_file) and blob_store().exists(
        staff_file
    )  # another customer's message uses it; the team's file
    assert db.session.scalars(select(OutboundEmail)).all() == []
    assert db.session.scalars(select(InboundMessage)).one().raw == b""
    event = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "customer.erased")).one()
    assert event.target == f"customer:{customer.id}" and event.details["attachments_deleted"] == 2
    assert event.details["files_deleted"] == 1

    # Signed out: the old session no longer finds a user, and the addresses no longer sign in.
    response = client.get("/portal/cases")
    assert response.status_code == 302 and response.headers["Location"].startswith("/login")
    # The search index was refreshed: the name is gone, the ticket is still found by the team's words.
    search.apply_pending_jobs()
    assert list(search.query("tickets", "Zubaida")) == []
    assert [h.fields["number"] for h in search.query("tickets", "sorry to hear")] == [ticket.number]
    # The ticket page still renders for staff.
    client.submit("/logout")
    login(make_staff())
    page = client.get(f"/agent/tickets/{ticket.number}")
    assert page.status_code == 200
    assert f"Erased customer #{customer.id}" in page.get_data(as_text=True)


def test_erasing_twice_is_harmless(app, person):
    customer, _ticket, _other = person
    runner = app.test_cli_runner()
    assert runner.invoke(args=["customer", "erase", str(customer.id), "--yes"]).exit_code == 0
    again = runner.invoke(args=["customer", "erase", str(customer.id), "--yes"])
    assert again.exit_code == 0, again.output


def test_unknown_customer_is_a_clear_cli_error(app):
    for command in (["customer", "export", "nobody@example.test"], ["customer", "erase", "999", "--yes"]):
        result = app.test_cli_runner().invoke(args=command)
        assert result.exit_code != 0 and "No customer" in result.output


def test_admin_exports_and_erases_with_a_typed_confirmation(app, person, client, login):
    customer, _ticket, _other = person
    admin = make_staff(Role.ADMIN)
    login(admin)
    listing = client.get("/admin/customers?q=zubaida").get_data(as_text=True)
    assert NAME in listing and "Customer" not in listing.split(NAME)[0].split("<tbody>")[-1]
    page = client.get(f"/admin/customers/{customer.id}")
    assert page.status_code == 200 and EMAIL in page.get_data(as_text=True)

    download = client.get(f"/admin/customers/{customer.id}/export.json")
    assert download.status_code == 200
    assert download.headers["Content-Disposition"] == f'attachment; filename="customer-{customer.id}.json"'
    assert download.get_json()["profile"]["name"] == NAME
    exported = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "customer.exported")).one()
    assert exported.actor == admin.get_id()

    wrong = client.submit(f"/admin/customers/{customer.id}/erase", {"confirm": "zubaida"})
    assert wrong.status_code == 400 and "لم يُمحَ شيء" in wrong.get_data(as_text=True)  # "nothing was erased"
    db.session.expire_all()
    assert db.session.get(Customer, customer.id).name == NAME

    done = client.submit(f"/admin/customers/{customer.id}/erase", {"confirm": EMAIL.upper()})
    assert done.status_code == 303
    db.session.expire_all()
    assert db.session.get(Customer, customer.id).emails == []
    event = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "customer.erased")).one()
    assert event.actor == admin.get_id()
    after = client.get(f"/admin/customers/{customer.id}").get_data(as_text=True)
    assert "مُحيت البيانات الشخصية لهذا العميل" in after and NAME not in after


@pytest.mark.parametrize("role", [Role.AGENT, Role.SUPERVISOR])
def test_only_admins_export_or_erase(app, person, client, login, role):
    customer, _ticket, _other = person
    login(make_staff(role))
    assert client.get(f"/admin/customers/{customer.id}/export.json").status_code == 403
    assert client.submit(f"/admin/customers/{customer.id}/erase", {"confirm": EMAIL}).status_code == 403
    db.session.expire_all()
    assert db.session.get(Customer, customer.id).name == NAME
    assert (
        db.session.scalars(
            select(AuditEvent).where(AuditEvent.action.in_(["customer.exported", "customer.erased"]))
        ).all()
        == []
    )


def test_unknown_customer_page_is_404(client, login):
    login(make_staff(Role.ADMIN))
    assert client.get("/admin/customers/999").status_code == 404
    assert client.submit("/admin/customers/999/erase", {"confirm": "x"}).status_code == 404
