"""Emailed links for customers: magic sign-in, sign-up and guest-case verification, password reset.

A link carries a random token, signed with the app secret and bound to its purpose (so a reset link
cannot sign anyone in) and to a maximum age. The database keeps only a hash of the token with its
expiry and ``used_at``: the link works once, and a leaked database does not give working links.
Every request answers the same whether or not the address has an account (no enumeration).
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta

from flask import current_app
from flask_babel import gettext as _
from itsdangerous import BadSignature, URLSafeTimedSerializer
from sqlalchemy import update

from helpdesk.audit import service as audit
from helpdesk.auth.models import EmailToken, TokenPurpose
from helpdesk.auth.passwords import hash_password
from helpdesk.auth.service import find_customer, normalise_email
from helpdesk.customers.models import Customer, CustomerEmail
from helpdesk.dbtypes import utcnow
from helpdesk.extensions import db
from helpdesk.mail.outbox import queue_email
from helpdesk.tickets import routing
from helpdesk.tickets import service as tickets
from helpdesk.tickets.errors import DomainError
from helpdesk.tickets.models import Channel, Ticket
from helpdesk.urls import external_url

LIFETIME = {
    TokenPurpose.SIGN_IN: timedelta(minutes=20),
    TokenPurpose.VERIFY_EMAIL: timedelta(hours=24),
    TokenPurpose.RESET_PASSWORD: timedelta(hours=1),
}


class InvalidLink(DomainError):
    """The link is forged, expired, for something else, or was already used."""


def _serializer(purpose: TokenPurpose) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(
        current_app.config["SECRET_KEY"], salt=f"helpdesk.email-link.{purpose.value}"
    )


def _hash(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()


def issue(purpose: TokenPurpose, email: str, payload: dict | None = None) -> str:
    """Store a new single-use token (in the caller's transaction) and return the signed link value."""
    raw = secrets.token_urlsafe(32)
    db.session.add(
        EmailToken(
            token_hash=_hash(raw),
            purpose=purpose,
            email=normalise_email(email),
            payload=payload or {},
            expires_at=utcnow() + LIFETIME[purpose],
        )
    )
    return _serializer(purpose).dumps(raw)


def peek(purpose: TokenPurpose, signed: str) -> EmailToken:
    """The token behind a link, checked but not used (for the confirmation page)."""
    try:
        raw = _serializer(purpose).loads(signed, max_age=int(LIFETIME[purpose].total_seconds()))
    except BadSignature as exc:  # includes SignatureExpired
        raise InvalidLink(_("This link is not valid or has expired. Ask for a new one.")) from exc
    token = db.session.scalar(db.select(EmailToken).where(EmailToken.token_hash == _hash(raw)))
    if token is None or token.purpose != purpose or token.used_at is not None or token.expires_at < utcnow():
        raise InvalidLink(_("This link is not valid or has expired. Ask for a new one."))
    return token


def consume(purpose: TokenPurpose, signed: str) -> EmailToken:
    """Use a link once: a compare-and-set on ``used_at``, so two clicks racing cannot both succeed."""
    token = peek(purpose, signed)
    used = db.session.execute(
        update(EmailToken)
        .where(EmailToken.id == token.id, EmailToken.used_at.is_(None))
        .values(used_at=utcnow())
    )
    if used.rowcount != 1:  # the other click won; the caller's unit of work rolls back
        raise InvalidLink(_("This link is not valid or has expired. Ask for a new one."))
    return token


def _link(endpoint: str, signed: str) -> str:
    return external_url(endpoint, token=signed)


def _send(email: str, subject: str, text: str) -> None:
    queue_email(to=normalise_email(email), subject=subject, text=text, kind="auth_link")


# --- the four flows -----------------------------------------------------------------------------


def request_sign_in_link(email: str) -> None:
    customer = find_customer(email)
    if customer is not None and customer.is_active:
        signed = issue(TokenPurpose.SIGN_IN, email)
        _send(
            email,
            _("Your sign-in link"),
            _(
                "Open this link to sign in (it works once, for 20 minutes):\n\n%(link)s\n\n"
                "If you did not ask for it, ignore this email.",
                link=_link("signin.magic_link", signed),
            ),
        )
        audit.record("auth.magic_link_sent", actor=customer)


def sign_in_with_link(signed: str) -> Customer:
    token = consume(TokenPurpose.SIGN_IN, signed)
    customer = find_customer(token.email)
    if customer is None or not customer.is_active:
        raise InvalidLink(_("This link is not valid or has expired. Ask for a new one."))
    _mark_verified(customer, token.email)
    customer.last_login_at = utcnow()
    # With two-step sign-in on, the link is the first step: the code completes the sign-in.
    action = "auth.link_accepted" if customer.has_totp else "auth.sign_in"
    audit.record(action, actor=customer, kind="customer", method="magic_link")
    return customer


def request_sign_up(name: str, email: str, password: str) -> None:
    """Accounts are created only once the address is proven, from the link's payload."""
    if find_customer(email) is not None:
        _send(
            email,
            _("You already have an account"),
            _(
                "Someone (probably you) tried to create an account with this address, which already "
                "has one. Sign in here, or reset your password from the sign-in page:\n\n%(link)s",
                link=external_url("auth.customer_login"),
            ),
        )
    else:
        signed = issue(
            TokenPurpose.VERIFY_EMAIL,
            email,
            {"kind": "sign_up", "name": name.strip(), "password_hash": hash_password(password)},
        )
        _send(
            email,
            _("Confirm your email address"),
            _(
                "Open this link to confirm your address and finish signing up:\n\n%(link)s",
                link=_link("signin.verify", signed),
            ),
        )


def request_guest_case(name: str, email: str, subject: str, body: str) -> None:
    """A guest's case waits in the link's payload until the address is confirmed."""
    signed = issue(
        TokenPurpose.VERIFY_EMAIL,
        email,
        {"kind": "guest_case", "name": name.strip(), "subject": subject, "body": body},
    )
    _send(
        email,
        _("Confirm your email address to send your case"),
        _(
            'Open this link to confirm your address; your case "%(subject)s" is sent as soon as '
            "you do:\n\n%(link)s",
            subject=subject,
            link=_link("signin.verify", signed),
        ),
    )


def verify_email(signed: str) -> tuple[Customer, Ticket | None]:
    """Finish a sign-up or a guest case. Returns the (new or existing) customer and the case opened."""
    token = consume(TokenPurpose.VERIFY_EMAIL, signed)
    payload = token.payload or {}
    customer = find_customer(token.email)
    if customer is None:
        customer = Customer(name=payload.get("name") or token.email.split("@")[0])
        customer.emails.append(CustomerEmail(email=token.email, is_primary=True))
        db.session.add(customer)
        if payload.get("kind") == "sign_up":
            customer.password_hash = payload.get("password_hash")
    _mark_verified(customer, token.email)
    ticket = None
    if payload.get("kind") == "guest_case":
        db.session.flush()
        # Routed like a signed-in customer's case (an existing customer may name an order of theirs).
        order = routing.own_order_named(customer, payload["subject"], payload["body"])
        ticket = tickets.open_ticket(
            customer=customer,
            subject=payload["subject"],
            body=payload["body"],
            channel=Channel.PORTAL,
            queue=routing.queue_for_case(order=order),
            order=order,
        )
    audit.record("auth.email_verified", actor=customer, purpose=payload.get("kind"))
    return customer, ticket


def request_password_reset(email: str) -> None:
    customer = find_customer(email)
    if customer is not None and customer.is_active:
        signed = issue(TokenPurpose.RESET_PASSWORD, email)
        _send(
            email,
            _("Reset your password"),
            _(
                "Open this link to choose a new password (it works once, for an hour):\n\n%(link)s\n\n"
                "If you did not ask for it, ignore this email.",
                link=_link("signin.reset_password", signed),
            ),
        )


def reset_password(signed: str, password: str) -> Customer:
    token = consume(TokenPurpose.RESET_PASSWORD, signed)
    customer = find_customer(token.email)
    if customer is None:
        raise InvalidLink(_("This link is not valid or has expired. Ask for a new one."))
    customer.set_password(password)
    _mark_verified(customer, token.email)
    audit.record("auth.password_reset", actor=customer)
    return customer


def _mark_verified(customer: Customer, email: str) -> None:
    for identity in customer.emails:
        if identity.email == normalise_email(email) and identity.verified_at is None:
            identity.verified_at = utcnow()
