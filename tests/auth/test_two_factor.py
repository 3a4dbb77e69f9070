"""Two-step sign-in for staff: enrolment with a QR code and key, codes at sign-in (wrong, expired,
replayed), recovery codes, the per-account and per-address limits, the administrator's rule.

The codes are computed from the key the setup page shows, as an authenticator app would."""

import re
import time

import pyotp
import pytest
from sqlalchemy import select

from helpdesk.audit.models import AuditEvent
from helpdesk.auth import twofactor
from helpdesk.auth.models import RecoveryCode, Role, StaffUser
from helpdesk.extensions import db
from tests.factories import PASSWORD, make_staff


def actions() -> list[str]:
    return list(db.session.scalars(select(AuditEvent.action).order_by(AuditEvent.id)))


def code_at(secret: str, seconds_from_now: float = 0) -> str:
    return pyotp.TOTP(secret).at(time.time() + seconds_from_now)


def next_code(secret: str) -> str:
    """The next 30 seconds' code (accepted now): the current one went to confirm the enrolment."""
    return code_at(secret, 30)


def wrong_code(secret: str) -> str:
    valid = {code_at(secret, offset) for offset in (-30, 0, 30)}
    return next(f"{n:06d}" for n in range(1000) if f"{n:06d}" not in valid)


def password_step(client, user, **extra):
    return client.submit("/staff/login", {"email": user.email, "password": PASSWORD, **extra})


def enrol(client) -> tuple[str, list[str]]:
    """On the setup page: start, read the key shown for manual entry, confirm with a first code."""
    client.submit("/account/security/authenticator", {"action": "start"})
    page = client.get("/account/security/authenticator").get_data(as_text=True)
    assert "<svg" in page  # the QR code, drawn by our server
    secret = re.search(r'class="token-value totp-secret">([A-Z2-7]+)<', page).group(1)
    done = client.submit("/account/security/authenticator", {"action": "confirm", "code": code_at(secret)})
    assert done.status_code == 200, done.get_data(as_text=True)[:400]
    codes = re.findall(r"<code>([a-z2-9]{5}-[a-z2-9]{5})</code>", done.get_data(as_text=True))
    return secret, codes


@pytest.fixture
def enrolled(client, login):
    """An agent with an authenticator app and recovery codes, signed out again."""
    agent = make_staff(email="two-step@staff.test")
    login(agent)
    secret, codes = enrol(client)
    client.submit("/logout")
    db.session.expire_all()
    return agent, secret, codes


def test_enrolment_shows_a_qr_code_and_key_and_needs_a_right_first_code(client, login):
    agent = make_staff()
    login(agent)
    client.submit("/account/security/authenticator", {"action": "start"})
    page = client.get("/account/security/authenticator").get_data(as_text=True)
    secret = re.search(r'class="token-value totp-secret">([A-Z2-7]+)<', page).group(1)
    assert 'role="img"' in page and "<svg" in page and "otpauth" not in page.split("<svg")[0]

    refused = client.submit(
        "/account/security/authenticator", {"action": "confirm", "code": wrong_code(secret)}
    )
    assert refused.status_code == 400
    db.session.expire_all()
    assert not db.session.get(StaffUser, agent.id).has_totp

    done = client.submit("/account/security/authenticator", {"action": "confirm", "code": code_at(secret)})
    codes = re.findall(r"<code>([a-z2-9]{5}-[a-z2-9]{5})</code>", done.get_data(as_text=True))
    assert len(set(codes)) == 10
    db.session.expire_all()
    user = db.session.get(StaffUser, agent.id)
    assert user.has_totp
    # Sealed at rest: the stored bytes are not the key, and only hashes of the recovery codes are kept.
    assert secret.encode() not in user.totp_secret
    hashes = set(db.session.scalars(select(RecoveryCode.code_hash).where(RecoveryCode.staff_id == agent.id)))
    assert len(hashes) == 10 and not hashes & set(codes)
    assert "auth.totp_enabled" in actions() and "auth.recovery_codes_created" in actions()


def test_sign_in_needs_the_code_after_the_password(client, enrolled):
    agent, secret, _codes = enrolled
    response = password_step(client, agent)
    assert response.status_code == 303 and response.location.endswith("/staff/login/code")
    assert client.get("/agent").status_code == 302  # not signed in yet
    assert "auth.password_accepted" in actions()

    signed_in = client.submit("/staff/login/code", {"code": next_code(secret)})
    assert signed_in.status_code == 303
    assert client.get("/agent").status_code == 200
    assert actions()[-1] == "auth.sign_in" or "auth.sign_in" in actions()[-3:]


def test_wrong_expired_and_replayed_codes_are_refused(client, enrolled):
    agent, secret, _codes = enrolled
    password_step(client, agent)
    assert client.submit("/staff/login/code", {"code": wrong_code(secret)}).status_code == 401
    expired = code_at(secret, -120)
    if expired not in {code_at(secret, offset) for offset in (-30, 0, 30)}:
        assert client.submit("/staff/login/code", {"code": expired}).status_code == 401

    code = next_code(secret)
    assert client.submit("/staff/login/code", {"code": code}).status_code == 303
    client.submit("/logout")

    # The same code again, within its 30 seconds: refused.
    password_step(client, agent)
    replay = client.submit("/staff/login/code", {"code": code})
    assert replay.status_code == 401
    assert "already been used" in replay.get_data(as_text=True) or "استخدام" in replay.get_data(as_text=True)
    assert client.get("/agent").status_code == 302
    assert actions().count("auth.second_step_failed") >= 2


