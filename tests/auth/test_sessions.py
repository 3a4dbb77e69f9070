"""Sign-in sessions kept on the server: listed, ended by their owner or an administrator, ended by
deactivation, idleness and age, and refused at once by another web process on the same database."""

from datetime import timedelta

import pytest
from sqlalchemy import select

from helpdesk import create_app
from helpdesk.auth.models import Role, SignInSession
from helpdesk.extensions import db
from tests.factories import PASSWORD, make_staff

FIREFOX = "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:128.0) Gecko/20100101 Firefox/128.0"
SAFARI_PHONE = (
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 "
    "(KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1"
)


def browser(app, agent: str, ip: str):
    """Another browser (own cookies) with its own User-Agent and address."""
    other = app.test_client()
    other.environ_base.update({"HTTP_USER_AGENT": agent, "REMOTE_ADDR": ip, "HTTP_ACCEPT_LANGUAGE": "en"})
    return other


def sign_in(client, user) -> None:
    response = client.submit("/staff/login", {"email": user.email, "password": PASSWORD})
    assert response.status_code in (302, 303), response.get_data(as_text=True)[:300]


@pytest.fixture
def two_browsers(app, client):
    """An agent signed in on a Windows laptop and on an iPhone."""
    agent = make_staff()
    laptop = browser(app, FIREFOX, "10.0.0.7")
    phone = browser(app, SAFARI_PHONE, "10.0.0.8")
    sign_in(laptop, agent)
    sign_in(phone, agent)
    return agent, laptop, phone


def records(user) -> list[SignInSession]:
    db.session.expire_all()
    return list(db.session.scalars(select(SignInSession).where(SignInSession.user_ref == user.get_id())))


def test_the_list_shows_device_address_and_method_and_marks_this_browser(two_browsers):
    _agent, laptop, _phone = two_browsers
    page = laptop.get("/account/security").get_data(as_text=True)
    assert "Firefox on Windows" in page and "Safari on iOS" in page
    assert "10.0.0.7" in page and "10.0.0.8" in page
    assert page.count("/end") == 2  # the phone's "End" button and "sign out everywhere else"


def test_ending_a_session_signs_that_browser_out_on_its_next_request(client, two_browsers):
    agent, laptop, phone = two_browsers
    assert phone.get("/agent").status_code == 200
    phone_session = next(r for r in records(agent) if "iPhone" in r.user_agent)
    assert laptop.submit(f"/account/sessions/{phone_session.id}/end").status_code == 303
    assert phone.get("/agent").status_code == 302
    assert laptop.get("/agent").status_code == 200
    # Someone else's session id: not found, and nothing ended.
    other = make_staff()
    sign_in(client, other)
    theirs = records(other)[0]
    assert laptop.submit(f"/account/sessions/{theirs.id}/end").status_code == 404
    assert client.get("/agent").status_code == 200


def test_sign_out_everywhere_else_keeps_this_browser(two_browsers):
    _agent, laptop, phone = two_browsers
    laptop.submit("/account/sessions/end-others")
    assert phone.get("/agent").status_code == 302
    assert laptop.get("/agent").status_code == 200


def test_an_administrator_ends_all_sessions_of_a_user(app, client, login):
    agent = make_staff()
    phone = browser(app, SAFARI_PHONE, "10.0.0.8")
    sign_in(phone, agent)
    login(make_staff(Role.ADMIN))
    assert client.submit(f"/admin/staff/{agent.id}/sessions/end").status_code == 303
    assert phone.get("/agent").status_code == 302
    assert all(r.ended_at is not None for r in records(agent))


def test_deactivating_an_agent_stops_their_open_session_at_once(app, client, login):
    agent = make_staff()
    phone = browser(app, SAFARI_PHONE, "10.0.0.8")
    sign_in(phone, agent)
    assert phone.get("/agent").status_code == 200
    login(make_staff(Role.ADMIN))
    client.submit(f"/admin/staff/{agent.id}/active", {"active": "0"})
    assert phone.get("/agent").status_code == 302
    assert all(r.ended_at is not None for r in records(agent))


def test_signing_out_ends_the_record_so_a_copied_cookie_is_refused(app, client):
    agent = make_staff()
    sign_in(client, agent)
    stolen = client.get_cookie("session").value
    client.submit("/logout")
    thief = app.test_client()  # the Browser class, set by the client fixture
    thief.set_cookie("session", stolen)
    assert thief.get("/agent").status_code == 302


def test_idle_and_too_old_sessions_stop_working(app, client):
    agent = make_staff()
    sign_in(client, agent)
    idle = timedelta(minutes=app.config["SESSION_IDLE_MINUTES"] + 1)
    for record in records(agent):
        record.last_seen_at -= idle
    db.session.commit()
    assert client.get("/agent").status_code == 302

    sign_in(client, agent)
    old = timedelta(hours=app.config["SESSION_MAX_HOURS"], minutes=1)
    for record in records(agent):
        record.created_at -= old
    db.session.commit()
    assert client.get("/agent").status_code == 302


def test_a_session_ended_in_one_process_is_refused_in_another(app, app_config, client, login):
    """Two web processes: the second is a separate app on the same database (own engine and pool,
    own memory); the browser's cookie works on both until the first ends the session."""
    agent = make_staff()
    sign_in(client, agent)
    cookie = client.get_cookie("session").value
    second = create_app(app_config)
    second.test_client_class = type(client)
    other_process = second.test_client()
    other_process.set_cookie("session", cookie)
    assert other_process.get("/agent").status_code == 200

    login(make_staff(Role.ADMIN))  # the administrator, on the first process
    client.submit(f"/admin/staff/{agent.id}/sessions/end")
    assert other_process.get("/agent").status_code == 302
    with second.app_context():
        db.engine.dispose()


def test_last_seen_is_written_at_most_once_a_minute(app, client, queries):
    agent = make_staff()
    sign_in(client, agent)
    with queries() as statements:
        client.get("/account/security")
    assert not any("UPDATE sign_in_sessions" in s for s in statements)
    with client.session_transaction() as cookie:
        cookie["_seen"] -= 61
    with queries() as statements:
        client.get("/account/security")
    assert sum("UPDATE sign_in_sessions" in s for s in statements) == 1


def test_a_customer_sees_and_ends_their_own_sessions(app, client, login):
    from tests.factories import make_customer

    customer = make_customer()
    phone = browser(app, SAFARI_PHONE, "10.0.0.9")
    assert phone.submit("/login", {"email": customer.email, "password": PASSWORD}).status_code in (302, 303)
    login(customer)
    page = client.get("/portal/account").get_data(as_text=True)
    assert "10.0.0.9" in page
    phone_session = next(r for r in records(customer) if r.ip == "10.0.0.9")
    assert client.submit(f"/portal/sessions/{phone_session.id}/end").status_code == 303
    assert phone.get("/portal/cases").status_code == 302
    assert client.get("/portal/cases").status_code == 200
    # Staff pages stay closed to customers, and a staff member has no customer session page.
    assert client.get("/account/security").status_code == 403
