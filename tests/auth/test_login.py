from sqlalchemy import select

from helpdesk.audit.models import AuditEvent
from helpdesk.auth.models import Role
from helpdesk.extensions import db
from tests.factories import PASSWORD, make_customer, make_staff


def test_staff_signs_in_and_lands_on_the_queue(client):
    agent = make_staff(Role.AGENT)
    response = client.submit("/staff/login", {"email": agent.email.upper(), "password": PASSWORD})
    assert response.status_code == 302
    assert response.headers["Location"] == "/agent"
    assert client.get("/agent").status_code == 200


def test_wrong_password_gives_a_generic_message_and_is_audited(client):
    agent = make_staff()
    response = client.submit("/staff/login", {"email": agent.email, "password": "nope"})
    assert response.status_code == 401
    page = response.get_data(as_text=True)
    assert "البريد الإلكتروني أو كلمة المرور غير صحيحة" in page
    unknown = client.submit("/staff/login", {"email": "ghost@x.test", "password": "nope"})
    assert unknown.status_code == 401
    assert "البريد الإلكتروني أو كلمة المرور غير صحيحة" in unknown.get_data(as_text=True)
    actions = db.session.scalars(select(AuditEvent.action)).all()
    assert actions.count("auth.sign_in_failed") == 2


def test_successful_sign_in_is_audited_with_address(client):
    agent = make_staff()
    client.submit("/staff/login", {"email": agent.email, "password": PASSWORD})
    event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "auth.sign_in"))
    assert event.actor == f"s:{agent.id}"
    assert event.ip == "127.0.0.1"


def test_customer_signs_in_by_any_of_their_addresses(client):
    customer = make_customer(email="Layla@Example.test")
    response = client.submit("/login", {"email": "layla@example.TEST", "password": PASSWORD})
    assert response.status_code == 302
    assert response.headers["Location"] == "/portal/cases"
    assert client.get("/portal/cases").status_code == 200
    assert customer.last_login_at is not None


def test_staff_credentials_do_not_work_on_customer_login(client):
    agent = make_staff()
    assert client.submit("/login", {"email": agent.email, "password": PASSWORD}).status_code == 401


def test_inactive_staff_cannot_sign_in(client):
    agent = make_staff(is_active=False)
    assert client.submit("/staff/login", {"email": agent.email, "password": PASSWORD}).status_code == 401


def test_sign_in_follows_only_local_next(client):
    agent = make_staff()
    ok = client.submit(
        "/staff/login", {"email": agent.email, "password": PASSWORD, "next": "/agent?view=mine"}
    )
    assert ok.headers["Location"] == "/agent?view=mine"
    client.submit("/logout")
    evil = client.submit(
        "/staff/login", {"email": agent.email, "password": PASSWORD, "next": "https://evil.test/"}
    )
    assert evil.headers["Location"] == "/agent"
    client.submit("/logout")
    evil2 = client.submit(
        "/staff/login", {"email": agent.email, "password": PASSWORD, "next": "//evil.test/"}
    )
    assert evil2.headers["Location"] == "/agent"


def test_sign_out_ends_the_session(client, login):
    login(make_staff())
    response = client.submit("/logout")
    assert response.status_code == 302
    assert client.get("/agent").status_code == 302


def test_session_of_deactivated_user_is_dropped(client, login):
    agent = make_staff()
    login(agent)
    agent.is_active = False
    db.session.commit()
    assert client.get("/agent").status_code == 302


def test_form_errors_return_400(client):
    response = client.submit("/staff/login", {"email": "not-an-email", "password": ""})
    assert response.status_code == 400
