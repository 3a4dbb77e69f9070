"""Random and broken MIME messages through the whole ingest path: nothing escapes as an exception,
and every input ends as a ticket, a reply, a duplicate or a kept failed record ("nothing lost")."""

from __future__ import annotations

import base64
import os

from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from helpdesk.extensions import db
from helpdesk.mail.inbound import ingest
from helpdesk.mail.models import InboundMessage, InboundStatus
from helpdesk.tickets.models import Ticket

CHARSETS = ["utf-8", "windows-1256", "iso-8859-6", "iso-8859-1", "us-ascii", "x-unknown", ""]
ENCODINGS = ["7bit", "8bit", "base64", "quoted-printable", "binary", "x-uuencode", ""]
TYPES = [
    "text/plain",
    "text/html",
    "application/octet-stream",
    "image/png",
    "message/rfc822",
    "text/calendar",
]
TEXT = st.text(
    alphabet=st.characters(codec="utf-8", exclude_categories=["Cs"])
    | st.sampled_from("وينطلبيال<>\"'=?\r\n\x00"),
    max_size=200,
)
ADDRESSES = st.sampled_from(
    [
        "Huda <huda@example.net>",
        "=?utf-8?b?2YfYr9mJ?= <huda@example.net>",
        "=?windows-1256?q?=E5=CF=EC?= <x@example.net>",
        "no-angle@example.net",
        "<>",
        "MAILER-DAEMON@example.net",
        "broken <@@>",
        "",
        "a" * 300 + "@example.net",
        '"quoted, name" <q@example.net>',
    ]
)
HEADER_VALUES = TEXT | st.sampled_from(
    ["=?utf-8?b?invalid?=", "=?x?q?bad?=", "auto-replied", "bulk", "<a@b>"]
)


def _encode(body: bytes, encoding: str) -> bytes:
    if encoding == "base64":
        return base64.encodebytes(body)
    return body


@st.composite
def parts(draw, depth: int = 0) -> bytes:
    content_type = draw(st.sampled_from(TYPES))
    charset = draw(st.sampled_from(CHARSETS))
    encoding = draw(st.sampled_from(ENCODINGS))
    text = draw(TEXT)
    body = text.encode(charset if charset in ("utf-8", "windows-1256", "iso-8859-6") else "utf-8", "replace")
    if draw(st.booleans()):
        body = draw(st.binary(max_size=120))  # bytes that match no declared charset
    body = _encode(body, encoding)
    if draw(st.booleans()):
        body = body[: draw(st.integers(0, len(body)))]  # truncated
    headers = f"Content-Type: {content_type}" + (f"; charset={charset}" if charset else "")
    if draw(st.booleans()):
        headers += f'\r\nContent-Disposition: attachment; filename="{draw(TEXT)[:60]}"'
    if encoding:
        headers += f"\r\nContent-Transfer-Encoding: {encoding}"
    if depth < 2 and draw(st.integers(0, 3)) == 0:
        boundary = draw(st.sampled_from(["b1", "==x==", "", "b1 b2", '"quoted"']))
        children = draw(st.lists(parts(depth + 1), max_size=3))
        inner = b"".join(b"--" + boundary.encode() + b"\r\n" + child + b"\r\n" for child in children)
        closing = b"--" + boundary.encode() + b"--\r\n" if draw(st.booleans()) else b""
        subtype = draw(st.sampled_from(["mixed", "alternative", "related", "report"]))
        return f"Content-Type: multipart/{subtype}; boundary={boundary}\r\n\r\n".encode() + inner + closing
    return headers.encode("utf-8", "replace") + b"\r\n\r\n" + body


@st.composite
def messages(draw) -> bytes:
    lines = []
    if draw(st.integers(0, 9)):
        lines.append(f"From: {draw(ADDRESSES)}")
    lines.append(f"To: {draw(ADDRESSES)}")
    if draw(st.integers(0, 4)):
        lines.append(f"Subject: {draw(HEADER_VALUES)}")
    if draw(st.booleans()):
        lines.append(f"Message-ID: <{draw(st.text(alphabet='abc123.@', min_size=0, max_size=20))}>")
    for name in draw(
        st.lists(
            st.sampled_from(
                ["In-Reply-To", "References", "Auto-Submitted", "Precedence", "Date", "X-Weird", "List-Id"]
            ),
            max_size=4,
        )
    ):
        lines.append(f"{name}: {draw(HEADER_VALUES)}")
    head = "\r\n".join(line.replace("\r", " ").replace("\n", " ") for line in lines).encode(
        "utf-8", "replace"
    )
    if draw(st.integers(0, 19)) == 0:
        return draw(st.binary(max_size=300))  # not an email at all
    return head + b"\r\n" + draw(parts())


@settings(
    max_examples=int(os.environ.get("HELPDESK_FUZZ_EXAMPLES", "2000")),
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(raw=messages())
def test_every_message_ends_as_a_ticket_a_reply_a_duplicate_or_a_kept_failure(app, raw):
    result = ingest(raw, source="fuzz")
    assert result.action in {"created", "appended", "duplicate", "failed"}
    event(result.action)  # --hypothesis-show-statistics shows the mix
    row = db.session.get(InboundMessage, result.inbound_id) if result.inbound_id else None
    if result.action == "duplicate":
        return
    assert row is not None and row.raw == raw  # kept, byte for byte
    if result.action == "failed":
        assert row.status == InboundStatus.FAILED and row.error
    else:
        assert row.status == InboundStatus.PROCESSED
        if result.ticket:
            assert db.session.scalar(select(func.count(Ticket.id)).where(Ticket.number == result.ticket)) == 1
