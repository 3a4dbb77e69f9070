"""Two-step sign-in for staff, and for customers who have a password: authenticator-app codes (TOTP,
RFC 6238) and one-time recovery codes. The same rules for both; only staff have an administrator's
rule that requires it.

The TOTP secret is sealed at rest (``TWO_FACTOR_KEY``, see ``helpdesk.sealing``). A code is accepted
for the previous, current or next 30-second step, and only for a step later than the last one used,
so a code seen over a shoulder or replayed from a log is refused. Failed codes are counted per
account from the audit log (every web process sees the same count); the code form also has its own
limit per client address (``SECOND_STEP_RATE_LIMIT``).
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import time
from dataclasses import dataclass
from datetime import timedelta

import pyotp
import segno
from flask import current_app
from flask_babel import gettext as _
from markupsafe import Markup
from sqlalchemy import delete, func, select, update

from helpdesk import sealing
from helpdesk.audit import service as audit
from helpdesk.audit.models import AuditEvent
from helpdesk.auth import notices
from helpdesk.auth.models import RecoveryCode, Role, SecuritySettings, StaffUser
from helpdesk.customers.models import Customer
from helpdesk.dbtypes import utcnow
from helpdesk.extensions import db
from helpdesk.tickets.errors import DomainError

KEY_SETTING = "TWO_FACTOR_KEY"
RECOVERY_CODE_COUNT = 10
RECOVERY_ALPHABET = "abcdefghjkmnpqrstuvwxyz23456789"  # no 0/o, 1/l/i to misread
MAX_FAILED_CODES = 5
FAILED_CODE_WINDOW = timedelta(minutes=15)


TwoStepUser = StaffUser | Customer


class TwoFactorError(DomainError):
    """A code or a setting was refused; the message says why."""


def _not_configured() -> str:
    return _("Two-step sign-in is not configured on this server (HELPDESK_2FA_KEY).")


def _secret_of(user: TwoStepUser) -> str:
    try:
        secret = sealing.unseal(user.totp_secret, KEY_SETTING)
    except sealing.SealingKeyMissing as exc:
        raise TwoFactorError(
            _("Two-step sign-in is not configured on this server (HELPDESK_2FA_KEY).")
        ) from exc
    except sealing.SealBroken as exc:
        raise TwoFactorError(
            _("The authenticator key cannot be read. Ask an administrator to reset your two-step sign-in.")
        ) from exc
    if not secret:
        raise TwoFactorError(_("Set up your authenticator app first."))
    return secret


# --- enrolment -------------------------------------------------------------------------------


def start_enrolment(user: TwoStepUser) -> None:
    """A new, unconfirmed secret for ``user`` (flushes). An enrolled user must turn 2FA off first;
    a customer needs a password first (the code is the step after it)."""
    if user.has_totp:
        raise TwoFactorError(_("Your authenticator app is already set up."))
    if user.is_customer and not user.password_hash:
        raise TwoFactorError(_("Choose a password first: the code is asked after it."))
    if not sealing.is_configured(KEY_SETTING):
        raise TwoFactorError(_not_configured())
    user.totp_secret = sealing.seal(pyotp.random_base32(), KEY_SETTING)
    user.totp_last_step = None
    db.session.flush()


def pending_secret(user: TwoStepUser) -> str | None:
    """The secret to show while enrolment waits for its first code (None when not started)."""
    if user.has_totp or user.totp_secret is None:
        return None
    return _secret_of(user)


def provisioning_uri(user: TwoStepUser, secret: str) -> str:
    issuer = current_app.config.get("HELPDESK_NAME") or "Helpdesk"
    return pyotp.TOTP(secret).provisioning_uri(name=user.email, issuer_name=issuer)


def qr_svg(uri: str) -> Markup:
    """The QR code as inline SVG, drawn here: the secret never leaves our server for a QR service."""
    return Markup(segno.make(uri, error="m").svg_inline(scale=5, dark="#111", light="#fff", border=2))


def confirm_enrolment(user: TwoStepUser, code: str, *, ip: str | None) -> list[str]:
    """The first code proves the app holds the secret: 2FA is on, and ten recovery codes are made
    (returned once, in clear; flushes)."""
    if user.has_totp or user.totp_secret is None:
        raise TwoFactorError(_("Set up your authenticator app first."))
    if not _accept_totp(user, code):
        raise TwoFactorError(
            _("That code is not right. Check the time on your phone and try the newest code.")
        )
    user.totp_confirmed_at = utcnow()
    audit.record("auth.totp_enabled", actor=user, target=user.get_id(), ip=ip)
    notices.notify(user, notices.Change.TWO_FACTOR_ON, ip=ip)
    return new_recovery_codes(user, ip=ip)


def disable(user: TwoStepUser, *, actor, ip: str | None, reason: str) -> None:
    """Turn 2FA off: secret and recovery codes are deleted, and the owner is told by email: turned
    off by themselves (``reason="by_user"``) or reset by an administrator (flushes)."""
    change = notices.Change.TWO_FACTOR_OFF if reason == "by_user" else notices.Change.TWO_FACTOR_RESET
    notices.notify(user, change, ip=ip)
    user.totp_secret = None
    user.totp_confirmed_at = None
    user.totp_last_step = None
    db.session.execute(delete(RecoveryCode).where(_codes_of(user)))
    audit.record("auth.totp_disabled", actor=actor, target=user.get_id(), ip=ip, reason=reason)
    db.session.flush()


# --- codes at sign-in ------------------------------------------------------------------------


def _normalised_digits(code: str) -> str:
    return "".join(ch for ch in code if not ch.isspace())


def _accept_totp(user: TwoStepUser, code: str) -> bool:
    """True when ``code`` is the code of a step near now and later than the last one used; that
    step is then recorded, in one conditional UPDATE, so two requests cannot both use it."""
    code = _normalised_digits(code)
    if len(code) != 6 or not code.isdigit():
        return False
    totp = pyotp.TOTP(_secret_of(user))
    current = int(time.time()) // totp.interval
    for step in (current - 1, current, current + 1):
        if hmac.compare_digest(totp.generate_otp(step), code):
            model = StaffUser if user.is_staff else Customer
            claimed = db.session.execute(
                update(model)
                .where(
                    model.id == user.id,
                    (model.totp_last_step.is_(None)) | (model.totp_last_step < step),
                )
                .values(totp_last_step=step)
                .returning(model.id)
            ).first()
            if claimed:
                db.session.refresh(user, ["totp_last_step"])
            return claimed is not None
    return False


def _codes_of(user: TwoStepUser):
    """SQL: the recovery codes of this staff member or customer."""
    if user.is_staff:
        return RecoveryCode.staff_id == user.id
    return RecoveryCode.customer_id == user.id


def _hash_recovery(code: str) -> str:
    return hashlib.sha256(code.replace("-", "").strip().lower().encode()).hexdigest()


def _accept_recovery_code(user: TwoStepUser, code: str) -> bool:
    used = db.session.execute(
        update(RecoveryCode)
        .where(
            _codes_of(user),
            RecoveryCode.code_hash == _hash_recovery(code),
            RecoveryCode.used_at.is_(None),
        )
        .values(used_at=utcnow())
        .returning(RecoveryCode.id)
    ).first()
    return used is not None


def recent_code_failures(user: TwoStepUser) -> int:
    """Wrong codes for this account within the window and since its last completed sign-in."""
    last_success = (
        select(func.max(AuditEvent.created_at))
        .where(AuditEvent.action == "auth.sign_in", AuditEvent.actor == user.get_id())
        .scalar_subquery()
    )
    window_start = utcnow() - FAILED_CODE_WINDOW
    return db.session.scalar(
        select(func.count(AuditEvent.id)).where(
            AuditEvent.action == "auth.second_step_failed",
            AuditEvent.target == user.get_id(),
            AuditEvent.created_at >= window_start,
            AuditEvent.created_at > func.coalesce(last_success, window_start),
        )
    )


@dataclass(frozen=True)
class SecondStep:
    """How a sign-in's second step went: passed with ``method``, or refused with ``refusal``."""

    method: str | None = None
    refusal: str | None = None


