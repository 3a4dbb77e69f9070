"""Staff users. Customers live in ``helpdesk.customers.models``; both can sign in."""

from __future__ import annotations

import enum
from datetime import datetime

from flask_login import UserMixin
from sqlalchemy import JSON, ForeignKey, Integer, LargeBinary, String, false
from sqlalchemy.orm import Mapped, mapped_column

from helpdesk.auth.passwords import hash_password, needs_rehash, verify_password
from helpdesk.dbtypes import UTCDateTime, enum_type, utcnow
from helpdesk.extensions import db
from helpdesk.sanitize import one_line_columns


class Role(enum.StrEnum):
    AGENT = "agent"
    SUPERVISOR = "supervisor"
    ADMIN = "admin"

    @property
    def rank(self) -> int:
        return {"agent": 1, "supervisor": 2, "admin": 3}[self.value]


class PasswordMixin:
    password_hash: Mapped[str | None]

    def set_password(self, password: str) -> None:
        self.password_hash = hash_password(password)

    def check_password(self, password: str) -> bool:
        return bool(self.password_hash) and verify_password(self.password_hash, password)

    def upgrade_password_hash(self, password: str) -> None:
        """After a successful check: rehash a password stored with older parameters."""
        if self.password_hash and needs_rehash(self.password_hash):
            self.set_password(password)


class TotpMixin:
    """Two-step sign-in with an authenticator app (staff, and customers who have a password): the
    secret is Fernet-sealed (``TWO_FACTOR_KEY``); it counts once confirmed by a first code. The last
    time step used refuses a replayed code."""

    totp_secret: Mapped[bytes | None] = mapped_column(LargeBinary)
    totp_confirmed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    totp_last_step: Mapped[int | None] = mapped_column(Integer)

    @property
    def has_totp(self) -> bool:
        return self.totp_confirmed_at is not None


class StaffUser(TotpMixin, PasswordMixin, UserMixin, db.Model):
    __tablename__ = "staff_users"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(254), unique=True)
    name: Mapped[str] = mapped_column(String(120))
    password_hash: Mapped[str | None] = mapped_column(String(255))
    role: Mapped[Role] = mapped_column(enum_type(Role), default=Role.AGENT)
    language: Mapped[str | None] = mapped_column(String(5))
    is_active: Mapped[bool] = mapped_column(default=True)
    # Agents may be allowed to write help articles; supervisors and admins always may.
    can_edit_kb: Mapped[bool] = mapped_column(default=False, server_default=false())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_login_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    is_staff = True
    is_customer = False

    def get_id(self) -> str:
        return f"s:{self.id}"

    _one_line = one_line_columns("name")

    def has_role(self, role: Role) -> bool:
        """Roles are ordered: an admin can do what a supervisor can, who can do what an agent can."""
        return self.role.rank >= role.rank

    @property
    def may_edit_kb(self) -> bool:
        return self.can_edit_kb or self.has_role(Role.SUPERVISOR)

    def __repr__(self) -> str:
        return f"<StaffUser {self.email} {self.role}>"


class TokenPurpose(enum.StrEnum):
    SIGN_IN = "sign_in"  # magic link for customers who only wrote by email
    VERIFY_EMAIL = "verify_email"  # guest case / sign-up: prove the address first
    RESET_PASSWORD = "reset_password"


class EmailToken(db.Model):
    """A single-use emailed link. Only a hash of the token is stored; using it stamps ``used_at``."""

    __tablename__ = "email_tokens"

    id: Mapped[int] = mapped_column(primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    purpose: Mapped[TokenPurpose] = mapped_column(enum_type(TokenPurpose))
    email: Mapped[str] = mapped_column(String(254), index=True)
    payload: Mapped[dict] = mapped_column(JSON, default=dict)  # e.g. a guest's case draft
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class RecoveryCode(db.Model):
    """A one-time code for when the authenticator is lost, of a staff member or a customer. Codes
    are random (50 bits), so a plain SHA-256 of each is stored; using one stamps ``used_at``."""

    __tablename__ = "recovery_codes"

    id: Mapped[int] = mapped_column(primary_key=True)
    staff_id: Mapped[int | None] = mapped_column(ForeignKey("staff_users.id", ondelete="CASCADE"), index=True)
    customer_id: Mapped[int | None] = mapped_column(
        ForeignKey("customers.id", ondelete="CASCADE"), index=True
    )
    code_hash: Mapped[str] = mapped_column(String(64))
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class SignInSession(db.Model):
    """A signed-in browser. The cookie holds a random token, this row its hash: ending the row ends
    the session on its next request, in every web process."""

    __tablename__ = "sign_in_sessions"

    id: Mapped[int] = mapped_column(primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    user_ref: Mapped[str] = mapped_column(String(40), index=True)  # "s:12" or "c:34", as get_id()
    method: Mapped[str] = mapped_column(String(20))  # password, totp, recovery_code, link, ...
    ip: Mapped[str | None] = mapped_column(String(45))
    user_agent: Mapped[str | None] = mapped_column(String(300))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_seen_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class SecuritySettings(db.Model):
    """The one row of sign-in rules an administrator sets (id 1)."""

    __tablename__ = "security_settings"

    id: Mapped[int] = mapped_column(primary_key=True)
    two_factor_roles: Mapped[list] = mapped_column(JSON, default=list)  # roles that must use 2FA
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Passkey(db.Model):
    """A WebAuthn credential of a staff member: a second step after the password, or a sign-in on
    its own (discoverable credential). Only the public key is kept."""

    __tablename__ = "passkeys"

    id: Mapped[int] = mapped_column(primary_key=True)
    staff_id: Mapped[int] = mapped_column(ForeignKey("staff_users.id", ondelete="CASCADE"), index=True)
    credential_id: Mapped[bytes] = mapped_column(LargeBinary, unique=True)
    public_key: Mapped[bytes] = mapped_column(LargeBinary)
    sign_count: Mapped[int] = mapped_column(Integer, default=0)
    name: Mapped[str] = mapped_column(String(80))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
