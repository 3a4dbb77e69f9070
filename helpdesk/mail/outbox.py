"""Queue emails in the caller's transaction; the worker sends them with retries and backoff.

An email is never sent from a request: if the SMTP server is down, the row waits and is retried,
so nothing is lost and a slow server never slows a page.
"""

from __future__ import annotations

import logging
import smtplib
from datetime import timedelta

from flask import Flask, current_app
from flask_mail import Message as MailMessage

from helpdesk.dbtypes import utcnow
from helpdesk.extensions import db, mail
from helpdesk.mail.models import OutboundEmail, OutboxStatus
from helpdesk.tickets.models import Message, Ticket
from helpdesk.worker import jobtable
from helpdesk.worker.runner import register_job

log = logging.getLogger("helpdesk.mail.outbox")

MAX_ATTEMPTS = 10
FIRST_RETRY = timedelta(minutes=1)
LONGEST_RETRY = timedelta(hours=6)
CLAIM_LEASE = timedelta(minutes=5)


def queue_email(
    *,
    to: str,
    subject: str,
    text: str,
    html: str | None = None,
    kind: str = "notification",
    ticket: Ticket | None = None,
    message: Message | None = None,
    headers: dict[str, str] | None = None,
    message_id: str | None = None,
) -> OutboundEmail:
    """Add an email to the outbox. Joins the caller's transaction: it is sent only if that commits."""
    email = OutboundEmail(
        kind=kind,
        to=to,
        subject=subject,
        text=text,
        html=html,
        headers=dict(headers or {}),
        message_id=message_id,
        ticket=ticket,  # a ticket opened in this transaction gets its id when both are written
        ticket_message_id=message.id if message is not None and message.id else None,
        next_attempt_at=utcnow(),
    )
    db.session.add(email)
    return email


def retry_delay(attempts: int) -> timedelta:
    """Exponential backoff: 1, 2, 4, 8 … minutes, at most six hours."""
    return jobtable.retry_delay(attempts, first=FIRST_RETRY, longest=LONGEST_RETRY)


def _claim(email_id: int, seen_attempts: int) -> bool:
    """Take one email for sending; two workers never both send it."""
    return jobtable.claim(OutboundEmail, email_id, seen_attempts, OutboxStatus.QUEUED, lease=CLAIM_LEASE)


def _to_mail_message(email: OutboundEmail) -> MailMessage:
    msg = MailMessage(
        subject=email.subject,
        recipients=[email.to],
        body=email.text,
        html=email.html,
        sender=current_app.config["MAIL_DEFAULT_SENDER"],
        extra_headers=dict(email.headers or {}),
    )
    if email.message_id:
        msg.msgId = email.message_id
    return msg


def is_unreachable(exc: Exception) -> bool:
    """The server could not be reached or dropped us, as opposed to refusing one message."""
    if isinstance(exc, (smtplib.SMTPConnectError, smtplib.SMTPServerDisconnected)):
        return True
    return isinstance(exc, OSError) and not isinstance(exc, smtplib.SMTPException)


class _ServerState:
    """Log an unreachable server once when it goes down and once when it is back, not per email."""

    down = False

    @classmethod
    def failed(cls, exc: Exception, waiting: int) -> None:
        if not cls.down:
            log.warning("SMTP server unreachable (%s); %s email(s) wait in the outbox", exc, waiting)
        cls.down = True

    @classmethod
    def sent(cls) -> None:
        if cls.down:
            log.warning("SMTP server reachable again; sending the outbox")
        cls.down = False


def send_due_emails(limit: int = 1000, batch: int = 100) -> dict[str, int]:
    """Send what is due, a batch at a time while sending succeeds, until the backlog is gone or
    ``limit`` were looked at (after an outage the queue drains at full speed, not a batch a round).
    Returns counts of sent and failed attempts.

    When the server cannot be reached the pass stops at the first failure: the other emails keep
    their place and attempts, and a black-holed server costs one timeout per pass, not one per email.
    """
    sent = failed = looked_at = 0
    while looked_at < limit:
        due = jobtable.due_jobs(OutboundEmail, OutboxStatus.QUEUED, limit=min(batch, limit - looked_at))
        looked_at += len(due)
        for position, (email_id, attempts) in enumerate(due):
            if not _claim(email_id, attempts):
                continue  # another worker has it
            email = db.session.get(OutboundEmail, email_id)
            try:
                mail.send(_to_mail_message(email))
            except Exception as exc:  # any SMTP or network failure: keep it and retry later
                failed += 1
                _schedule_retry(email, exc)
                if is_unreachable(exc):
                    _ServerState.failed(exc, waiting=len(due) - position)
                    return {"sent": sent, "failed": failed}
                log.warning("sending email %s failed (attempt %s): %s", email.id, email.attempts, exc)
                continue
            sent += 1
            email.status = OutboxStatus.SENT
            email.sent_at = utcnow()
            email.last_error = None
            db.session.commit()
            _ServerState.sent()
        if len(due) < batch or failed:  # a refusing server is not hammered: the rest wait a round
            break
    return {"sent": sent, "failed": failed}


def _schedule_retry(email: OutboundEmail, exc: Exception) -> None:
    email.last_error = f"{type(exc).__name__}: {exc}"[:2000]
    if email.attempts >= MAX_ATTEMPTS:
        email.status = OutboxStatus.FAILED
    else:
        email.next_attempt_at = utcnow() + retry_delay(email.attempts)
    db.session.commit()


@register_job("mail.send_outbox", every_seconds=5)
def send_outbox(app: Flask) -> dict[str, int]:
    return send_due_emails()
