"""Connecting a queue to a WhatsApp business number (the admin page and ``helpdesk whatsapp connect``)."""

from __future__ import annotations

import re
from dataclasses import dataclass

from flask_babel import gettext as _
from sqlalchemy import select

from helpdesk.extensions import db
from helpdesk.tickets.errors import DomainError
from helpdesk.tickets.models import Queue
from helpdesk.whatsapp.ledger import forget_secret_names
from helpdesk.whatsapp.models import DEFAULT_GRAPH_URL, WhatsAppAccount

ENV_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,99}$")


class BadSettings(DomainError):
    """The WhatsApp settings cannot be saved as given."""


@dataclass
class Settings:
    phone_number_id: str
    token_env: str
    app_secret_env: str
    verify_token_env: str
    graph_url: str = DEFAULT_GRAPH_URL
    display_number: str | None = None
    idle_hours: int = 24
    template_name: str | None = None
    template_languages: str = "ar,en"


def account_of(queue: Queue) -> WhatsAppAccount | None:
    return db.session.scalar(select(WhatsAppAccount).where(WhatsAppAccount.queue_id == queue.id))


def connect(queue: Queue, settings: Settings) -> WhatsAppAccount:
    """Create or change the queue's WhatsApp number (flushes). Only environment variable *names* are
    kept: the token and secrets themselves never reach the database."""
    phone_number_id = settings.phone_number_id.strip()
    if not phone_number_id.isdigit():
        raise BadSettings(_("The phone number ID is the number Meta shows for it (digits only)."))
    for name in (settings.token_env, settings.app_secret_env, settings.verify_token_env):
        if not ENV_NAME.match(name or ""):
            raise BadSettings(_("%(name)s is not an environment variable name.", name=name or "—"))
    if not re.match(r"^https?://[^\s/]+", settings.graph_url or ""):
        raise BadSettings(_("The Graph API address must start with https://."))
    languages = ",".join(code.strip() for code in settings.template_languages.split(",") if code.strip())
    if any(code not in ("ar", "en") for code in languages.split(",") if code):
        raise BadSettings(_("Template languages are ar and/or en."))
    other = db.session.scalar(
        select(WhatsAppAccount).where(
            WhatsAppAccount.phone_number_id == phone_number_id, WhatsAppAccount.queue_id != queue.id
        )
    )
    if other is not None:
        raise BadSettings(_("That WhatsApp number is already connected to another queue."))
    account = account_of(queue) or WhatsAppAccount(queue=queue)
    account.phone_number_id = phone_number_id
    account.token_env = settings.token_env
    account.app_secret_env = settings.app_secret_env
    account.verify_token_env = settings.verify_token_env
    account.graph_url = settings.graph_url.rstrip("/")
    account.display_number = (settings.display_number or "").strip() or None
    account.idle_hours = max(1, int(settings.idle_hours))
    account.template_name = (settings.template_name or "").strip() or None
    account.template_languages = languages or "ar,en"
    db.session.add(account)
    db.session.flush()
    forget_secret_names()
    return account
