from helpdesk.auth.models import Role
from helpdesk.extensions import db
from helpdesk.mail import inbound
from helpdesk.mail.models import InboundMessage, InboundStatus
from tests.factories import make_staff
from tests.mail.mailfactory import make_email
from tests.mail.own_mail import OWN_MAIL


def test_admin_sees_failed_messages_and_downloads_the_original(app, client, login, queries):
    bad = inbound.ingest(b"To: support@helpdesk.localhost\r\nSubject: x\r\n\r\nno sender\r\n")
    inbound.ingest(b"\x00 junk")
    login(make_staff(Role.ADMIN))
    with queries() as statements:
        page = client.get("/admin/mail/failed")
    assert page.status_code == 200
    assert len(statements) <= 6
    html = page.get_data(as_text=True)
    assert "no sender address" in html and f"/admin/mail/inbound/{bad.inbound_id}.eml" in html
    download = client.get(f"/admin/mail/inbound/{bad.inbound_id}.eml")
    assert download.status_code == 200 and download.mimetype == "message/rfc822"
    assert "attachment" in download.headers["Content-Disposition"]
    assert download.data.startswith(b"To: support@")
    assert client.get("/admin/mail/inbound/999.eml").status_code == 404


def test_failed_page_renders_in_english_and_arabic(app, client, login):
    inbound.ingest(b"\x00 junk")
    login(make_staff(Role.ADMIN))
    arabic = client.get("/admin/mail/failed").get_data(as_text=True)
    assert 'dir="rtl"' in arabic
    client.submit("/language", {"language": "en"})
    english = client.get("/admin/mail/failed").get_data(as_text=True)
    assert "Failed email" in english


def test_retry_processes_a_fixed_message(app, client, login):
    result = inbound.ingest(b"\x00 junk")
    row = db.session.get(InboundMessage, result.inbound_id)
    row.raw = make_email()  # as if the parser had been fixed since
    db.session.commit()
    login(make_staff(Role.ADMIN))
    response = client.submit(f"/admin/mail/inbound/{row.id}/retry")
    assert response.status_code == 303
    db.session.refresh(row)
    assert row.status == InboundStatus.PROCESSED and row.ticket_id is not None
    assert client.submit(f"/admin/mail/inbound/{row.id}/retry").status_code == 409


def test_agent_downloads_the_original_email_from_the_ticket_page(app, client, login, queries):
    raw = make_email(subject="Original please")
    result = inbound.ingest(raw)
    login(make_staff(Role.AGENT))
    page = client.get(f"/agent/tickets/{result.ticket}").get_data(as_text=True)
    row = db.session.get(InboundMessage, result.inbound_id)
    link = f"/agent/messages/{row.ticket_message_id}/original.eml"
    assert link in page
    with queries() as statements:
        download = client.get(link)
    assert download.status_code == 200 and download.data == raw
    assert len(statements) <= 4
    assert client.get("/agent/messages/424242/original.eml").status_code == 404


def test_admin_configures_a_queue_mailbox(app, client, login, queries):
    from helpdesk.audit.models import AuditEvent
    from helpdesk.mail.models import Mailbox
    from tests.factories import make_queue

    queue = make_queue("orders")
    login(make_staff(Role.ADMIN))
    with queries() as statements:
        page = client.get("/admin/mail/mailboxes")
    assert page.status_code == 200 and len(statements) <= 6
    form = {
        "host": "imap.example.com",
        "port": "143",
        "security": "starttls",
        "username": "orders@example.com",
        "password_env": "ORDERS_IMAP_PASSWORD",
        "password": "",
        "folder": "INBOX",
        "move_to": "Done",
        "is_active": "y",
    }
    assert (
        client.submit(f"/admin/mail/mailboxes/{queue.id}", {**form, "password_env": "bad name"}).status_code
        == 400
    )
    assert client.submit(f"/admin/mail/mailboxes/{queue.id}", form).status_code == 303
    mailbox = db.session.scalar(db.select(Mailbox))
    assert (mailbox.use_tls, mailbox.use_starttls, mailbox.port, mailbox.password) == (False, True, 143, None)
    assert (
        client.submit(f"/admin/mail/mailboxes/{queue.id}", {**form, "password": "s3cret"}).status_code == 303
    )
    assert client.submit(f"/admin/mail/mailboxes/{queue.id}", form).status_code == 303
    db.session.refresh(mailbox)
    assert mailbox.password == "s3cret"  # an empty field keeps it
    events = db.session.scalars(db.select(AuditEvent).where(AuditEvent.action == "mail.mailbox_saved")).all()
    assert len(events) == 3 and "s3cret" not in str([e.details for e in events])
    with queries() as statements:
        edit = client.get(f"/admin/mail/mailboxes/{queue.id}")
    assert edit.status_code == 200 and len(statements) <= 6
    assert 'value="starttls" selected' in edit.get_data(as_text=True) or "selected" in edit.get_data(
        as_text=True
    )
    assert client.get("/admin/mail/mailboxes/9999").status_code == 404


def test_ticket_page_shows_a_forward_whole_and_an_outlook_reply_new_text_first(app, client, login):
    forward = inbound.ingest(OWN_MAIL["own/ar-forward-keeps-content.eml"][0])
    reply = inbound.ingest(OWN_MAIL["own/ar-outlook-desktop.eml"][0])
    login(make_staff(Role.AGENT))
    forwarded = client.get(f"/agent/tickets/{forward.ticket}").get_data(as_text=True)
    assert "المبلغ المستحق 450 ريال." in forwarded and "message-full" not in forwarded
    page = client.get(f"/agent/tickets/{reply.ticket}").get_data(as_text=True)
    shown, _sep, whole = page.partition('<details class="message-full">')
    assert (
        "هل يمكن إرسال الفاتورة أيضاً؟" in shown and "نعتذر عن التأخير" not in shown.split("message-body")[-1]
    )
    assert "نعتذر عن التأخير" in whole  # the quoted history is one click away
