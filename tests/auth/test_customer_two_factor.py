"""Two-step sign-in for customers who have a password: enrolment on the portal's account page (QR
code, key, first code, recovery codes), then the code after the password and after an emailed link;
the same rules as staff (tests/auth/test_two_factor.py), from the same code."""

import re

from sqlalchemy import select

from helpdesk.audit.models import AuditEvent
from helpdesk.auth.models import RecoveryCode, SignInSession
from helpdesk.extensions import db
from tests.auth.test_email_links import emailed_path
from tests.auth.test_two_factor import code_at, next_code, wrong_code
from tests.factories import PASSWORD, make_customer


def enrol_customer(client) -> tuple[str, list[str]]:
    page = client.get("/portal/account").get_data(as_text=True)
    assert "/portal/account/authenticator" in page
    client.submit("/portal/account/authenticator", {"action": "start"})
    page = client.get("/portal/account/authenticator").get_data(as_text=True)
    assert "<svg" in page  # the QR code, drawn by our server
    secret = re.search(r'class="token-value totp-secret">([A-Z2-7]+)<', page).group(1)
    wrong = client.submit("/portal/account/authenticator", {"action": "confirm", "code": wrong_code(secret)})
    assert wrong.status_code == 400
    done = client.submit("/portal/account/authenticator", {"action": "confirm", "code": code_at(secret)})
    assert done.status_code == 200
    codes = re.findall(r"<code>([a-z2-9]{5}-[a-z2-9]{5})</code>", done.get_data(as_text=True))
    assert len(codes) == 10
    return secret, codes


def password_step(client, customer):
    return client.submit("/login", {"email": customer.email, "password": PASSWORD})


def test_a_customer_turns_on_two_step_and_then_signs_in_with_a_code(client, login):
    customer = make_customer(language="en")
    login(customer)
    secret, _codes = enrol_customer(client)
    assert "Unused recovery codes: 10." in client.get("/portal/account").get_data(as_text=True)
    client.submit("/logout")

    first = password_step(client, customer)
    assert first.status_code == 303 and first.location.endswith("/login/code")
    assert client.get("/portal/cases").status_code == 302  # not signed in yet
    assert client.get("/staff/login/code").status_code == 303  # a customer's step is not a staff one
    password_step(client, customer)
    assert client.submit("/login/code", {"code": wrong_code(secret)}).status_code == 401
    code = next_code(secret)
    assert client.submit("/login/code", {"code": code}).status_code == 303
    assert client.get("/portal/cases").status_code == 200
    db.session.expire_all()
    methods = db.session.scalars(
        select(SignInSession.method).where(SignInSession.user_ref == customer.get_id())
    )
    assert "totp" in list(methods)
    client.submit("/logout")

    password_step(client, customer)  # the same code again: refused
    assert client.submit("/login/code", {"code": code}).status_code == 401
    assert client.get("/portal/cases").status_code == 302


def test_a_recovery_code_works_once_and_turning_off_needs_a_code(client, login):
    customer = make_customer(language="en")
    login(customer)
    secret, codes = enrol_customer(client)
    assert db.session.scalar(select(RecoveryCode.customer_id).limit(1)) == customer.id
    client.submit("/logout")
    password_step(client, customer)
    assert client.submit("/login/code", {"code": codes[0]}).status_code == 303
    client.submit("/logout")
    password_step(client, customer)
    assert client.submit("/login/code", {"code": codes[0]}).status_code == 401
    assert client.submit("/login/code", {"code": codes[1]}).status_code == 303

    client.submit("/portal/account/authenticator/off", {"code": "not-a-code"})
    db.session.refresh(customer)
    assert customer.has_totp
    client.submit("/portal/account/authenticator/off", {"code": next_code(secret)})
    db.session.refresh(customer)
    assert not customer.has_totp
    client.submit("/logout")
    assert password_step(client, customer).status_code == 302  # the password alone again


