"""The hand-written corpus under ``corpus/``: each file is ingested after ``00-seed.eml`` (ticket
HD-1001 from seed@corpus.example) and checked against its row below."""

from pathlib import Path

import pytest
from sqlalchemy import select

from helpdesk.extensions import db
from helpdesk.mail import inbound
from helpdesk.mail.models import InboundMessage, OutboundEmail
from helpdesk.tickets.models import Message, MessageKind

CORPUS = Path(__file__).parent / "corpus"
SEED = "HD-1001"
SEED_TEXT = "Hello, my order 5512 has not arrived."

# file: expectations. ticket "seed" = appended to the seed's ticket; "new" = a new ticket.
CASES = {
    "01-en-gmail-plain.eml": dict(
        ticket="new",
        subject="Wrong size delivered",
        customer=("Daniel Brooks", "daniel.brooks@gmail.example"),
        language="en",
        text=["blue jacket in size M"],
        ack=True,
        attachments=[],
    ),
    "02-en-gmail-reply.eml": dict(
        ticket="seed",
        display="The tracking number is TRK-99812, please check it.",
        text=["wrote:", "> Hello, my order 5512"],
        ack=False,
    ),
    "03-ar-gmail-reply.eml": dict(ticket="seed", display="شكراً لكم، وصلني الطلب اليوم.", text=["كتب:"]),
    "04-ar-outlook-reply.eml": dict(
        ticket="seed", display="هل يمكن إرسال الفاتورة أيضاً؟", text=["الموضوع: Order 5512 missing"]
    ),
    "05-en-outlook-reply.eml": dict(
        ticket="seed", display="Please cancel the order instead.", text=["Sent: Monday"]
    ),
    "06-apple-mail-attachment.eml": dict(
        ticket="new",
        subject="Invoice for my return",
        text=["invoice you asked for", "order number is 7781"],
        attachments=[("invoice-7781.pdf", "application/pdf")],
    ),
    "07-iphone-arabic.eml": dict(
        ticket="new",
        subject="الطلب ناقص",
        customer=("خالد العتيبي", "khalid@icloud.example"),
        language="ar",
        display="السلام عليكم\nالطلب وصل ناقص قطعة واحدة.",
        ack=True,
    ),
    "08-android-mobile.eml": dict(ticket="new", display="My card was charged twice for order 8812."),
    "09-windows-1256.eml": dict(
        ticket="new", subject="استرجاع مبلغ", display="مرحباً، أريد استرجاع المبلغ.", language="ar"
    ),
    "10-iso-8859-6-qp.eml": dict(ticket="new", subject="طلب", display="طلب رقم 4410 متاخر", language="ar"),
    "11-undeclared-8bit-utf8.eml": dict(ticket="new", display="الشحنة تأخرت كثيراً", language="ar"),
    "12-undeclared-8bit-cp1256.eml": dict(ticket="new", display="المنتج معطوب", language="ar"),
    "13-iso-8859-1-qp.eml": dict(
        ticket="new",
        subject="Rückgabe der Bestellung",
        customer=("Renée Müller", "renee@example.de"),
        display="Grüße, ich möchte die Bestellung zurückgeben. Café crème.",
    ),
    "14-utf8-base64-arabic.eml": dict(
        ticket="new", subject="استفسار عن الضمان", display="كم مدة الضمان على الغسالة؟"
    ),
    "15-qp-utf8-arabic.eml": dict(
        ticket="new",
        subject="تغيير العنوان",
        display="أرجو تغيير عنوان التوصيل إلى جدة، حي الروضة، شارع الأمير سلطان.",
    ),
    "16-html-only-en.eml": dict(
        ticket="new",
        text=["Hello team,", "The coffee machine stopped working.", "- Model: CM-200"],
        text_excludes=["alert", "color:red", "<b>"],
        html_excludes=["<script", "javascript:", "onclick", "style"],
        html=["<b>coffee machine</b>"],
    ),
    "17-html-only-ar.eml": dict(
        ticket="new",
        subject="طلب استرداد",
        customer=("سلمى", "salma@example.sa"),
        text=["أرغب في استرداد قيمة الطلب 3301."],
        html=['dir="rtl"'],
        language="ar",
    ),
    "18-inline-image.eml": dict(
        ticket="new",
        display="The box arrived damaged, see the photo.",
        attachments=[("part-3.png", "image/png")],
        inline="box-photo@example.com",
        html=["cid:box-photo@example.com"],
    ),
    "19-multiple-attachments.eml": dict(
        ticket="new",
        attachments=[
            ("receipt.pdf", "application/pdf"),
            ("photo.png", "image/png"),
            ("فاتورة.txt", "text/plain"),
        ],
    ),
    "20-winmail-dat.eml": dict(ticket="new", attachments=[("winmail.dat", "application/ms-tnef")]),
    "21-oversize-attachment.eml": dict(
        ticket="new",
        display="The video shows the noise.",
        attachments=[("small.png", "image/png")],
        events=["attachment_dropped"],
        event_text="noise.mp4",
    ),
    "22-missing-message-id.eml": dict(
        ticket="new", message_id=None, display="My client does not add a Message-ID."
    ),
    "23-empty-body.eml": dict(ticket="new", subject="Call me please", display="", text=[]),
    "24-very-long-subject.eml": dict(
        ticket="new", subject_prefix="Very long subject word0 word1", subject_length=255
    ),
    "25-malformed-from.eml": dict(ticket="new", customer=("Ahmed Broken", "ahmed.broken@example.com")),
    "26-malformed-headers.eml": dict(
        ticket="new", customer=("Odd Headers", "odd@example.com"), display="Body text survives odd headers."
    ),
    "27-no-from.eml": dict(action="failed", error="no sender address"),
    "28-out-of-office-en.eml": dict(
        ticket="seed", auto_reply=True, display="I am out of the office until Sunday.", ack=False
    ),
    "29-out-of-office-ar.eml": dict(ticket="new", subject="رد تلقائي: خارج المكتب", ack=False),
    "30-bulk-newsletter.eml": dict(ticket="new", subject="50% off this weekend", ack=False),
    "31-bounce-dsn.eml": dict(
        ticket="seed",
        bounce=True,
        event_text="552 5.2.2 mailbox full",
        attachments=[
            ("delivery-status.txt", "message/delivery-status"),
            ("forwarded-message.eml", "message/rfc822"),
        ],
    ),
    "32-bounce-unknown.eml": dict(action="failed", error="bounce"),
    "33-mailer-daemon-plain.eml": dict(ticket="new", ack=False),
    "34-subject-token-participant.eml": dict(ticket="seed", display="Adding the photo of the label later."),
    "35-subject-token-stranger.eml": dict(
        ticket="new", subject="Please send me the address on this order", ack=True
    ),
    "36-rfc2047-names.eml": dict(
        ticket="new",
        subject="الفاتورة رقم 7781 خاطئة",
        customer=("محمد الغامدي", "mohammed@example.sa"),
        language="ar",
    ),
    "37-mixed-case-known-address.eml": dict(
        ticket="new", subject="Another question", customer=("Corpus Seed", "seed@corpus.example")
    ),
    "38-forwarded-rfc822.eml": dict(
        ticket="new",
        subject="Your order confirmation",
        attachments=[("forwarded-message.eml", "message/rfc822")],
    ),
    "39-en-signature.eml": dict(
        ticket="new", display="Could you send me a return label?", text=["Head of Things"]
    ),
    "40-ar-gmail-quoted-gt.eml": dict(ticket="seed", display="تمام، سأنتظر المندوب غداً."),
    "41-calendar-invite.eml": dict(ticket="new", attachments=[("invite.ics", "text/calendar")]),
    "42-reply-prefixes.eml": dict(ticket="new", subject="Order status"),
    "43-nul-bytes.eml": dict(ticket="new", text=["beforeafter", "broken utf-8"], text_excludes=["\x00"]),
    "44-plus-address-reply.eml": dict(ticket="seed", display="Replying to the address from your email."),
    "45-outlook-html-en-quote.eml": dict(
        ticket="seed", display="Any news on this?", text=["We are looking into it."]
    ),
}