def verify_second_step(user: TwoStepUser, code: str, *, ip: str | None) -> SecondStep:
    """Check a sign-in's second step ("totp" or "recovery_code"). A refusal is audited and counts
    towards the account's limit, so the caller commits either way."""
    if recent_code_failures(user) >= MAX_FAILED_CODES:
        audit.record("auth.second_step_blocked", actor_label=user.email, target=user.get_id(), ip=ip)
        return SecondStep(refusal=_("Too many wrong codes. Wait 15 minutes and sign in again."))
    digits = _normalised_digits(code)
    if digits.isdigit():
        method = "totp" if _accept_totp(user, digits) else None
    else:
        method = "recovery_code" if _accept_recovery_code(user, code) else None
    if method is None:
        audit.record("auth.second_step_failed", actor_label=user.email, target=user.get_id(), ip=ip)
        return SecondStep(refusal=_("That code is not right, or it has already been used."))
    user.last_login_at = utcnow()
    kind = "staff" if user.is_staff else "customer"
    audit.record("auth.sign_in", actor=user, actor_label=user.email, ip=ip, kind=kind, method=method)
    if method == "recovery_code":
        audit.record("auth.recovery_code_used", actor_label=user.email, target=user.get_id(), ip=ip)
    return SecondStep(method=method)


