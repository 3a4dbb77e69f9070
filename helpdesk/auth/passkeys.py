"""Passkeys (WebAuthn) for staff, with the ``webauthn`` library: registered from the security page,
used as the second step after the password or to sign in without one (discoverable credentials).

The browser signs our one-time challenge; the library checks the challenge, origin, relying-party
id, user presence and the signature with the stored public key. A sign counter that does not grow
(a cloned authenticator) is refused by the library too. It is imported by the passkey steps, not
when a web process starts (about 5 MB with what it imports).
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlsplit

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import delete, func, select

from helpdesk.audit import service as audit
from helpdesk.auth import notices
from helpdesk.auth.models import Passkey, StaffUser
from helpdesk.dbtypes import utcnow
from helpdesk.extensions import db
from helpdesk.tickets.errors import DomainError


class PasskeyError(DomainError):
    """A passkey could not be registered; the message says why."""


@dataclass(frozen=True)
class PasskeySignIn:
    user: StaffUser | None = None
    refusal: str | None = None


def _relying_party() -> tuple[str, str]:
    """The site's domain (RP id) and origin: set explicitly, or those of HELPDESK_BASE_URL."""
    base = urlsplit(current_app.config["BASE_URL"])
    rp_id = current_app.config["WEBAUTHN_RP_ID"] or base.hostname or "localhost"
    origin = current_app.config["WEBAUTHN_ORIGIN"] or f"{base.scheme}://{base.netloc}"
    return rp_id, origin


def passkeys_of(user: StaffUser) -> list[Passkey]:
    return list(db.session.scalars(select(Passkey).where(Passkey.staff_id == user.id).order_by(Passkey.id)))


def has_passkey(user: StaffUser) -> bool:
    return bool(db.session.scalar(select(func.count(Passkey.id)).where(Passkey.staff_id == user.id)))


def staff_with_passkeys() -> set[int]:
    return set(db.session.scalars(select(Passkey.staff_id).distinct()))


def registration_options(user: StaffUser) -> tuple[str, str]:
    """The browser's ``navigator.credentials.create`` options (JSON) and the challenge to keep."""
    import webauthn
    from webauthn.helpers import bytes_to_base64url
    from webauthn.helpers.structs import (
        AuthenticatorSelectionCriteria,
        PublicKeyCredentialDescriptor,
        ResidentKeyRequirement,
        UserVerificationRequirement,
    )

    rp_id, _origin = _relying_party()
    options = webauthn.generate_registration_options(
        rp_id=rp_id,
        rp_name=current_app.config.get("HELPDESK_NAME") or "Helpdesk",
        user_id=f"staff:{user.id}".encode(),
        user_name=user.email,
        user_display_name=user.name,
        authenticator_selection=AuthenticatorSelectionCriteria(
            resident_key=ResidentKeyRequirement.REQUIRED,
            user_verification=UserVerificationRequirement.REQUIRED,
        ),
        exclude_credentials=[PublicKeyCredentialDescriptor(id=p.credential_id) for p in passkeys_of(user)],
    )
    return webauthn.options_to_json(options), bytes_to_base64url(options.challenge)


def register(user: StaffUser, credential: dict, challenge: str, name: str, *, ip: str | None) -> Passkey:
    """Keep a new passkey once its attestation checks out (flushes)."""
    import webauthn
    from webauthn.helpers import base64url_to_bytes
    from webauthn.helpers.exceptions import WebAuthnException

    rp_id, origin = _relying_party()
    try:
        verified = webauthn.verify_registration_response(
            credential=credential,
            expected_challenge=base64url_to_bytes(challenge),
            expected_rp_id=rp_id,
            expected_origin=origin,
            require_user_verification=True,
        )
    except (WebAuthnException, ValueError, KeyError, TypeError) as exc:
        raise PasskeyError(_("The passkey could not be added. Try again.")) from exc
    passkey = Passkey(
        staff_id=user.id,
        credential_id=verified.credential_id,
        public_key=verified.credential_public_key,
        sign_count=verified.sign_count,
        name=(name or "").strip()[:80] or _("Passkey"),
    )
    db.session.add(passkey)
    db.session.flush()
    audit.record("auth.passkey_added", actor=user, target=user.get_id(), ip=ip, passkey=passkey.id)
    notices.notify(user, notices.Change.PASSKEY_ADDED, ip=ip, detail=passkey.name)
    return passkey


def remove(user: StaffUser, passkey_id: int, *, ip: str | None) -> bool:
    passkey = db.session.get(Passkey, passkey_id)
    if passkey is None or passkey.staff_id != user.id:
        return False
    db.session.delete(passkey)
    audit.record("auth.passkey_removed", actor=user, target=user.get_id(), ip=ip, passkey=passkey_id)
    db.session.flush()
    return True


def remove_all(user: StaffUser, *, actor, ip: str | None) -> None:
    """An administrator's reset: the user's passkeys stop working (flushes)."""
    db.session.execute(delete(Passkey).where(Passkey.staff_id == user.id))
    audit.record("auth.passkeys_removed", actor=actor, target=user.get_id(), ip=ip)
    db.session.flush()


def authentication_options(user: StaffUser | None) -> tuple[str, str]:
    """``navigator.credentials.get`` options: this user's passkeys (second step), or any passkey of
    this site the device holds (sign-in without a password)."""
    import webauthn
    from webauthn.helpers import bytes_to_base64url
    from webauthn.helpers.structs import PublicKeyCredentialDescriptor, UserVerificationRequirement

    rp_id, _origin = _relying_party()
    allowed = [PublicKeyCredentialDescriptor(id=p.credential_id) for p in passkeys_of(user)] if user else []
    options = webauthn.generate_authentication_options(
        rp_id=rp_id, allow_credentials=allowed, user_verification=UserVerificationRequirement.REQUIRED
    )
    return webauthn.options_to_json(options), bytes_to_base64url(options.challenge)


def authenticate(
    credential: dict, challenge: str, *, only: StaffUser | None, ip: str | None
) -> PasskeySignIn:
    """Check a signed challenge; refusals are audited (the caller commits either way)."""
    import webauthn
    from webauthn.helpers import base64url_to_bytes
    from webauthn.helpers.exceptions import WebAuthnException

    rp_id, origin = _relying_party()
    refused = PasskeySignIn(refusal=_("That passkey was not accepted."))
    try:
        credential_id = base64url_to_bytes(credential["rawId"])
    except (KeyError, TypeError, ValueError):
        return refused
    passkey = db.session.scalar(select(Passkey).where(Passkey.credential_id == credential_id))
    user = db.session.get(StaffUser, passkey.staff_id) if passkey else None
    if passkey is None or user is None or not user.is_active or (only is not None and user.id != only.id):
        audit.record("auth.passkey_failed", ip=ip, reason="unknown_credential")
        return refused
    try:
        verified = webauthn.verify_authentication_response(
            credential=credential,
            expected_challenge=base64url_to_bytes(challenge),
            expected_rp_id=rp_id,
            expected_origin=origin,
            credential_public_key=passkey.public_key,
            credential_current_sign_count=passkey.sign_count,
            require_user_verification=True,
        )
    except (WebAuthnException, ValueError, KeyError, TypeError):
        audit.record("auth.passkey_failed", actor_label=user.email, target=user.get_id(), ip=ip)
        return refused
    passkey.sign_count = verified.new_sign_count
    passkey.last_used_at = user.last_login_at = utcnow()
    audit.record("auth.sign_in", actor=user, ip=ip, kind="staff", method="passkey", passkey=passkey.id)
    return PasskeySignIn(user=user)