def test_an_emailed_sign_in_link_asks_for_the_code_too_and_stays_single_use(client, login):
    customer = make_customer(language="en")
    login(customer)
    secret, _codes = enrol_customer(client)
    client.submit("/logout")
    client.submit("/login/link", {"email": customer.email})
    path = emailed_path(customer.email)
    answer = client.submit(path)
    assert answer.status_code == 303 and answer.location.endswith("/login/code")
    assert client.get("/portal/cases").status_code == 302
    assert client.submit("/login/code", {"code": next_code(secret)}).status_code == 303
    assert client.get("/portal/cases").status_code == 200
    client.submit("/logout")
    assert client.submit(path).status_code == 400  # the link worked once
    actions = list(db.session.scalars(select(AuditEvent.action)))
    assert "auth.link_accepted" in actions


def test_a_customer_without_a_password_cannot_turn_it_on(client, login):
    customer = make_customer(language="en")
    login(customer)
    customer.password_hash = None  # signs in by emailed link only
    db.session.commit()
    assert "/portal/account/authenticator" not in client.get("/portal/account").get_data(as_text=True)
    refused = client.submit("/portal/account/authenticator", {"action": "start"}, follow_redirects=True)
    assert "Choose a password first" in refused.get_data(as_text=True)
    db.session.refresh(customer)
    assert customer.totp_secret is None


def test_erasing_a_customer_removes_their_authenticator_key_and_recovery_codes(client, login):
    from helpdesk.customers.privacy import erase_customer

    customer = make_customer(language="en")
    login(customer)
    enrol_customer(client)
    erase_customer(customer, actor=None)
    db.session.commit()
    db.session.refresh(customer)
    assert customer.totp_secret is None and not customer.has_totp
    assert db.session.scalar(select(RecoveryCode.id).where(RecoveryCode.customer_id == customer.id)) is None


def test_the_account_pages_use_a_fixed_number_of_queries(client, login, queries):
    """Staff's sign-in security page and the customer's account page, with two-step sign-in on."""
    from helpdesk.auth.models import Role
    from tests.auth.test_two_factor import enrol
    from tests.factories import make_staff

    agent = make_staff(Role.AGENT, language="en")
    login(agent)
    enrol(client)
    with queries() as staff_page:
        assert client.get("/account/security").status_code == 200
    client.submit("/logout")
    customer = make_customer(language="en")
    login(customer)
    enrol_customer(client)
    with queries() as customer_page:
        assert client.get("/portal/account").status_code == 200
    # The user with their session (one query), sessions, recovery codes; staff also passkeys and
    # the administrator's rule.
    assert len(staff_page) <= 5, staff_page
    assert len(customer_page) <= 3, customer_page


def test_an_administrator_resets_a_customers_two_step_sign_in(app, client, login):
    """For a customer who lost phone and recovery codes: off, signed out everywhere, emailed."""
    from helpdesk.auth.models import Role
    from helpdesk.auth.notices import KIND
    from helpdesk.mail.models import OutboundEmail
    from tests.factories import make_staff

    customer = make_customer(language="en")
    login(customer)
    secret, _codes = enrol_customer(client)
    client.submit("/logout")
    phone = app.test_client()  # the customer, still signed in on a phone
    password_step(phone, customer)
    assert phone.submit("/login/code", {"code": next_code(secret)}).status_code == 303
    assert phone.get("/portal/cases").status_code == 200
    login(make_staff(Role.ADMIN, language="en"))
    page = client.get(f"/admin/customers/{customer.id}").get_data(as_text=True)
    assert "Reset two-step sign-in" in page
    assert client.submit(f"/admin/customers/{customer.id}/two-factor/reset").status_code == 303
    db.session.refresh(customer)
    assert not customer.has_totp
    assert phone.get("/portal/cases").status_code == 302  # signed out everywhere
    page = client.get(f"/admin/customers/{customer.id}").get_data(as_text=True)
    assert "Reset two-step sign-in" not in page
    subjects = db.session.scalars(
        select(OutboundEmail.subject).where(OutboundEmail.to == customer.email, OutboundEmail.kind == KIND)
    )
    assert "Your two-step sign-in was reset" in list(subjects)
    client.submit("/logout")
    assert password_step(client, customer).status_code == 302  # the password alone again


def test_agents_cannot_reset_a_customers_two_step_sign_in(client, login):
    from tests.factories import make_staff

    customer = make_customer()
    login(make_staff())
    assert client.submit(f"/admin/customers/{customer.id}/two-factor/reset").status_code == 403
