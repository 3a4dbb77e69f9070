"""Sign-in defences: per-account lockout counted in the audit log, per-address rate limits."""

from datetime import timedelta

from sqlalchemy import select

from helpdesk.audit.models import AuditEvent
from helpdesk.extensions import db
from tests.factories import PASSWORD, make_customer, make_staff


def actions() -> list[str]:
    return list(db.session.scalars(select(AuditEvent.action).order_by(AuditEvent.id)))


def test_an_account_is_locked_for_a_while_after_five_failures(client):
    agent = make_staff(email="locked@example.test")
    for _ in range(5):
        response = client.submit("/staff/login", {"email": agent.email, "password": "wrong"})
        assert response.status_code == 401
    # Now even the right password is refused, with a message that says what to do.
    response = client.submit("/staff/login", {"email": agent.email, "password": PASSWORD})
    assert response.status_code == 429
    assert "Too many failed sign-ins" in response.get_data(as_text=True) or "محاولات" in response.get_data(
        as_text=True
    )
    assert actions()[-1] == "auth.sign_in_blocked"
    assert actions().count("auth.sign_in_failed") == 5

    # The window passes: the failures age out and the right password works again.
    for event in db.session.scalars(select(AuditEvent).where(AuditEvent.action == "auth.sign_in_failed")):
        event.created_at -= timedelta(minutes=16)
    db.session.commit()
    assert client.submit("/staff/login", {"email": agent.email, "password": PASSWORD}).status_code == 302


def test_unknown_and_known_addresses_are_locked_alike(client):
    for _ in range(5):
        client.submit("/login", {"email": "nobody@example.test", "password": "x"})
    assert client.submit("/login", {"email": "nobody@example.test", "password": "x"}).status_code == 429


def test_one_accounts_failures_do_not_lock_another(client):
    customer = make_customer(email="fine@example.test")
    for _ in range(5):
        client.submit("/login", {"email": "other@example.test", "password": "x"})
    assert client.submit("/login", {"email": customer.email, "password": PASSWORD}).status_code == 302


def test_sign_in_forms_are_rate_limited_per_address(app, client):
    app.config["SIGN_IN_RATE_LIMIT"] = "3 per minute"
    for n in range(3):
        response = client.submit("/login", {"email": f"u{n}@example.test", "password": "x"})
        assert response.status_code == 401
    response = client.submit("/login", {"email": "u9@example.test", "password": "x"})
    assert response.status_code == 429
    assert "Wait a few minutes" in response.get_data(as_text=True) or "انتظر" in response.get_data(
        as_text=True
    )
    # Reading the page is never limited, and other forms of the same kind share the budget.
    assert client.get("/login").status_code == 200
    assert client.submit("/password/reset", {"email": "u1@example.test"}).status_code == 429


def test_a_team_behind_one_office_address_all_sign_in_at_shift_start(app, client):
    app.config["SIGN_IN_RATE_LIMIT"] = "3 per minute"
    team = [make_staff() for _ in range(6)]
    for agent in team:
        response = client.submit("/staff/login", {"email": agent.email, "password": PASSWORD})
        assert response.status_code == 302, agent.email
        client.submit("/logout")
    assert actions().count("auth.sign_in") == 6


def test_failed_attempts_are_still_limited_per_address_after_successes(app, client):
    app.config["SIGN_IN_RATE_LIMIT"] = "3 per minute"
    agent = make_staff()
    assert client.submit("/staff/login", {"email": agent.email, "password": PASSWORD}).status_code == 302
    for n in range(3):
        response = client.submit("/login", {"email": f"guess{n}@example.test", "password": "x"})
        assert response.status_code == 401
    assert client.submit("/login", {"email": "guess9@example.test", "password": "x"}).status_code == 429
    # Another address has its own budget.
    other_office = {"REMOTE_ADDR": "192.0.2.7"}
    response = client.submit(
        "/staff/login", {"email": agent.email, "password": PASSWORD}, environ_base=other_office
    )
    assert response.status_code == 302


def test_a_successful_sign_in_clears_the_accounts_failed_attempts(client):
    agent = make_staff()
    for _ in range(4):
        assert client.submit("/staff/login", {"email": agent.email, "password": "typo"}).status_code == 401
    assert client.submit("/staff/login", {"email": agent.email, "password": PASSWORD}).status_code == 302
    client.submit("/logout")
    for _ in range(4):
        assert client.submit("/staff/login", {"email": agent.email, "password": "typo"}).status_code == 401
    assert client.submit("/staff/login", {"email": agent.email, "password": PASSWORD}).status_code == 302
