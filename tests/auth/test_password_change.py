"""Changing one's password on the account page (staff and customers): the current password first,
the new one twice; every other session ends at once, in every web process; the change is audited
and the owner is emailed in their language."""

from sqlalchemy import select

from helpdesk import create_app
from helpdesk.audit.models import AuditEvent
from helpdesk.auth.models import Role
from helpdesk.auth.notices import KIND
from helpdesk.auth.service import MAX_FAILED_SIGN_INS
from helpdesk.extensions import db
from helpdesk.mail.models import OutboundEmail
from tests.factories import PASSWORD, make_customer, make_staff

NEW = "saffron kettle over the dunes"


def notices_to(address: str) -> list[OutboundEmail]:
    return list(
        db.session.scalars(
            select(OutboundEmail).where(OutboundEmail.to == address, OutboundEmail.kind == KIND)
        )
    )


def actions() -> list[str]:
    return list(db.session.scalars(select(AuditEvent.action).order_by(AuditEvent.id)))


def change(client, url: str, current: str = PASSWORD, new: str = NEW, confirm: str | None = None):
    return client.submit(
        url, {"current_password": current, "password": new, "confirm": new if confirm is None else confirm}
    )


def test_a_staff_password_change_ends_other_sessions_in_every_process(app, app_config, client, login):
    agent = make_staff(Role.AGENT, language="ar")
    login(agent)
    # The same agent on a phone, served by a second web process on the same database.
    second = create_app(app_config)
    second.test_client_class = type(client)
    phone = second.test_client()
    assert phone.submit("/staff/login", {"email": agent.email, "password": PASSWORD}).status_code == 302
    assert phone.get("/agent").status_code == 200
    assert "/account/password" in client.get("/account/security").get_data(as_text=True)

    answer = change(client, "/account/password")

    assert answer.status_code == 303
    assert client.get("/agent").status_code == 200  # this browser stays signed in
    assert phone.get("/agent").status_code == 302  # the phone is out at once
    db.session.refresh(agent)
    assert agent.check_password(NEW) and not agent.check_password(PASSWORD)
    assert "auth.password_changed" in actions()
    [notice] = notices_to(agent.email)
    assert notice.subject == "تم تغيير كلمة المرور الخاصة بك"  # the agent's language
    assert "كلمة المرور" in notice.text and "/staff/login" in notice.text
    client.submit("/logout")
    assert client.submit("/staff/login", {"email": agent.email, "password": PASSWORD}).status_code == 401
    assert client.submit("/staff/login", {"email": agent.email, "password": NEW}).status_code == 302
    with second.app_context():
        db.engine.dispose()


def test_a_wrong_current_password_is_refused_audited_and_counts_towards_the_lockout(client, login):
    agent = make_staff(language="en")
    login(agent)
    answer = change(client, "/account/password", current="not my password at all")
    assert answer.status_code == 400
    assert "Your current password is not right." in answer.get_data(as_text=True)
    assert actions().count("auth.sign_in_failed") == 1
    for _ in range(MAX_FAILED_SIGN_INS - 1):
        change(client, "/account/password", current="not my password at all")
    locked = change(client, "/account/password")  # even the right one now waits
    assert "Too many failed sign-ins" in locked.get_data(as_text=True)
    db.session.refresh(agent)
    assert agent.check_password(PASSWORD) and notices_to(agent.email) == []


def test_the_new_password_must_follow_the_policy_and_match_its_repetition(client, login):
    agent = make_staff(language="en")
    login(agent)
    short = change(client, "/account/password", new="short pass")
    assert "Use at least 12 characters." in short.get_data(as_text=True)
    common = change(client, "/account/password", new="password1234")
    assert "too common or too easy to guess" in common.get_data(as_text=True)
    differ = change(client, "/account/password", confirm=NEW + "!")
    assert "The passwords differ." in differ.get_data(as_text=True)
    assert {short.status_code, common.status_code, differ.status_code} == {400}
    db.session.refresh(agent)
    assert agent.check_password(PASSWORD)


def test_the_policy_message_is_arabic_on_arabic_pages(client, login):
    agent = make_staff(language="ar")
    login(agent)
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "ar"
    page = change(client, "/account/password", new="qwertyuiop12").get_data(as_text=True)
    assert "كلمة المرور هذه شائعة" in page


def test_sso_only_staff_have_no_password_to_change(client, login):
    agent = make_staff(language="en")
    login(agent)
    agent.password_hash = None  # an account made at its first single sign-on
    db.session.commit()
    assert "/account/password" not in client.get("/account/security").get_data(as_text=True)
    assert change(client, "/account/password").status_code == 403


def test_a_customer_changes_their_password_on_the_account_page(app, client, login):
    customer = make_customer(language="en")
    login(customer)
    phone = app.test_client()
    phone.environ_base["REMOTE_ADDR"] = "10.1.1.1"
    assert phone.submit("/login", {"email": customer.email, "password": PASSWORD}).status_code == 302
    assert phone.get("/portal/cases").status_code == 200
    assert client.get("/portal/sessions").status_code == 301  # the old address of the page

    assert change(client, "/portal/account/password").status_code == 303

    assert client.get("/portal/cases").status_code == 200
    assert phone.get("/portal/cases").status_code == 302
    [notice] = notices_to(customer.email)
    assert notice.subject == "Your password was changed" and "/login" in notice.text


def test_a_customer_without_a_password_is_offered_to_set_one(client, login, app):
    customer = make_customer()
    login(customer)
    customer.password_hash = None  # signs in by emailed link
    db.session.commit()
    page = client.get("/portal/account").get_data(as_text=True)
    assert "/portal/account/password" not in page and "/password/reset" in page
    assert change(client, "/portal/account/password").status_code == 403
