"""Sign-in sessions kept on the server: listed to their owner, ended by them or an administrator.

The signed session cookie carries a random token; ``sign_in_sessions`` keeps its SHA-256 with who,
how, from where and when. Loading the user checks the row in the same query, so ending a row (or an
idle or too-old session) signs the browser out on its very next request, in every web process.
"""

from __future__ import annotations

import hashlib
import secrets
import time
from datetime import timedelta

from flask import current_app, g, request, session
from flask_login import login_user
from sqlalchemy import exists, select, update

from helpdesk.audit import service as audit
from helpdesk.auth.models import SignInSession
from helpdesk.dbtypes import utcnow
from helpdesk.extensions import db

TOKEN_KEY = "_sid"
SEEN_KEY = "_seen"
PENDING_KEY = "pending_sign_in"  # the password was right, the second step is still to come
SEEN_EVERY_SECONDS = 60  # "last seen" is written at most this often per session


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def begin(user, method: str, *, remember: bool = False) -> SignInSession:
    """Sign ``user`` in on this browser with a new session record (flushes; the caller commits)."""
    token = secrets.token_urlsafe(32)
    now = utcnow()
    record = SignInSession(
        token_hash=_hash(token),
        user_ref=user.get_id(),
        method=method,
        ip=request.remote_addr,
        user_agent=(request.user_agent.string or "")[:300] or None,
        created_at=now,
        last_seen_at=now,
    )
    db.session.add(record)
    db.session.flush()
    session.pop(PENDING_KEY, None)
    login_user(user)  # no remember-me cookie: "keep me signed in" makes this cookie outlive the browser
    session[TOKEN_KEY] = token
    session[SEEN_KEY] = int(time.time())
    session.permanent = remember
    return record


def current_token_hash() -> str | None:
    token = session.get(TOKEN_KEY)
    return _hash(token) if isinstance(token, str) else None


def _still_live() -> tuple:
    """SQL conditions: a session neither ended, idle too long nor too old."""
    now = utcnow()
    return (
        SignInSession.ended_at.is_(None),
        SignInSession.last_seen_at > now - timedelta(minutes=current_app.config["SESSION_IDLE_MINUTES"]),
        SignInSession.created_at > now - timedelta(hours=current_app.config["SESSION_MAX_HOURS"]),
    )


def live_session_clause(user_ref: str, token_hash: str):
    """SQL: this browser's session of this user still works."""
    return exists(
        select(SignInSession.id).where(
            SignInSession.token_hash == token_hash, SignInSession.user_ref == user_ref, *_still_live()
        )
    )


def note_seen() -> None:
    """Called once the user is loaded: ask for "last seen" to be written after this request."""
    seen = session.get(SEEN_KEY)
    if not isinstance(seen, int) or time.time() - seen >= SEEN_EVERY_SECONDS:
        g.session_seen_due = True


def write_last_seen() -> None:
    """This browser's session was used now (flushes; at most once a minute, see ``note_seen``)."""
    token_hash = current_token_hash()
    if token_hash:
        db.session.execute(
            update(SignInSession)
            .where(SignInSession.token_hash == token_hash, SignInSession.ended_at.is_(None))
            .values(last_seen_at=utcnow(), ip=request.remote_addr)
        )
        session[SEEN_KEY] = int(time.time())


def active_sessions(user) -> list[SignInSession]:
    """The user's sessions that still work, most recently used first."""
    return list(
        db.session.scalars(
            select(SignInSession)
            .where(SignInSession.user_ref == user.get_id(), *_still_live())
            .order_by(SignInSession.last_seen_at.desc(), SignInSession.id.desc())
        )
    )


def end_one(user, session_id: int, *, actor, ip: str | None) -> bool:
    """End one of ``user``'s sessions; False when it is not theirs or already over (flushes)."""
    ended = db.session.execute(
        update(SignInSession)
        .where(
            SignInSession.id == session_id,
            SignInSession.user_ref == user.get_id(),
            SignInSession.ended_at.is_(None),
        )
        .values(ended_at=utcnow())
        .returning(SignInSession.id)
    ).first()
    if ended:
        audit.record("auth.session_ended", actor=actor, target=user.get_id(), ip=ip, session=session_id)
    return ended is not None


def end_all(user, *, actor, ip: str | None, reason: str, keep_current: bool = False) -> int:
    """End every session of ``user`` (but this browser's, with ``keep_current``); returns how many."""
    query = update(SignInSession).where(
        SignInSession.user_ref == user.get_id(), SignInSession.ended_at.is_(None)
    )
    current = current_token_hash() if keep_current else None
    if current:
        query = query.where(SignInSession.token_hash != current)
    count = len(db.session.execute(query.values(ended_at=utcnow()).returning(SignInSession.id)).all())
    audit.record("auth.sessions_ended", actor=actor, target=user.get_id(), ip=ip, count=count, reason=reason)
    return count


def end_current() -> None:
    """Signing out: this browser's session record is ended too (flushes)."""
    token_hash = current_token_hash()
    if token_hash:
        db.session.execute(
            update(SignInSession)
            .where(SignInSession.token_hash == token_hash, SignInSession.ended_at.is_(None))
            .values(ended_at=utcnow())
        )
    session.pop(TOKEN_KEY, None)
