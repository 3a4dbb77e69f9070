"""API tokens: issue (shown once), revoke, and look up the token of a request."""

from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta

from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.orm import joinedload

from helpdesk.api.models import ApiToken, TokenScope
from helpdesk.audit import service as audit
from helpdesk.auth.models import Role, StaffUser
from helpdesk.dbtypes import utcnow
from helpdesk.extensions import db
from helpdesk.tickets.errors import NotAllowed

TOKEN_PREFIX = "hdk_"
# Recording every use would turn each read into a write; once a minute is enough to show activity.
LAST_USED_PRECISION = timedelta(minutes=1)


def hash_token(secret: str) -> str:
    return hashlib.sha256(secret.encode("utf-8", "surrogatepass")).hexdigest()


def issue_token(
    staff: StaffUser, *, name: str, scope: TokenScope, actor: StaffUser, ip: str | None = None
) -> tuple[ApiToken, str]:
    """A new token for ``staff``; returns the row and the secret, which is never stored or shown again."""
    secret = TOKEN_PREFIX + secrets.token_urlsafe(32)
    token = ApiToken(
        staff=staff,
        name=name.strip()[:80],
        prefix=secret[: len(TOKEN_PREFIX) + 6],
        token_hash=hash_token(secret),
        scope=scope,
    )
    db.session.add(token)
    db.session.flush()
    audit.record(
        "api_token.created",
        actor=actor,
        target=f"api_token:{token.id}",
        ip=ip,
        staff=staff.email,
        scope=scope.value,
        name=token.name,
    )
    return token, secret


def may_revoke(token: ApiToken, actor: StaffUser) -> bool:
    """Staff revoke their own tokens; admins anybody's."""
    return token.staff_id == actor.id or actor.has_role(Role.ADMIN)


def revoke_token(token: ApiToken, *, actor: StaffUser, ip: str | None = None) -> None:
    if not may_revoke(token, actor):
        raise NotAllowed(_("You can only revoke your own tokens."))
    if token.revoked_at is None:
        token.revoked_at = utcnow()
        audit.record(
            "api_token.revoked", actor=actor, target=f"api_token:{token.id}", ip=ip, staff=token.staff.email
        )


def active_token(secret: str) -> ApiToken | None:
    """The live token with this secret, of an active staff user; notes when it was last used."""
    token = db.session.scalar(
        select(ApiToken)
        .where(ApiToken.token_hash == hash_token(secret), ApiToken.revoked_at.is_(None))
        .options(joinedload(ApiToken.staff))
    )
    if token is None or not token.staff.is_active:
        return None
    now = utcnow()
    if token.last_used_at is None or now - token.last_used_at > LAST_USED_PRECISION:
        token.last_used_at = now  # committed by the request's authentication (``api.auth``)
    return token


def tokens_of(staff: StaffUser | None) -> list[ApiToken]:
    """Tokens of one staff user, or everybody's (``None``: the admin list), newest first."""
    query = select(ApiToken).options(joinedload(ApiToken.staff)).order_by(ApiToken.id.desc())
    if staff is not None:
        query = query.where(ApiToken.staff_id == staff.id)
    return list(db.session.scalars(query))
