"""An inbound SMTP (or LMTP) server for shops whose MTA delivers straight to the helpdesk (aiosmtpd).

Each message is ingested before the server answers 250, so a message we acknowledged is committed;
if storing fails the sender gets a temporary error (451) and tries again later. A message over
``MAX_EMAIL_BYTES`` is refused with a permanent 552, so the sender's server tells the sender.
"""

from __future__ import annotations

import asyncio
import logging

from aiosmtpd.controller import Controller
from aiosmtpd.lmtp import LMTP
from flask import Flask

from helpdesk.extensions import db
from helpdesk.mail.addresses import queue_for_recipients
from helpdesk.mail.inbound import ingest

log = logging.getLogger("helpdesk.mail.listener")


class IngestHandler:
    def __init__(self, app: Flask) -> None:
        self.app = app

    async def handle_DATA(self, server, session, envelope) -> str:
        raw = envelope.original_content or envelope.content
        if isinstance(raw, str):
            raw = raw.encode("utf-8", "surrogateescape")
        recipients = list(envelope.rcpt_tos or [])
        # The database work runs in a thread so the event loop keeps serving other connections.
        return await asyncio.get_running_loop().run_in_executor(None, self._ingest, raw, recipients)

    def _ingest(self, raw: bytes, recipients: list[str]) -> str:
        with self.app.app_context():
            try:
                queue = queue_for_recipients(recipients)
                result = ingest(
                    raw, source="smtp", queue=queue, recipient=recipients[0] if recipients else None
                )
            except Exception:
                log.exception("could not store an incoming message")
                db.session.rollback()
                return "451 4.3.0 could not store the message, try again later"
            finally:
                db.session.remove()
        log.info("received %s → %s %s", result.message_id, result.action, result.ticket or "")
        return "250 2.0.0 OK"


class _LMTPController(Controller):
    def factory(self):
        return LMTP(self.handler, **self.SMTP_kwargs)


def start_listener(
    app: Flask, host: str = "127.0.0.1", port: int = 2525, *, lmtp: bool = False
) -> Controller:
    """Start the server in a background thread; the caller stops it with ``.stop()``."""
    controller_class = _LMTPController if lmtp else Controller
    controller = controller_class(
        IngestHandler(app),
        hostname=host,
        port=port,
        data_size_limit=app.config["MAX_EMAIL_BYTES"],  # larger: "552 Too much mail data"
    )
    controller.start()
    return controller
