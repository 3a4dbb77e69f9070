"""Configuring a queue's IMAP mailbox (admin UI and CLI), audited."""

from __future__ import annotations

from sqlalchemy import select

from helpdesk.audit import service as audit
from helpdesk.extensions import db
from helpdesk.mail.models import Mailbox
from helpdesk.tickets.models import Queue


def mailbox_of(queue: Queue) -> Mailbox | None:
    return db.session.scalar(select(Mailbox).where(Mailbox.queue_id == queue.id))


def save_mailbox(
    queue: Queue,
    *,
    actor=None,
    host: str,
    port: int,
    security: str,
    username: str,
    password_env: str | None,
    password: str | None,
    folder: str,
    move_to: str | None,
    is_active: bool,
) -> Mailbox:
    """Create or update the queue's mailbox; an empty ``password`` keeps the stored one."""
    mailbox = mailbox_of(queue) or Mailbox(queue=queue)
    mailbox.host, mailbox.port, mailbox.username = host.strip(), port, username.strip()
    mailbox.use_tls, mailbox.use_starttls = security == "tls", security == "starttls"
    mailbox.password_env = (password_env or "").strip() or None
    if password:
        mailbox.password = password
    mailbox.folder, mailbox.move_to = folder.strip() or "INBOX", (move_to or "").strip() or None
    mailbox.is_active = is_active
    db.session.add(mailbox)
    audit.record(
        "mail.mailbox_saved",
        actor=actor,
        target=f"queue:{queue.id}",
        host=mailbox.host,
        port=port,
        username=mailbox.username,
        password_env=mailbox.password_env,
        password_changed=bool(password),
    )
    return mailbox


def security_of(mailbox: Mailbox) -> str:
    return "tls" if mailbox.use_tls else "starttls" if mailbox.use_starttls else "none"
