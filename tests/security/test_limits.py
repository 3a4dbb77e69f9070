"""Limits: request and email sizes, field lengths and page sizes. Breaking one gives a clear 400/413
(a page in the reader's language, JSON for the API, 552 over SMTP) and writes nothing."""

from __future__ import annotations

import io
import smtplib
from datetime import timedelta

import pytest
from sqlalchemy import func, select
from wtforms.validators import Length

from helpdesk.admin.forms import CalendarForm, NewStaffForm, QueueForm
from helpdesk.agents.forms import MacroForm, TicketEditForm
from helpdesk.auth.forms import GuestCaseForm, SignUpForm
from helpdesk.auth.models import Role, StaffUser
from helpdesk.customers.models import Customer
from helpdesk.extensions import db
from helpdesk.kb.forms import ArticleForm
from helpdesk.kb.models import Article
from helpdesk.mail.inbound import ingest, process_stored
from helpdesk.mail.ledger import store_raw
from helpdesk.mail.listener import start_listener
from helpdesk.mail.models import InboundMessage, InboundStatus
from helpdesk.portal.forms import NewCaseForm
from helpdesk.sla.models import BusinessCalendar
from helpdesk.tickets.models import TAG_MAX_CHARS, Macro, Queue, Ticket
from tests.api.api_helpers import ApiClient, api_token
from tests.factories import database_tables, make_customer, make_queue, make_staff, make_ticket
from tests.mail.mailfactory import make_email
from tests.smtp_sink import free_port

ONE_MB = 2**20


def row_counts() -> dict[str, int]:
    """Rows in every table, to show a refused request wrote nothing at all."""
    db.session.commit()
    return {
        table.name: db.session.scalar(select(func.count()).select_from(table)) for table in database_tables()
    }


# --- field lengths: every form limit fits its column ------------------------------------------

FORM_FIELDS_AND_COLUMNS = [
    (NewCaseForm, "subject", Ticket.subject),
    (GuestCaseForm, "subject", Ticket.subject),
    (GuestCaseForm, "name", Customer.name),
    (SignUpForm, "name", Customer.name),
    (NewStaffForm, "name", StaffUser.name),
    (MacroForm, "name", Macro.name),
    (ArticleForm, "title", Article.title),
    (ArticleForm, "slug", Article.slug),
    (QueueForm, "slug", Queue.slug),
    (QueueForm, "name_en", Queue.name_en),
    (CalendarForm, "name", BusinessCalendar.name),
]


def _form_max(form_class, field: str) -> int:
    unbound = getattr(form_class, field)
    limits = [v.max for v in unbound.kwargs.get("validators", []) if isinstance(v, Length) and v.max >= 0]
    assert limits, f"{form_class.__name__}.{field} has no length limit"
    return min(limits)


@pytest.mark.parametrize(("form_class", "field", "column"), FORM_FIELDS_AND_COLUMNS)
def test_each_form_field_limit_fits_its_database_column(form_class, field, column):
    assert _form_max(form_class, field) <= column.type.length, f"{form_class.__name__}.{field}"


def test_a_tag_field_refuses_tags_longer_than_the_tag_column(app):
    for form_class, field in ((TicketEditForm, "tags"), (MacroForm, "add_tags"), (ArticleForm, "tags")):
        assert any(type(v).__name__ == "TagNames" for v in getattr(form_class, field).kwargs["validators"])


@pytest.mark.parametrize(
    ("language", "message"),
    [("en", "Too long: 256 characters, at most 255 allowed."), ("ar", "طويل جدًا: عدد أحرفه 256")],
)
def test_a_too_long_subject_is_a_400_in_the_readers_language_and_writes_nothing(
    client, login, language, message
):
    login(make_customer(language=language))
    before = row_counts()
    response = client.submit("/portal/cases/new", {"subject": "s" * 256, "body": "help"})
    assert response.status_code == 400
    assert message in response.get_data(as_text=True)
    assert row_counts() == before