def test_a_recovery_code_works_once(client, enrolled):
    agent, _secret, codes = enrolled
    password_step(client, agent)
    assert client.submit("/staff/login/code", {"code": codes[0].upper()}).status_code == 303
    assert client.get("/agent").status_code == 200
    assert "auth.recovery_code_used" in actions()
    client.submit("/logout")

    password_step(client, agent)
    assert client.submit("/staff/login/code", {"code": codes[0]}).status_code == 401
    assert client.get("/agent").status_code == 302


def test_new_recovery_codes_replace_the_old_ones(client, login, enrolled):
    agent, secret, codes = enrolled
    password_step(client, agent)
    client.submit("/staff/login/code", {"code": next_code(secret)})
    page = client.submit("/account/security/recovery-codes").get_data(as_text=True)
    fresh = re.findall(r"<code>([a-z2-9]{5}-[a-z2-9]{5})</code>", page)
    assert len(fresh) == 10 and not set(fresh) & set(codes)
    client.submit("/logout")
    password_step(client, agent)
    assert client.submit("/staff/login/code", {"code": codes[1]}).status_code == 401
    assert client.submit("/staff/login/code", {"code": fresh[1]}).status_code == 303


def test_five_wrong_codes_lock_the_second_step(client, enrolled):
    agent, secret, _codes = enrolled
    password_step(client, agent)
    for _ in range(5):
        assert client.submit("/staff/login/code", {"code": wrong_code(secret)}).status_code == 401
    blocked = client.submit("/staff/login/code", {"code": next_code(secret)})
    assert blocked.status_code == 401
    assert actions()[-1] == "auth.second_step_blocked"
    assert client.get("/agent").status_code == 302


def test_the_code_form_has_its_own_limit_per_address(app, client, enrolled):
    agent, secret, _codes = enrolled
    app.config["SECOND_STEP_RATE_LIMIT"] = "3 per 10 minutes"
    password_step(client, agent)
    for _ in range(3):
        client.submit("/staff/login/code", {"code": "abcde-fghij"})
    assert client.submit("/staff/login/code", {"code": next_code(secret)}).status_code == 429


def test_the_code_page_without_a_password_first_goes_back_to_sign_in(client):
    response = client.get("/staff/login/code")
    assert response.status_code == 303 and response.location.endswith("/staff/login")


def test_a_required_role_is_sent_to_enrolment_after_the_password(client, login):
    admin = make_staff(Role.ADMIN)
    agent = make_staff(email="must-enrol@staff.test")
    login(agent)  # signed in before the rule
    login(admin)
    client.submit("/admin/security", {"agent": "y"})
    assert twofactor.required_roles() == {Role.AGENT}

    client.submit("/logout")
    response = password_step(client, agent)
    assert response.location.endswith("/staff/login/setup")
    assert client.get("/agent").status_code == 302  # nothing else until it is set up
    client.submit("/staff/login/setup", {"action": "start"})
    page = client.get("/staff/login/setup").get_data(as_text=True)
    secret = re.search(r'class="token-value totp-secret">([A-Z2-7]+)<', page).group(1)
    done = client.submit("/staff/login/setup", {"action": "confirm", "code": code_at(secret)})
    assert done.status_code == 200 and "recovery-codes" in done.get_data(as_text=True)
    assert client.get("/agent").status_code == 200
    # A required role cannot turn it off.
    client.submit("/account/security/authenticator/off", {"code": code_at(secret, 30)})
    db.session.expire_all()
    assert db.session.get(StaffUser, agent.id).has_totp


def test_turning_the_rule_on_signs_out_staff_without_two_step(client, login):
    admin = make_staff(Role.ADMIN)
    agent = make_staff()
    login(agent)
    assert client.get("/agent").status_code == 200
    with client.application.app_context():
        twofactor.set_required_roles({Role.AGENT}, actor=admin, ip=None)
        db.session.commit()
    assert client.get("/agent").status_code == 302


def test_an_admin_reset_clears_the_key_and_signs_the_user_out(client, login, enrolled):
    agent, _secret, _codes = enrolled
    admin = make_staff(Role.ADMIN)
    login(admin)
    client.submit(f"/admin/staff/{agent.id}/two-factor/reset")
    db.session.expire_all()
    user = db.session.get(StaffUser, agent.id)
    assert not user.has_totp and user.totp_secret is None
    assert db.session.scalar(select(RecoveryCode.id).where(RecoveryCode.staff_id == agent.id)) is None
    assert "auth.totp_disabled" in actions()


def test_agents_may_not_change_the_rule(client, login_as):
    login_as("agent")
    assert client.get("/admin/security").status_code == 403
    assert client.submit("/admin/security", {"agent": "y"}).status_code == 403
