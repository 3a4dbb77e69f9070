"""Emails that tell a user their sign-in changed (OWASP ASVS 2.2.3): a new password, two-step
sign-in turned off or reset, a new passkey. Someone who took over the account cannot hide it from
its owner. Queued in the outbox within the change's transaction, in the user's language."""

from __future__ import annotations

import enum

from flask import current_app
from flask_babel import force_locale
from flask_babel import gettext as _

from helpdesk.dbtypes import utcnow
from helpdesk.i18n import format_local_datetime
from helpdesk.mail.outbox import queue_email
from helpdesk.urls import external_url

KIND = "security_notice"  # the outbox's kind of these emails


class Change(enum.StrEnum):
    PASSWORD_CHANGED = "password_changed"
    TWO_FACTOR_ON = "two_factor_on"
    TWO_FACTOR_OFF = "two_factor_off"
    TWO_FACTOR_RESET = "two_factor_reset"
    PASSKEY_ADDED = "passkey_added"


def _texts(change: Change, detail: str) -> tuple[str, str]:
    """(subject, first paragraph) in the current locale."""
    if change is Change.PASSWORD_CHANGED:
        return _("Your password was changed"), _("The password of your account was changed.")
    if change is Change.TWO_FACTOR_ON:
        return _("Two-step sign-in is on"), _("Two-step sign-in was turned on for your account.")
    if change is Change.TWO_FACTOR_OFF:
        return _("Two-step sign-in was turned off"), _(
            "Two-step sign-in was turned off for your account: a password alone now signs you in."
        )
    if change is Change.TWO_FACTOR_RESET:
        return _("Your two-step sign-in was reset"), _(
            "An administrator reset your two-step sign-in: your authenticator app, recovery codes "
            "and any passkeys no longer work. Set it up again from your account page."
        )
    return _("A passkey was added to your account"), _(
        'A new passkey, "%(name)s", was added to your account. It can sign you in without a password.',
        name=detail,
    )


def notify(user, change: Change, *, ip: str | None, detail: str = "") -> None:
    """Queue the email about ``change`` to ``user``'s address (flushes nothing; the caller commits)."""
    if not user.email:
        return
    sign_in = "auth.staff_login" if user.is_staff else "auth.customer_login"
    with force_locale(user.language or current_app.config["BABEL_DEFAULT_LOCALE"]):
        subject, lead = _texts(change, detail)
        text = "\n".join(
            [
                lead,
                "",
                _("When: %(when)s", when=format_local_datetime(utcnow())),
                _("From the address: %(ip)s", ip=ip or "—"),
                "",
                _(
                    "If this was you, there is nothing to do. If it was not, sign in at once, change "
                    "your password and end your other sessions, or ask us for help:"
                ),
                external_url(sign_in),
            ]
        )
    queue_email(to=user.email, subject=subject, text=text, kind=KIND)