def test_a_too_long_tag_is_refused_on_the_ticket_the_macro_the_article_and_in_bulk(client, login):
    ticket = make_ticket()
    login(make_staff(Role.SUPERVISOR, language="en"))
    tag = "t" * (TAG_MAX_CHARS + 1)
    before = row_counts()
    edit = client.submit(
        f"/agent/tickets/{ticket.number}/edit",
        {
            "status": "new",
            "priority": "normal",
            "queue": "",
            "assignee": "",
            "tags": f"ok, {tag}",
            "version": 1,
        },
    )
    macro = client.submit(
        "/agent/macros/new", {"name": "M", "locale": "en", "body": "Hi", "add_tags": tag, "is_active": "y"}
    )
    article = client.submit(
        "/agent/kb/new",
        {
            "title": "T",
            "slug": "t",
            "locale": "en",
            "category": "0",
            "tags": tag,
            "body": "b",
            "status": "draft",
        },
    )
    for response in (edit, macro, article):
        assert response.status_code == 400
        assert f"Each tag may have at most {TAG_MAX_CHARS} characters." in response.get_data(as_text=True)
    bulk = client.submit("/agent/bulk", {"action": "tag", "value": tag, "ticket": [str(ticket.id)]})
    assert bulk.status_code == 400 and "at most 60 characters" in bulk.get_data(as_text=True)
    assert row_counts() == before


# --- request size ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("language", "message"), [("en", "the limit is 1 MB"), ("ar", "للحجم الإجمالي 1 ميغابايت")]
)
def test_a_request_over_the_upload_limit_is_a_413_page_naming_the_limit(
    app, client, login, language, message
):
    app.config["MAX_CONTENT_LENGTH"] = ONE_MB
    login(make_customer(language=language))
    before = row_counts()
    response = client.submit(
        "/portal/cases/new",
        {"subject": "Big", "body": "file", "files": [(io.BytesIO(b"x" * (ONE_MB + 1)), "big.bin")]},
        content_type="multipart/form-data",
    )
    assert response.status_code == 413 and response.mimetype == "text/html"
    assert message in response.get_data(as_text=True)
    assert row_counts() == before


def test_an_api_request_over_the_upload_limit_is_a_413_json_error(app, client):
    app.config["MAX_CONTENT_LENGTH"] = ONE_MB
    api = ApiClient(client, api_token()[1])
    before = row_counts()
    response = api.post("/api/v1/tickets", json={"subject": "Big", "body": "x" * ONE_MB, "customer_id": 1})
    assert response.status_code == 413 and response.get_json()["code"] == 413
    assert row_counts() == before


# --- email size --------------------------------------------------------------------------------


def _big_email(size: int) -> bytes:
    return make_email(subject="Huge", attachments=[("big.bin", "application/octet-stream", b"\x01" * size)])


def test_an_oversize_email_is_kept_as_failed_and_never_processed(app):
    app.config["MAX_EMAIL_BYTES"] = ONE_MB
    before = row_counts()
    raw = _big_email(ONE_MB)
    result = ingest(raw)
    assert result.action == "failed" and "over the 1 MB limit" in result.error
    row = db.session.scalar(select(InboundMessage))
    assert row.status == InboundStatus.FAILED and row.raw == raw  # kept whole, for an admin
    after = row_counts()
    assert after.pop("inbound_messages") == before.pop("inbound_messages") + 1
    assert after == before  # no customer, ticket, message or attachment
    assert ingest(raw).action == "duplicate"


def test_an_oversize_email_left_stored_by_a_crash_fails_in_the_worker_too(app):
    app.config["MAX_EMAIL_BYTES"] = ONE_MB
    store_raw(_big_email(ONE_MB), source="imap")  # stored, then the process died before processing
    assert process_stored(older_than=timedelta(0)) == 1
    row = db.session.scalar(select(InboundMessage))
    assert row.status == InboundStatus.FAILED and "1 MB limit" in row.error
    assert db.session.scalar(select(func.count(Ticket.id))) == 0