def test_corpus_has_at_least_40_messages_each_with_expectations():
    files = sorted(p.name for p in CORPUS.glob("*.eml"))
    assert len(files) >= 41
    assert set(files) == set(CASES) | {"00-seed.eml"}


@pytest.mark.parametrize("name", sorted(CASES))
def test_corpus_message(app, name):
    app.config["MAX_ATTACHMENT_BYTES"] = 8192
    expected = CASES[name]
    seed = inbound.ingest((CORPUS / "00-seed.eml").read_bytes())
    assert (seed.action, seed.ticket) == ("created", SEED)
    acks_before = _acks()

    result = inbound.ingest((CORPUS / name).read_bytes())
    action = expected.get("action", "appended" if expected.get("ticket") == "seed" else "created")
    assert result.action == action, result.error
    if action == "failed":
        assert expected["error"] in result.error
        row = db.session.get(InboundMessage, result.inbound_id)
        assert row.raw == (CORPUS / name).read_bytes()
        return
    assert (result.ticket == SEED) == (expected["ticket"] == "seed")
    if "message_id" in expected:
        assert result.message_id == expected["message_id"]
    row = db.session.get(InboundMessage, result.inbound_id)
    message = db.session.get(Message, row.ticket_message_id)
    ticket = message.ticket

    if expected.get("auto_reply"):
        assert message.kind == MessageKind.EVENT and message.event == "auto_reply"
        assert message.author_customer.email == "seed@corpus.example"
    elif expected.get("bounce"):
        assert message.kind == MessageKind.EVENT and message.event == "bounce"
        assert expected["event_text"] in message.body_text
    else:
        assert message.kind == MessageKind.REPLY and message.author_customer is not None
    if "subject" in expected:
        assert ticket.subject == expected["subject"]
    if "subject_prefix" in expected:
        assert ticket.subject.startswith(expected["subject_prefix"])
        assert len(ticket.subject) == expected["subject_length"]
    if "customer" in expected:
        name_, email = expected["customer"]
        assert (message.author_customer.name, message.author_customer.email) == (name_, email)
    if "language" in expected:
        assert ticket.customer.language == expected["language"]
    if "display" in expected:
        assert (message.display_text or "") == expected["display"]
    for piece in expected.get("text", []):
        assert piece in message.body_text
    for piece in expected.get("text_excludes", []):
        assert piece not in message.body_text
    for piece in expected.get("html", []):
        assert piece in (message.body_html or "")
    for piece in expected.get("html_excludes", []):
        assert piece not in (message.body_html or "")
    if "attachments" in expected:
        assert [(a.filename, a.content_type) for a in message.attachments] == expected["attachments"]
    if "inline" in expected:
        [image] = message.attachments
        assert image.is_inline and image.content_id == expected["inline"]
    if "events" in expected:
        events = [m for m in ticket.messages if m.kind == MessageKind.EVENT]
        assert [e.event for e in events] == expected["events"]
        assert expected["event_text"] in events[0].body_text
    if "ack" in expected:
        assert (len(_acks()) > len(acks_before)) == expected["ack"]
    assert inbound.ingest((CORPUS / name).read_bytes()).action == "duplicate"


def _acks() -> list[str]:
    return list(db.session.scalars(select(OutboundEmail.to).where(OutboundEmail.kind == "acknowledgement")))
