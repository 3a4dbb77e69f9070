import io

from helpdesk.blobs import blob_store
from helpdesk.extensions import db
from helpdesk.tickets import service
from helpdesk.tickets.attachments import IncomingFile, safe_filename
from helpdesk.tickets.models import Attachment, MessageKind
from tests.factories import make_customer, make_staff, make_ticket


def test_identical_files_are_stored_once(app):
    ticket = make_ticket()
    agent = make_staff()
    same = IncomingFile("invoice.pdf", "application/pdf", b"%PDF-1.4 data")
    service.add_message(ticket, author=agent, body="one", attachments=[same])
    service.add_message(ticket, author=agent, body="two", attachments=[same])
    db.session.commit()  # a download reads what was committed
    rows = Attachment.query.all()
    assert len(rows) == 2 and rows[0].sha256 == rows[1].sha256
    assert blob_store().open(rows[0].sha256).read() == b"%PDF-1.4 data"


def test_filenames_lose_paths_and_bidi_tricks():
    assert safe_filename("../../etc/passwd") == "passwd"
    assert safe_filename("C:\\Users\\x\\فاتورة.pdf") == "فاتورة.pdf"
    assert safe_filename("invoice\u202efdp.exe") == "invoicefdp.exe"
    assert safe_filename("") == "attachment"


def test_customer_uploads_a_file_with_a_new_case_and_downloads_it(client, login_as):
    login_as("customer")
    response = client.submit(
        "/portal/cases/new",
        {
            "subject": "Broken screen",
            "body": "See photo",
            "files": [(io.BytesIO(b"\x89PNG fake"), "photo.png")],
        },
        content_type="multipart/form-data",
    )
    assert response.status_code == 303
    attachment = Attachment.query.one()
    assert attachment.filename == "photo.png" and attachment.size == 9
    download = client.get(f"/portal/attachments/{attachment.id}")
    assert download.status_code == 200
    assert download.data == b"\x89PNG fake"
    assert download.headers["X-Content-Type-Options"] == "nosniff"


def test_html_and_svg_attachments_are_forced_to_download(client, login):
    agent = make_staff()
    ticket = make_ticket()
    evil = [
        IncomingFile("x.svg", "image/svg+xml", b"<svg onload=alert(1)>"),
        IncomingFile("y.html", "text/html", b"<script>"),
    ]
    service.add_message(ticket, author=agent, body="files", attachments=evil)
    login(agent)
    for attachment in Attachment.query.all():
        response = client.get(f"/agent/attachments/{attachment.id}")
        assert response.headers["Content-Type"] == "application/octet-stream"
        assert response.headers["Content-Disposition"].startswith("attachment")


def test_customers_cannot_download_files_of_others_or_of_internal_notes(client, login):
    mine = make_ticket()
    theirs = make_ticket(customer=make_customer())
    agent = make_staff()
    service.add_message(
        theirs, author=agent, body="x", attachments=[IncomingFile("a.txt", "text/plain", b"secret")]
    )
    service.add_message(
        mine,
        author=agent,
        body="note",
        kind=MessageKind.NOTE,
        attachments=[IncomingFile("n.txt", "text/plain", b"internal")],
    )
    login(mine.customer)
    for attachment in Attachment.query.all():
        assert client.get(f"/portal/attachments/{attachment.id}").status_code == 404
    assert client.get("/portal/attachments/99999").status_code == 404


def test_oversize_upload_is_refused_with_a_message_and_nothing_is_written(client, login_as, app):
    app.config["MAX_ATTACHMENT_BYTES"] = 10
    login_as("customer")
    response = client.submit(
        "/portal/cases/new",
        {"subject": "Big", "body": "file", "files": [(io.BytesIO(b"x" * 11), "big.bin")]},
        content_type="multipart/form-data",
    )
    assert response.status_code == 400
    assert "big.bin" in response.get_data(as_text=True)
    from helpdesk.tickets.models import Ticket

    assert Ticket.query.count() == 0


def test_agent_reply_with_attachment(client, login):
    agent = make_staff()
    ticket = make_ticket()
    login(agent)
    response = client.submit(
        f"/agent/tickets/{ticket.number}/reply",
        {
            "body": "label attached",
            "kind": "reply",
            "version": ticket.version,
            "files": [(io.BytesIO(b"label"), "label.pdf")],
        },
        content_type="multipart/form-data",
    )
    assert response.status_code == 303
    assert Attachment.query.one().filename == "label.pdf"