def test_the_ingest_command_reports_an_oversize_email_as_failed(app, tmp_path):
    app.config["MAX_EMAIL_BYTES"] = ONE_MB
    path = tmp_path / "huge.eml"
    path.write_bytes(_big_email(ONE_MB))
    result = app.test_cli_runner().invoke(args=["mail", "ingest", str(path)])
    assert result.exit_code == 0
    assert '"action": "failed"' in result.output and "1 MB limit" in result.output
    assert db.session.scalar(select(func.count(Ticket.id))) == 0


def test_the_smtp_listener_refuses_an_oversize_email_with_552(app):
    app.config["MAX_EMAIL_BYTES"] = ONE_MB
    port = free_port()
    controller = start_listener(app, "127.0.0.1", port)
    try:
        before = row_counts()
        with smtplib.SMTP("127.0.0.1", port, timeout=30) as smtp:
            # smtplib announces the size (ESMTP SIZE), so the server refuses before the data is sent.
            with pytest.raises(smtplib.SMTPSenderRefused) as refused:
                smtp.sendmail("sender@example.com", ["support@helpdesk.localhost"], _big_email(ONE_MB))
            assert refused.value.smtp_code == 552
            # A client that does not announce the size is refused after the data, also with 552.
            smtp.ehlo()
            smtp.mail("sender@example.com")
            smtp.rcpt("support@helpdesk.localhost")
            code, _message = smtp.data(_big_email(ONE_MB))
            assert code == 552
        assert row_counts() == before
        with smtplib.SMTP("127.0.0.1", port, timeout=30) as smtp:
            smtp.sendmail("sender@example.com", ["support@helpdesk.localhost"], _big_email(1000))
    finally:
        controller.stop()
    assert db.session.scalar(select(func.count(Ticket.id))) == 1


def test_imap_polling_keeps_an_oversize_email_as_failed_and_flags_it(app, dovecot, monkeypatch):
    from tests.mail.test_imap import _deliver, _mailbox, _unseen

    app.config["MAX_EMAIL_BYTES"] = ONE_MB
    _mailbox(dovecot, make_queue(), monkeypatch)
    _deliver(dovecot, _big_email(ONE_MB), make_email(subject="Small"))
    from helpdesk.mail import imap

    assert imap.poll_all() == {"support": 2}
    statuses = sorted(s.value for s in db.session.scalars(select(InboundMessage.status)))
    assert statuses == ["failed", "processed"] and _unseen(dovecot) == []
    assert db.session.scalar(select(func.count(Ticket.id))) == 1


# --- page sizes --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "url",
    [
        "/api/v1/tickets?limit=101",
        "/api/v1/tickets?limit=0",
        "/api/v1/customers?limit=1000",
        "/api/v1/kb/articles?limit=101",
    ],
)
def test_api_page_sizes_over_the_maximum_are_a_400_json_error(client, url):
    api = ApiClient(client, api_token()[1])
    response = api.get(url)
    assert response.status_code in (400, 422) and response.mimetype == "application/json"
    assert "limit" in str(response.get_json())


def test_kb_search_page_size_is_capped(client):
    response = client.get("/kb/search?q=x&limit=51", headers={"Accept-Language": "en"})
    assert response.status_code == 400
    assert "between 1 and 50" in response.get_data(as_text=True)


def test_the_queue_shows_one_page_of_the_configured_size(app, client, login):
    app.config["PAGE_SIZE"] = 3
    customer = make_customer()
    for n in range(4):
        make_ticket(customer=customer, subject=f"Ticket {n}")
    login(make_staff())
    page = client.get("/agent?view=open&limit=1000").get_data(as_text=True)
    assert page.count("<bdi>Ticket ") == 3  # a page is PAGE_SIZE rows, whatever the URL asks for
