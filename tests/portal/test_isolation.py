"""A customer enumerating ids sees only their own cases, public messages and attachments; the rest is 404."""

from sqlalchemy import select

from helpdesk.extensions import db
from helpdesk.tickets import service
from helpdesk.tickets.attachments import IncomingFile
from helpdesk.tickets.models import Attachment, MessageKind, Ticket
from tests.factories import make_customer, make_staff, make_ticket


def pdf(name: str) -> IncomingFile:
    return IncomingFile(name, "application/pdf", f"%PDF-1.4 {name}".encode())


def test_enumerating_case_numbers_and_attachment_ids_reveals_nothing_of_others(client, login):
    me, other = make_customer(), make_customer()
    agent = make_staff()
    mine = make_ticket(customer=me, attachments=[pdf("mine.pdf")])
    service.add_message(
        mine, author=agent, body="internal", kind=MessageKind.NOTE, attachments=[pdf("note.pdf")]
    )
    theirs = [make_ticket(customer=other, attachments=[pdf(f"theirs{n}.pdf")]) for n in range(3)]
    service.add_message(theirs[0], author=agent, body="Reply to them", attachments=[pdf("reply.pdf")])
    login(me)

    numbers = db.session.scalars(select(Ticket.number)).all()
    for number in numbers:
        expected = 200 if number == mine.number else 404
        assert client.get(f"/portal/cases/{number}").status_code == expected, number
        if number != mine.number:
            assert client.submit(f"/portal/cases/{number}/reply", {"body": "hi"}).status_code == 404
    allowed = {a.id for a in db.session.scalars(select(Attachment)) if a.filename == "mine.pdf"}
    top = db.session.scalar(select(Attachment.id).order_by(Attachment.id.desc()).limit(1))
    for attachment_id in range(1, top + 3):
        expected = 200 if attachment_id in allowed else 404
        assert client.get(f"/portal/attachments/{attachment_id}").status_code == expected, attachment_id

    listing = client.get("/portal/cases").get_data(as_text=True)
    assert mine.number in listing and all(t.number not in listing for t in theirs)
    page = client.get(f"/portal/cases/{mine.number}").get_data(as_text=True)
    assert "internal" not in page and "note.pdf" not in page
    assert "Reply to them" not in page
