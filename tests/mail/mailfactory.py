"""Build test emails as bytes (the corpus under ``corpus/`` has the hand-written ones)."""

from __future__ import annotations

from email.message import EmailMessage
from email.policy import SMTP
from email.utils import make_msgid


def make_email(
    *,
    sender: str = "Sara Customer <sara@example.com>",
    to: str = "support@helpdesk.localhost",
    subject: str = "My order has not arrived",
    body: str = "Hello, order 1234 has not arrived yet.",
    message_id: str | None = "auto",
    headers: dict[str, str] | None = None,
    attachments: list[tuple[str, str, bytes]] = (),
) -> bytes:
    msg = EmailMessage()
    msg["From"] = sender
    msg["To"] = to
    msg["Subject"] = subject
    if message_id == "auto":
        msg["Message-ID"] = make_msgid(domain="example.com")
    elif message_id:
        msg["Message-ID"] = message_id
    for name, value in (headers or {}).items():
        msg[name] = value
    msg.set_content(body)
    for filename, content_type, data in attachments:
        maintype, subtype = content_type.split("/")
        msg.add_attachment(data, maintype=maintype, subtype=subtype, filename=filename)
    return msg.as_bytes(policy=SMTP)
