"""Passkey endpoints refuse what is not a signed answer to our challenge, with a clear message.
(The ceremony itself runs with Chromium's virtual authenticator: tests/e2e/test_sign_in_security.py.)"""

import json

from sqlalchemy import select

from helpdesk.audit.models import AuditEvent
from helpdesk.extensions import db
from tests.factories import make_staff


def post_json(client, url, body=None):
    token = client.csrf_token()
    return client.post(
        url, data=json.dumps(body or {}), content_type="application/json", headers={"X-CSRFToken": token}
    )


def test_sign_in_options_ask_for_any_passkey_of_this_site(client):
    options = post_json(client, "/staff/login/passkey/options").get_json()
    assert options["rpId"] == "127.0.0.1" or options["rpId"]
    assert options["allowCredentials"] == [] and options["userVerification"] == "required"


def test_an_answer_without_options_first_is_refused(client):
    response = post_json(client, "/staff/login/passkey", {"credential": {"rawId": "AAAA"}})
    assert response.status_code == 400 and response.get_json()["error"]


def test_an_unknown_credential_is_refused_and_audited(client):
    post_json(client, "/staff/login/passkey/options")
    response = post_json(client, "/staff/login/passkey", {"credential": {"rawId": "AAAA", "id": "AAAA"}})
    assert response.status_code == 401 and response.get_json()["error"]
    assert (
        db.session.scalar(select(AuditEvent.action).order_by(AuditEvent.id.desc())) == "auth.passkey_failed"
    )
    assert client.get("/agent").status_code == 302


def test_a_forged_registration_is_refused(client, login):
    login(make_staff())
    options = post_json(client, "/account/security/passkeys/options").get_json()
    assert options["authenticatorSelection"]["residentKey"] == "required"
    response = post_json(client, "/account/security/passkeys", {"name": "x", "credential": {"id": "AAAA"}})
    assert response.status_code == 400 and response.get_json()["error"]


def test_not_json_is_a_clear_400(client, login):
    login(make_staff())
    token = client.csrf_token()
    response = client.post("/account/security/passkeys", data="nope", headers={"X-CSRFToken": token})
    assert response.status_code == 400


def test_without_the_csrf_token_nothing_happens(client):
    response = client.post("/staff/login/passkey/options", json={})
    assert response.status_code == 400
