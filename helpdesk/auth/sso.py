"""Single sign-on for staff with OpenID Connect (Google Workspace, Microsoft Entra ID, Keycloak, Okta).

Authlib does the protocol: the provider's discovery document, the authorisation-code flow with PKCE
(S256), ``state`` and ``nonce`` kept in our signed session and checked on the way back, and the ID
token's RS256 signature (the provider's JWKS), issuer, audience and expiry. Here: the settings, and
which staff member the verified claims name.
"""

from __future__ import annotations

from dataclasses import dataclass

from flask import Flask, current_app
from flask_babel import gettext as _
from sqlalchemy import func, select

from helpdesk.audit import service as audit
from helpdesk.auth.models import Role, StaffUser
from helpdesk.dbtypes import utcnow
from helpdesk.extensions import db
from helpdesk.tickets.errors import DomainError

CLIENT_NAME = "staff_sso"


class SsoRefused(DomainError):
    """The provider vouched for someone who may not sign in here (or did not vouch at all)."""


def is_enabled(app: Flask | None = None) -> bool:
    config = (app or current_app).config
    return bool(config["OIDC_ISSUER"] and config["OIDC_CLIENT_ID"])


def init_app(app: Flask) -> None:
    """One Authlib registry per app with the provider from the settings; none when there is no
    provider (Authlib, 9 MB, is then never imported)."""
    if not is_enabled(app):
        return
    from authlib.integrations.flask_client import OAuth

    oauth = OAuth(app)
    app.extensions["helpdesk_oidc"] = oauth
    issuer = app.config["OIDC_ISSUER"].rstrip("/")
    oauth.register(
        CLIENT_NAME,
        client_id=app.config["OIDC_CLIENT_ID"],
        client_secret=app.config["OIDC_CLIENT_SECRET"] or None,
        server_metadata_url=f"{issuer}/.well-known/openid-configuration",
        client_kwargs={
            "scope": "openid email profile",
            "code_challenge_method": "S256",
            "timeout": app.config["OIDC_TIMEOUT_SECONDS"],
        },
    )


def client():
    """The registered provider; its discovery document must name the configured issuer."""
    provider = current_app.extensions["helpdesk_oidc"].create_client(CLIENT_NAME)
    metadata = provider.load_server_metadata()
    if metadata.get("issuer", "").rstrip("/") != current_app.config["OIDC_ISSUER"].rstrip("/"):
        raise SsoRefused(_("The sign-in provider's settings do not match this helpdesk."))
    return provider


def _allowed_domains() -> set[str]:
    raw = current_app.config["OIDC_AUTO_PROVISION_DOMAINS"]
    return {part.strip().lower().lstrip("@") for part in raw.split(",") if part.strip()}


def _email_verified(claims: dict) -> bool:
    """OpenID's ``email_verified``; Microsoft Entra ID says it with its optional ``xms_edov`` claim
    (the address's domain is verified as owned by the tenant) instead."""
    return claims.get("email_verified") is True or claims.get("xms_edov") in (True, "1", "true")


@dataclass(frozen=True)
class SsoOutcome:
    user: StaffUser | None = None
    refusal: str | None = None


def staff_for_claims(claims: dict, *, ip: str | None) -> SsoOutcome:
    """The active staff member with the claims' verified email, created first when the address's
    domain is allowed to be (flushes). Anything else is refused and audited (the caller commits)."""
    email = (claims.get("email") or "").strip().lower()
    if not email or not _email_verified(claims):
        audit.record("auth.sso_refused", actor_label=email or None, ip=ip, reason="email_not_verified")
        return SsoOutcome(refusal=_("Your sign-in provider has not verified your email address."))
    user = db.session.scalar(select(StaffUser).where(func.lower(StaffUser.email) == email))
    if user is None and email.rpartition("@")[2] in _allowed_domains():
        user = StaffUser(
            email=email,
            name=(claims.get("name") or email.partition("@")[0])[:120],
            role=Role(current_app.config["OIDC_DEFAULT_ROLE"]),
            password_hash=None,
        )
        db.session.add(user)
        db.session.flush()
        audit.record("staff.created", target=f"staff:{user.id}", ip=ip, email=email, via="sso")
    if user is None or not user.is_active:
        audit.record("auth.sso_refused", actor_label=email, ip=ip, reason="no_active_staff")
        return SsoOutcome(refusal=_("There is no active staff account for %(email)s.", email=email))
    user.last_login_at = utcnow()
    audit.record("auth.sign_in", actor=user, ip=ip, kind="staff", method="sso", subject=claims.get("sub"))
    return SsoOutcome(user=user)


def note_failure(reason: str, *, ip: str | None) -> None:
    """A callback whose state, code or ID token did not check out (bad nonce, audience, expiry...)."""
    audit.record("auth.sso_failed", ip=ip, reason=reason)
