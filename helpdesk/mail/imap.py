"""IMAP polling: each queue's mailbox is read by the worker; a message is flagged (or moved) only
after it has been committed, so a crash in between means a second read, which the ledger turns
into a harmless ``duplicate``."""

from __future__ import annotations

import contextlib
import logging
import os
import ssl
from datetime import datetime

from flask import Flask, current_app
from imapclient import IMAPClient
from sqlalchemy import select

from helpdesk.dbtypes import utcnow
from helpdesk.extensions import db
from helpdesk.mail.inbound import ingest
from helpdesk.mail.ledger import IngestResult
from helpdesk.mail.models import Mailbox
from helpdesk.worker.runner import register_job

log = logging.getLogger("helpdesk.mail.imap")

BATCH = 50
TIMEOUT_SECONDS = 30


class MailboxError(Exception):
    pass


def mailbox_password(mailbox: Mailbox) -> str:
    if mailbox.password_env:
        value = os.environ.get(mailbox.password_env)
        if value is not None:
            return value
    if mailbox.password:
        return mailbox.password
    raise MailboxError(f"no password: set the environment variable {mailbox.password_env or '(none named)'}")


def connect(mailbox: Mailbox) -> IMAPClient:
    context = ssl.create_default_context() if (mailbox.use_tls or mailbox.use_starttls) else None
    client = IMAPClient(
        mailbox.host, port=mailbox.port, ssl=mailbox.use_tls, ssl_context=context, timeout=TIMEOUT_SECONDS
    )
    if mailbox.use_starttls and not mailbox.use_tls:
        client.starttls(context)
    client.login(mailbox.username, mailbox_password(mailbox))
    return client


def poll_mailbox(mailbox: Mailbox) -> list[IngestResult]:
    """Read the unseen messages of one mailbox into the helpdesk; returns one result per message."""
    results = []
    queue_id, move_to = mailbox.queue_id, mailbox.move_to
    client = connect(mailbox)
    try:
        client.select_folder(mailbox.folder)
        uids = client.search(["UNSEEN", "NOT", "DELETED"])[:BATCH]
        if move_to and not client.folder_exists(move_to):
            client.create_folder(move_to)
        for uid in uids:
            fetched = client.fetch([uid], ["BODY.PEEK[]"]).get(uid)  # PEEK: no \Seen before our commit
            if not fetched:
                continue
            raw = fetched[b"BODY[]"]
            queue = db.session.get(Mailbox, mailbox.id).queue if queue_id else None
            result = ingest(raw, source="imap", queue=queue)
            results.append(result)
            # Committed (or recorded as failed, also committed): now it may leave the inbox.
            if move_to:
                client.move([uid], move_to)
            else:
                client.add_flags([uid], [b"\\Seen"])
    finally:
        with contextlib.suppress(Exception):  # the connection may already be gone
            client.logout()
    return results


def poll_all() -> dict[str, int]:
    counts: dict[str, int] = {}
    mailboxes = db.session.scalars(select(Mailbox).where(Mailbox.is_active).order_by(Mailbox.id)).all()
    db.session.commit()
    for mailbox in mailboxes:
        mailbox_id = mailbox.id
        try:
            results = poll_mailbox(mailbox)
            error = None
        except Exception as exc:  # a mailbox being down must not stop the others
            db.session.rollback()
            results, error = [], f"{type(exc).__name__}: {exc}"[:2000]
            log.warning("polling mailbox %s failed: %s", mailbox_id, error)
        mailbox = db.session.get(Mailbox, mailbox_id)
        mailbox.last_polled_at, mailbox.last_error = utcnow(), error
        db.session.commit()
        counts[mailbox.username] = len(results)
    return counts


_last_poll: datetime | None = None


@register_job("mail.poll_mailboxes", every_seconds=5)
def poll_mailboxes_job(app: Flask) -> dict[str, int] | None:
    """Runs every few seconds but polls only every MAIL_POLL_INTERVAL_SECONDS (configurable)."""
    global _last_poll
    now = utcnow()
    interval = current_app.config["MAIL_POLL_INTERVAL_SECONDS"]
    if _last_poll is not None and (now - _last_poll).total_seconds() < interval:
        return None
    _last_poll = now
    return poll_all()
