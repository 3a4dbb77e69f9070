"""A new ticket's subject without the reply and forward prefixes of any client or language."""

import pytest
from sqlalchemy import select

from helpdesk.extensions import db
from helpdesk.mail import inbound
from helpdesk.mail.parse import clean_subject
from helpdesk.tickets.models import Ticket


@pytest.mark.parametrize(
    "subject",
    [
        "Re: Order 5512",
        "RE: Order 5512",
        "AW: Order 5512",
        "Antwort: Order 5512",
        "WG: Order 5512",
        "SV: Order 5512",
        "Fwd: Order 5512",
        "FW: Order 5512",
        "TR : Order 5512",
        "Re[2]: Order 5512",
        "Re: Re: RE: Order 5512",
        "Fwd: AW: Re: WG: Order 5512",
        "AW:Order 5512",
        "رد: Order 5512",
        "ر: Order 5512",
        "إعادة توجيه: Order 5512",
        "پاسخ: Order 5512",
        "رد: رد: إعادة توجيه: Order 5512",
        "\u200fرد\u200f: Order 5512",
        "回复：Order 5512",
    ],
)
def test_reply_and_forward_prefixes_are_removed(subject):
    assert clean_subject(subject) == "Order 5512"


@pytest.mark.parametrize(
    "subject", ["Regelsets im Test-Status gefunden: 1", "Rückgabe", "ردود العملاء", "Fwdx: a"]
)
def test_words_that_start_like_a_prefix_are_kept(subject):
    assert clean_subject(subject) == subject


def test_new_ticket_subject_from_a_nested_arabic_reply(app):
    raw = (
        b"From: Ahmed <ahmed@example.sa>\r\nTo: support@helpdesk.example\r\n"
        b"Subject: =?utf-8?b?2LHYrzog2LHYrzog2KXYudin2K/YqSDYqtmI2KzZitmHOiDYp9mE2LfZhNioIDU1MTI=?=\r\n"
        b"Content-Type: text/plain; charset=utf-8\r\n\r\nhello\r\n"
    )
    result = inbound.ingest(raw)
    ticket = db.session.scalar(select(Ticket).where(Ticket.number == result.ticket))
    assert ticket.subject == "الطلب 5512"
