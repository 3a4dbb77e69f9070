"""Sign-in rules shared by the staff and customer login pages (and later the API)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from flask_babel import gettext as _
from sqlalchemy import func, select

from helpdesk.audit import service as audit
from helpdesk.audit.models import AuditEvent
from helpdesk.auth import notices, password_policy, sessions
from helpdesk.auth.models import StaffUser
from helpdesk.auth.passwords import hash_password, verify_password
from helpdesk.customers.models import Customer, CustomerEmail
from helpdesk.dbtypes import utcnow
from helpdesk.extensions import db
from helpdesk.tickets.errors import DomainError

# Per account: after this many failed sign-ins within the window, even the right password is refused
# until the window has passed. Counted from the audit log, so every web process sees the same count.
MAX_FAILED_SIGN_INS = 5
FAILED_SIGN_IN_WINDOW = timedelta(minutes=15)


@dataclass(frozen=True)
class SignInAttempt:
    """What a sign-in came to; it is audited either way, so the caller commits both outcomes."""

    user: StaffUser | Customer | None
    blocked: bool = False  # too many failed attempts on this account: even the right password is refused


# Checked against when the account does not exist, so a missing account takes as long as a wrong password.
_DUMMY_HASH: str | None = None


def _spend_hash_time(password: str) -> None:
    global _DUMMY_HASH
    if _DUMMY_HASH is None:
        _DUMMY_HASH = hash_password("not-a-real-password")
    verify_password(_DUMMY_HASH, password)


def normalise_email(email: str) -> str:
    return email.strip().lower()


def find_staff(email: str) -> StaffUser | None:
    return db.session.scalar(select(StaffUser).where(func.lower(StaffUser.email) == normalise_email(email)))


def find_customer(email: str) -> Customer | None:
    return db.session.scalar(
        select(Customer).join(CustomerEmail).where(CustomerEmail.email == normalise_email(email))
    )


def authenticate_staff(email: str, password: str, ip: str | None = None) -> SignInAttempt:
    user = find_staff(email)
    return _check(user, email, password, ip, kind="staff")


def authenticate_customer(email: str, password: str, ip: str | None = None) -> SignInAttempt:
    user = find_customer(email)
    return _check(user, email, password, ip, kind="customer")


def recent_failures(email: str) -> int:
    """Failed sign-ins on this address within the window and since its last successful one: a
    colleague's mistyped password this morning does not count against the next sign-in."""
    label = normalise_email(email)
    last_success = (
        select(func.max(AuditEvent.created_at))
        .where(AuditEvent.action == "auth.sign_in", AuditEvent.actor_label == label)
        .scalar_subquery()
    )
    window_start = utcnow() - FAILED_SIGN_IN_WINDOW
    return db.session.scalar(
        select(func.count(AuditEvent.id)).where(
            AuditEvent.action == "auth.sign_in_failed",
            AuditEvent.actor_label == label,
            AuditEvent.created_at >= window_start,
            AuditEvent.created_at > func.coalesce(last_success, window_start),
        )
    )


def _check(user, email: str, password: str, ip: str | None, kind: str) -> SignInAttempt:
    if recent_failures(email) >= MAX_FAILED_SIGN_INS:
        _spend_hash_time(password)  # the same time as any other answer
        audit.record("auth.sign_in_blocked", actor_label=normalise_email(email), ip=ip, kind=kind)
        return SignInAttempt(None, blocked=True)
    if user is None:
        _spend_hash_time(password)
    ok = user is not None and user.is_active and user.check_password(password)
    if ok:
        user.last_login_at = utcnow()
        user.upgrade_password_hash(password)
        # With a second step to come, the password alone does not sign in yet.
        action = "auth.password_accepted" if getattr(user, "has_totp", False) else "auth.sign_in"
        audit.record(action, actor=user, ip=ip, kind=kind)
    else:
        audit.record("auth.sign_in_failed", actor_label=normalise_email(email), ip=ip, kind=kind)
    return SignInAttempt(user if ok else None)


class PasswordRefused(DomainError):
    """A new password the policy does not accept; the message says why."""


def change_password(user: StaffUser | Customer, current: str, new: str, *, ip: str | None) -> str | None:
    """The account page's password change. The current password must be right: a wrong one counts
    towards the account's sign-in lockout like a wrong sign-in, so this form guesses no faster.
    Then every other session of the user ends, in every process, and an email tells the owner.
    Returns the refusal (audited, so the caller commits either way) or None (flushes)."""
    kind = "staff" if user.is_staff else "customer"
    if recent_failures(user.email) >= MAX_FAILED_SIGN_INS:
        _spend_hash_time(current)
        audit.record("auth.sign_in_blocked", actor_label=normalise_email(user.email), ip=ip, kind=kind)
        return _("Too many failed sign-ins. Wait 15 minutes and try again, or reset your password.")
    if not user.check_password(current):
        audit.record(
            "auth.sign_in_failed", actor_label=normalise_email(user.email), ip=ip, kind=kind, form="password"
        )
        return _("Your current password is not right.")
    problem = password_policy.problem_with(new, [user.name or "", user.email or ""])
    if problem:
        raise PasswordRefused(problem)
    user.set_password(new)
    sessions.end_all(user, actor=user, ip=ip, reason="password_changed", keep_current=True)
    audit.record("auth.password_changed", actor=user, target=user.get_id(), ip=ip)
    notices.notify(user, notices.Change.PASSWORD_CHANGED, ip=ip)
    return None


def load_user(user_id: str) -> StaffUser | Customer | None:
    """Flask-Login loader for the prefixed ids in the session: ``s:12`` staff, ``c:34`` customer.
    Only an active account whose sign-in session on this browser still works is loaded (one query)."""
    prefix, _, raw_id = user_id.partition(":")
    model = {"s": StaffUser, "c": Customer}.get(prefix)
    token_hash = sessions.current_token_hash()
    if not raw_id.isdigit() or model is None or token_hash is None:
        return None
    user = db.session.scalar(
        select(model).where(
            model.id == int(raw_id),
            model.is_active.is_(True),
            sessions.live_session_clause(user_id, token_hash),
        )
    )
    if user is not None:
        sessions.note_seen()
    return user