def check_current_code(user: TwoStepUser, code: str) -> None:
    """Before turning 2FA off: proof that the person holds the authenticator (or a recovery code)."""
    digits = _normalised_digits(code)
    ok = _accept_totp(user, digits) if digits.isdigit() else _accept_recovery_code(user, code)
    if not ok:
        raise TwoFactorError(_("That code is not right, or it has already been used."))


# --- recovery codes --------------------------------------------------------------------------


def _random_recovery_code() -> str:
    raw = "".join(secrets.choice(RECOVERY_ALPHABET) for _ in range(10))
    return f"{raw[:5]}-{raw[5:]}"


def new_recovery_codes(user: TwoStepUser, *, ip: str | None) -> list[str]:
    """Ten fresh codes replace any earlier ones (returned in clear once; flushes)."""
    db.session.execute(delete(RecoveryCode).where(_codes_of(user)))
    codes = [_random_recovery_code() for _ in range(RECOVERY_CODE_COUNT)]
    owner = {"staff_id": user.id} if user.is_staff else {"customer_id": user.id}
    db.session.add_all(RecoveryCode(**owner, code_hash=_hash_recovery(code)) for code in codes)
    audit.record("auth.recovery_codes_created", actor_label=user.email, target=user.get_id(), ip=ip)
    db.session.flush()
    return codes


def unused_recovery_codes(user: TwoStepUser) -> int:
    return db.session.scalar(
        select(func.count(RecoveryCode.id)).where(_codes_of(user), RecoveryCode.used_at.is_(None))
    )


# --- the administrator's rule ----------------------------------------------------------------


def settings() -> SecuritySettings:
    row = db.session.get(SecuritySettings, 1)
    return row if row is not None else SecuritySettings(id=1, two_factor_roles=[])


def required_roles() -> set[Role]:
    return {Role(value) for value in settings().two_factor_roles or [] if value in Role._value2member_map_}


def is_required_for(user: TwoStepUser) -> bool:
    """Only staff roles can be required to use it; for customers it is their choice."""
    return user.is_staff and user.role in required_roles()


def set_required_roles(roles: set[Role], *, actor, ip: str | None) -> int:
    """Require 2FA for these roles. Signed-in staff of those roles without it are signed out, so
    they enrol at their next sign-in; returns how many were (flushes)."""
    from helpdesk.auth import sessions

    row = db.session.get(SecuritySettings, 1)
    if row is None:
        row = SecuritySettings(id=1)
        db.session.add(row)
    row.two_factor_roles = sorted(role.value for role in roles)
    row.updated_at = utcnow()
    audit.record("auth.two_factor_required", actor=actor, ip=ip, roles=row.two_factor_roles)
    without = db.session.scalars(
        select(StaffUser).where(
            StaffUser.role.in_(list(roles)), StaffUser.totp_confirmed_at.is_(None), StaffUser.is_active
        )
    )
    signed_out = sum(
        1 for user in without if sessions.end_all(user, actor=actor, ip=ip, reason="two_factor_required")
    )
    db.session.flush()
    return signed_out
