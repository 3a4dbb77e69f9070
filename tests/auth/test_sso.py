"""Staff single sign-on against a real OpenID Connect provider on 127.0.0.1 (tests/auth/oidc_provider.py):
the whole authorisation-code flow with PKCE over HTTP, and every way it must be refused."""

from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from sqlalchemy import select

from helpdesk import create_app
from helpdesk.audit.models import AuditEvent
from helpdesk.auth.models import Role, SignInSession, StaffUser
from helpdesk.extensions import db
from tests.auth.oidc_provider import CLIENT_ID, CLIENT_SECRET, OidcProvider, RunningProvider
from tests.conftest import Browser
from tests.factories import PASSWORD, make_staff
from tests.smtp_sink import free_port


@pytest.fixture
def provider():
    with RunningProvider(OidcProvider()) as running:
        yield running


def _sso_app(app_config: dict, issuer: str, **settings):
    app = create_app(
        {
            **app_config,
            "OIDC_ISSUER": issuer,
            "OIDC_CLIENT_ID": CLIENT_ID,
            "OIDC_CLIENT_SECRET": CLIENT_SECRET,
            "BASE_URL": "http://localhost",
            **settings,
        }
    )
    app.test_client_class = Browser
    return app


@pytest.fixture
def sso_app(app, app_config, provider, request):  # inside ``app``, which empties PostgreSQL after
    app = _sso_app(app_config, provider.url, **getattr(request, "param", {}))
    with app.app_context():
        yield app
        db.session.remove()
        db.engine.dispose()


def through_provider(client):
    """Press the button, let the provider answer (it signs in its user at once), come back."""
    start = client.get("/staff/login/sso")
    assert start.status_code == 302, start.get_data(as_text=True)[:300]
    sent = parse_qs(urlsplit(start.location).query)
    assert sent["code_challenge_method"] == ["S256"] and sent["state"] and sent["nonce"]
    at_provider = httpx.get(start.location, follow_redirects=False)
    assert at_provider.status_code == 302
    back = urlsplit(at_provider.headers["location"])
    return client.get(f"{back.path}?{back.query}")


def last_audit() -> str:
    return db.session.scalar(select(AuditEvent.action).order_by(AuditEvent.id.desc()).limit(1))


def test_a_known_agent_signs_in_through_the_provider(sso_app, provider):
    agent = make_staff(email=provider.email)
    client = sso_app.test_client()
    assert "/staff/login/sso" in client.get("/staff/login").get_data(as_text=True)
    response = through_provider(client)
    assert response.status_code == 303
    assert client.get("/agent").status_code == 200
    # PKCE: our verifier went to the token endpoint, and the provider checked it against the challenge.
    assert provider.token_requests[-1]["code_verifier"]
    record = db.session.scalar(select(SignInSession).where(SignInSession.user_ref == agent.get_id()))
    assert record.method == "sso"


@pytest.mark.parametrize(
    "knob",
    [
        {"wrong_nonce": True},
        {"audience": "someone-else"},
        {"expired": True},
        {"foreign_key": True},
    ],
    ids=["wrong nonce", "wrong audience", "expired token", "bad signature"],
)
def test_a_token_that_does_not_check_out_is_refused(sso_app, provider, knob):
    make_staff(email=provider.email)
    for name, value in knob.items():
        setattr(provider, name, value)
    client = sso_app.test_client()
    response = through_provider(client)
    assert response.status_code == 401
    assert client.get("/agent").status_code == 302
    assert last_audit() == "auth.sso_failed"


def test_a_forged_state_is_refused(sso_app, provider):
    make_staff(email=provider.email)
    client = sso_app.test_client()
    start = client.get("/staff/login/sso")
    at_provider = httpx.get(start.location, follow_redirects=False)
    back = urlsplit(at_provider.headers["location"])
    code = parse_qs(back.query)["code"][0]
    response = client.get(f"{back.path}?code={code}&state=forged")
    assert response.status_code == 401
    assert client.get("/agent").status_code == 302


def test_an_unverified_email_is_refused(sso_app, provider):
    make_staff(email=provider.email)
    provider.email_verified = False
    client = sso_app.test_client()
    response = through_provider(client)
    assert response.status_code == 401
    assert "verified" in response.get_data(as_text=True) or "يتحقق" in response.get_data(as_text=True)
    assert client.get("/agent").status_code == 302


def test_entra_ids_domain_verified_claim_counts_as_verified(sso_app, provider):
    make_staff(email=provider.email)
    provider.email_verified = None  # Entra ID sends no email_verified...
    provider.extra_claims = {"xms_edov": True}  # ...but this optional claim
    assert through_provider(sso_app.test_client()).status_code == 303


def test_an_unknown_email_is_refused_without_provisioning(sso_app, provider):
    client = sso_app.test_client()
    assert through_provider(client).status_code == 401
    assert db.session.scalar(select(StaffUser).where(StaffUser.email == provider.email)) is None
    assert last_audit() == "auth.sso_refused"


def test_a_deactivated_agent_is_refused(sso_app, provider):
    make_staff(email=provider.email, is_active=False)
    client = sso_app.test_client()
    assert through_provider(client).status_code == 401


@pytest.mark.parametrize(
    "sso_app", [{"OIDC_AUTO_PROVISION_DOMAINS": "staff.test", "OIDC_DEFAULT_ROLE": "agent"}], indirect=True
)
def test_an_allowed_domain_gets_an_account_at_first_sign_in(sso_app, provider):
    client = sso_app.test_client()
    assert through_provider(client).status_code == 303
    user = db.session.scalar(select(StaffUser).where(StaffUser.email == provider.email))
    assert user.role == Role.AGENT and user.name == provider.name and user.password_hash is None
    assert client.get("/agent").status_code == 200


@pytest.mark.parametrize("sso_app", [{"OIDC_AUTO_PROVISION_DOMAINS": "other.test"}], indirect=True)
def test_another_domain_is_not_provisioned(sso_app, provider):
    client = sso_app.test_client()
    assert through_provider(client).status_code == 401


@pytest.mark.parametrize("sso_app", [{"SSO_ONLY": True}], indirect=True)
def test_sso_only_turns_staff_passwords_off(sso_app, provider):
    agent = make_staff(email=provider.email)
    client = sso_app.test_client()
    page = client.get("/staff/login").get_data(as_text=True)
    assert 'name="password"' not in page
    refused = client.submit("/staff/login", {"email": agent.email, "password": PASSWORD})
    assert refused.status_code == 403
    assert client.get("/agent").status_code == 302
    assert through_provider(client).status_code == 303


def test_a_provider_that_is_down_gets_a_clear_message(app, app_config):
    app = _sso_app(app_config, f"http://127.0.0.1:{free_port()}")
    with app.app_context():
        response = app.test_client().get("/staff/login/sso")
        assert response.status_code == 503
        assert "did not answer" in response.get_data(as_text=True) or "لم يستجب" in response.get_data(
            as_text=True
        )
        db.engine.dispose()


def test_without_settings_there_is_no_sso(client):
    assert client.get("/staff/login/sso").status_code == 404
    assert "/staff/login/sso" not in client.get("/staff/login").get_data(as_text=True)
