"""Emails about sign-in changes (OWASP ASVS 2.2.3), queued in the outbox within the change and
written in the owner's language: two-step sign-in turned on, turned off, reset by an administrator.
(A password change: tests/auth/test_password_change.py; a new passkey: the browser journey.)"""

from sqlalchemy import select

from helpdesk.auth.models import Role, StaffUser
from helpdesk.auth.notices import KIND
from helpdesk.extensions import db
from helpdesk.mail.models import OutboundEmail
from tests.auth.test_two_factor import code_at, enrol
from tests.factories import make_staff


def subjects_to(address: str) -> list[str]:
    db.session.expire_all()
    return list(
        db.session.scalars(
            select(OutboundEmail.subject)
            .where(OutboundEmail.to == address, OutboundEmail.kind == KIND)
            .order_by(OutboundEmail.id)
        )
    )


def test_turning_two_step_on_and_off_emails_the_owner_in_english(client, login):
    agent = make_staff(language="en")
    login(agent)
    secret, _codes = enrol(client)
    assert subjects_to(agent.email) == ["Two-step sign-in is on"]
    off = client.submit("/account/security/authenticator/off", {"code": code_at(secret, 30)})
    assert off.status_code == 303
    assert subjects_to(agent.email) == ["Two-step sign-in is on", "Two-step sign-in was turned off"]
    [text] = db.session.scalars(
        select(OutboundEmail.text).where(OutboundEmail.subject == "Two-step sign-in was turned off")
    )
    assert "a password alone now signs you in" in text and "/staff/login" in text


def test_a_wrong_code_turns_nothing_off_and_sends_nothing(client, login):
    agent = make_staff(language="en")
    login(agent)
    enrol(client)
    client.submit("/account/security/authenticator/off", {"code": "000000"})
    assert subjects_to(agent.email) == ["Two-step sign-in is on"]
    assert db.session.get(StaffUser, agent.id).has_totp


def test_an_administrators_reset_is_emailed_in_arabic(client, login):
    agent = make_staff(language="ar")
    login(agent)
    enrol(client)
    client.submit("/logout")
    login(make_staff(Role.ADMIN))
    assert client.submit(f"/admin/staff/{agent.id}/two-factor/reset").status_code == 303
    assert subjects_to(agent.email)[-1] == "تمت إعادة ضبط التحقق بخطوتين لحسابك"
