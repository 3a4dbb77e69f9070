"""The session cookie in production (HTTPS) and in development (plain http), as ASVS 3.4 asks:
``__Host-`` prefix, Secure, HttpOnly, SameSite=Lax, path "/", no Domain; and HSTS over HTTPS."""

import pytest

from helpdesk import create_app
from helpdesk.extensions import db
from tests.conftest import Browser
from tests.factories import PASSWORD, make_staff


@pytest.fixture
def production(app, app_config, monkeypatch):
    """A second app on the same database, started with HELPDESK_PRODUCTION=1, reached over HTTPS."""
    monkeypatch.setenv("HELPDESK_PRODUCTION", "1")
    served = create_app(app_config)
    served.test_client_class = Browser
    browser = served.test_client()
    browser.environ_base.update({"wsgi.url_scheme": "https", "HTTP_HOST": "helpdesk.example.test"})
    yield browser
    with served.app_context():
        db.engine.dispose()


def session_cookie_header(response) -> str:
    [header] = [h for h in response.headers.getlist("Set-Cookie") if "session=" in h]
    return header


def test_over_https_the_session_cookie_has_the_host_prefix_and_works(production):
    agent = make_staff()
    signed_in = production.submit("/staff/login", {"email": agent.email, "password": PASSWORD})
    assert signed_in.status_code == 302
    header = session_cookie_header(signed_in)
    assert header.startswith("__Host-session=")
    attributes = {part.strip().split("=")[0].lower() for part in header.split(";")[1:]}
    assert {"secure", "httponly", "path", "samesite"} <= attributes and "domain" not in attributes
    assert "Path=/" in header and "SameSite=Lax" in header
    assert production.get_cookie("session") is None
    assert production.get("/agent").status_code == 200  # the browser sends it back: signed in
    assert "max-age=31536000" in production.get("/agent").headers["Strict-Transport-Security"]


def test_in_development_the_cookie_keeps_its_plain_name_for_http(client):
    agent = make_staff()
    signed_in = client.submit("/staff/login", {"email": agent.email, "password": PASSWORD})
    header = session_cookie_header(signed_in)
    assert header.startswith("session=") and "Secure" not in header
    assert "Strict-Transport-Security" not in client.get("/agent").headers
    assert client.get("/agent").status_code == 200
